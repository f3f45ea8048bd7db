package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/sqlite"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, storetest.Driver{Open: func(t *testing.T) (store.Store, *sql.DB) {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "bifrost.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s, s.DB()
	}})
}

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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
	id := storetest.RecordOne(t, first)
	count := func(s *sqlite.Store) int {
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
	third := open(t, path)
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

// TestFileModes: a new database, its WAL files and a folder it had to make
// are its owner's only; an existing file keeps its mode.
func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "nested")
	path := filepath.Join(dir, "bifrost.db")
	s := open(t, path)
	storetest.RecordOne(t, s) // the -wal and -shm files exist while the store is open
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(f), mode)
		}
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		info, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o700 {
			t.Errorf("folder %s: mode %o, want 700", d, mode)
		}
	}

	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil { // past the umask
		t.Fatal(err)
	}
	storetest.RecordOne(t, open(t, shared))
	info, err := os.Stat(shared)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o640 {
		t.Errorf("an existing file's mode: %o, want 640 kept", mode)
	}
}
