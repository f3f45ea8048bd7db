package storeopen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/sqlite"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// open opens a store through storeopen, as the commands do.
func open(t *testing.T, dsn string) *sqlite.Store {
	t.Helper()
	st, err := storeopen.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { st.Close() })
	s, ok := st.(*sqlite.Store)
	if !ok {
		t.Fatalf("Open(%q) = %T, want a SQLite store", dsn, st)
	}
	return s
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
			id := storetest.RecordOne(t, s)
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
	storetest.RecordOne(t, open(t, ""))
	if _, err := os.Stat(filepath.Join(dir, store.DefaultDB)); err != nil {
		t.Errorf("Open(\"\") did not use %s in the working directory: %v", store.DefaultDB, err)
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
		s, err := storeopen.Open(context.Background(), dsn)
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

// TestDurable: ?synchronous=full on a SQLite dsn (what serve --durable
// adds) makes every commit sync the file; without it the store runs NORMAL.
func TestDurable(t *testing.T) {
	for dsn, want := range map[string]int{"plain.db": 1, "full.db" + storeopen.DurableSuffix: 2} {
		path := filepath.Join(t.TempDir(), dsn)
		st, err := storeopen.Open(t.Context(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := st.(*sqlite.Store).DB().QueryRowContext(t.Context(), "PRAGMA synchronous").Scan(&got); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if got != want {
			t.Errorf("%s: synchronous = %d, want %d", dsn, got, want)
		}
		if _, err := os.Stat(strings.TrimSuffix(path, storeopen.DurableSuffix)); err != nil {
			t.Errorf("%s: the file is not where the path says: %v", dsn, err)
		}
	}
}
