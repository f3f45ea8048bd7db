package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresEnv names the variable that turns the PostgreSQL tests on: the URL
// of a role that may create databases, such as
// postgres://bifrost:bifrost@127.0.0.1:5432/postgres.
const PostgresEnv = "BIFROST_TEST_POSTGRES_URL"

// PostgresURL creates a fresh database (bifrost_test_<random>) through the
// admin URL in BIFROST_TEST_POSTGRES_URL, drops it when the test ends, and
// returns its URL. Without the variable it skips the test, saying so.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		t.Skip("PostgreSQL tests skipped: set " + PostgresEnv + " (e.g. postgres://bifrost:bifrost@127.0.0.1:5432/postgres) to run them")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: not a URL: %v", PostgresEnv, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "bifrost_test_" + hex.EncodeToString(b[:])

	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create the test database through %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends the test's own connections; an autovacuum worker busy
		// in the database is the server's, which a role without superuser
		// may not end (SQLSTATE 42501): it finishes in moments, so retry.
		for try := 0; ; try++ {
			_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			if err == nil {
				return
			}
			if try == 20 || !strings.Contains(err.Error(), "42501") {
				t.Errorf("drop %s: %v", name, err)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	u.Path = "/" + name
	return u.String()
}
