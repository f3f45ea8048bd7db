package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "bifrost.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func open(t *testing.T, dsn string) *store.SQL {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t *testing.T, s store.Store) string {
	t.Helper()
	now := time.Now()
	e := &store.Execution{
		ID: uuid.Must(uuid.NewV7()).String(), Workflow: "orders", Mode: "sync", Status: store.Succeeded, Attempt: 1,
		Input: json.RawMessage(`{}`), Result: json.RawMessage(`1`), CreatedAt: now, StartedAt: now, FinishedAt: now,
	}
	if err := s.Record(t.Context(), []*store.Execution{e}); err != nil {
		t.Fatalf("Record: %v", err)
	}
	return e.ID
}

func TestOpenDSN(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // relative paths are relative to the working directory
	for _, tc := range []struct{ name, dsn, file string }{
		{"sqlite_colon_absolute", "sqlite:" + filepath.Join(dir, "a.db"), "a.db"},
		{"sqlite_colon_relative", "sqlite:b.db", "b.db"},
		{"sqlite_slashes_absolute", "sqlite://" + filepath.Join(dir, "c.db"), "c.db"},
		{"sqlite_slashes_relative", "sqlite://d.db", "d.db"},
		{"plain_absolute", filepath.Join(dir, "e.db"), "e.db"},
		{"plain_relative", "f.db", "f.db"},
		{"plain_in_subdirectory", filepath.Join("sub", "g.db"), filepath.Join("sub", "g.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.file, "sub") {
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			s := open(t, tc.dsn)
			if s.Kind() != "sqlite" {
				t.Errorf("Kind = %q, want sqlite", s.Kind())
			}
			id := record(t, s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			// The data is in the file the DSN names.
			path := filepath.Join(dir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("the store's file: %v", err)
			}
			if _, err := open(t, path).Get(t.Context(), id); err != nil {
				t.Errorf("Get from %s reopened: %v", path, err)
			}
		})
	}
}

func TestOpenDefault(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	record(t, open(t, ""))
	if _, err := os.Stat(filepath.Join(dir, store.DefaultDB)); err != nil {
		t.Errorf("Open(\"\") did not use %s in the working directory: %v", store.DefaultDB, err)
	}
}

func TestWALAndBusyTimeout(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "bifrost.db"))
	// Pragmas are per connection: hold several at once to see more than one.
	ctx := t.Context()
	for i := range 3 {
		conn, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var timeout int
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("connection %d: journal_mode = %q, want wal", i, mode)
		}
		if timeout < 1000 {
			t.Errorf("connection %d: busy_timeout = %d ms, want a few seconds", i, timeout)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bifrost.db")
	first := open(t, path)
	id := record(t, first)
	count := func(s store.Store) int {
		t.Helper()
		var n int
		if err := s.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM bifrost_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	applied := count(first)
	if applied == 0 {
		t.Fatal("no migration recorded")
	}
	// A second Open while the first is still open, then one after it closed.
	second := open(t, path)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	third := open(t, "sqlite:"+path)
	if n := count(third); n != applied {
		t.Errorf("%d migrations recorded after reopening, want %d", n, applied)
	}
	if _, err := third.Get(t.Context(), id); err != nil {
		t.Errorf("Get after reopening: %v", err)
	}
	if err := third.Migrate(t.Context()); err != nil {
		t.Errorf("Migrate again: %v", err)
	}
}

func TestOpenRefusesPostgresWithoutThePassword(t *testing.T) {
	const password = "s3cr3t-Pa55"
	dir := t.TempDir()
	t.Chdir(dir)
	for _, dsn := range []string{
		"postgres://bifrost:" + password + "@db.example:5432/bifrost",
		"postgresql://bifrost:" + password + "@db.example/bifrost?sslmode=disable",
		"postgres://bifrost:p@" + password + "@db.example/bifrost",
		"postgres://db.example/bifrost?user=bifrost&password=" + password,
		"postgres://db.example/bifrost?sslmode=require&password=" + password + "&application_name=bifrost",
	} {
		s, err := store.Open(context.Background(), dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(postgres DSN) succeeded, want it refused")
			continue
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("Open refused a postgres DSN with a message holding the password: %v", err)
		}
		if errors.Is(err, store.ErrNotFound) {
			t.Errorf("unexpected ErrNotFound: %v", err)
		}
	}
	// Nor did it create a SQLite file named after the DSN.
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refusing postgres left files behind: %v", entries)
	}
}
