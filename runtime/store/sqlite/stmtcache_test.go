package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	msqlite "modernc.org/sqlite"
)

// openCached is a pool of one connection whose cache holds size statements,
// with the connections it opened, to look into their caches.
func openCached(t *testing.T, size int) (*sql.DB, *[]*cachingConn) {
	t.Helper()
	connector, err := msqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "cache.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []*cachingConn
	)
	db := sql.OpenDB(recordingConnector{cachingConnector{Connector: connector, size: size}, func(c *cachingConn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db, &conns
}

type recordingConnector struct {
	cachingConnector
	opened func(*cachingConn)
}

func (r recordingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.cachingConnector.Connect(ctx)
	if err == nil {
		r.opened(c.(*cachingConn))
	}
	return c, err
}

func cached(c *cachingConn) []string {
	var out []string
	for e := c.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*cachedStmt).query)
	}
	return out
}

func ids(t *testing.T, rows *sql.Rows) []int {
	t.Helper()
	defer rows.Close()
	var out []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStmtCacheReuses: a repeated query runs on the statement prepared the
// first time, with its new arguments.
func TestStmtCacheReuses(t *testing.T) {
	db, conns := openCached(t, 8)
	const q = `SELECT v FROM t WHERE id = ?`
	var first, again string
	if err := db.QueryRow(q, 1).Scan(&first); err != nil {
		t.Fatal(err)
	}
	c := (*conns)[0]
	s := c.byQuery[q].Value.(*cachedStmt)
	if err := db.QueryRow(q, 2).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if first != "v1" || again != "v2" {
		t.Errorf("got %q, %q; want v1, v2", first, again)
	}
	if c.byQuery[q].Value.(*cachedStmt) != s {
		t.Error("the second call prepared the query again")
	}
	if len(*conns) != 1 {
		t.Fatalf("%d connections, want 1", len(*conns))
	}
}

// TestStmtCacheOpenRows: a query repeated while the rows of its cached
// statement are open (two queries within one transaction) runs on its own
// statement, and neither reading disturbs the other.
func TestStmtCacheOpenRows(t *testing.T) {
	db, conns := openCached(t, 8)
	const q = `SELECT id FROM t WHERE id >= ? ORDER BY id`
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for outer.Next() {
		var id int
		if err := outer.Scan(&id); err != nil {
			t.Fatal(err)
		}
		// The same text, and an exec, while outer is open on the cached statement.
		inner := ids(t, must(tx.Query(q, 3)))
		if fmt.Sprint(inner) != "[3 4]" {
			t.Fatalf("inner query: %v, want [3 4]", inner)
		}
		if _, err := tx.Exec(`UPDATE t SET v = v || '.' WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Errorf("outer query: %v, want [0 1 2 3 4]", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Closed, the cached statement serves again.
	s := (*conns)[0].byQuery[q].Value.(*cachedStmt)
	if s.open {
		t.Error("the statement is still marked open after its rows closed")
	}
	if got := ids(t, must(db.Query(q, 4))); fmt.Sprint(got) != "[4]" {
		t.Errorf("after: %v, want [4]", got)
	}
}

// TestStmtCacheEvicts: the cache keeps the most recently used statements; a
// statement evicted while its rows are open closes with them, and its rows
// read to the end.
func TestStmtCacheEvicts(t *testing.T) {
	db, conns := openCached(t, 2)
	c := (*conns)[0]
	query := func(n int) string { return fmt.Sprintf(`SELECT id FROM t WHERE id >= %d ORDER BY id`, n) }
	for n := range 3 {
		if got := ids(t, must(db.Query(query(n)))); len(got) != 5-n {
			t.Fatalf("%s: %v", query(n), got)
		}
	}
	if got := fmt.Sprint(cached(c)); got != fmt.Sprint([]string{query(2), query(1)}) {
		t.Errorf("cached %s, want the two most recent", got)
	}

	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(t.Context(), query(1))
	if err != nil {
		t.Fatal(err)
	}
	s := c.byQuery[query(1)].Value.(*cachedStmt)
	var got []int
	for i := 0; rows.Next(); i++ {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
		if i == 0 { // push query(1) out while its rows are open
			for _, n := range []int{3, 4} {
				if ids := ids(t, must(conn.QueryContext(t.Context(), query(n)))); len(ids) != 5-n {
					t.Fatalf("%s: %v", query(n), ids)
				}
			}
			if !s.dropped || s.stmt == nil {
				t.Fatal("the open statement was not set aside")
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1 2 3 4]" {
		t.Errorf("rows of the evicted statement: %v, want [1 2 3 4]", got)
	}
	if _, ok := c.byQuery[query(1)]; ok {
		t.Error("the evicted statement is still cached")
	}
	if c.lru.Len() != 2 || len(c.byQuery) != 2 {
		t.Errorf("cache holds %d (%d by query), want 2", c.lru.Len(), len(c.byQuery))
	}
}

// TestStmtCacheClose: closing the pool closes each connection's statements.
func TestStmtCacheClose(t *testing.T) {
	db, conns := openCached(t, 8)
	if got := ids(t, must(db.Query(`SELECT id FROM t`))); len(got) != 5 {
		t.Fatal(got)
	}
	c := (*conns)[0]
	if c.lru.Len() == 0 {
		t.Fatal("nothing cached")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if c.lru.Len() != 0 || len(c.byQuery) != 0 {
		t.Errorf("%d statements left after Close", c.lru.Len())
	}
}

// TestStmtCacheErrors: a statement that does not prepare is not cached; one
// that fails as it runs stays usable.
func TestStmtCacheErrors(t *testing.T) {
	db, conns := openCached(t, 8)
	if _, err := db.Exec(`INSERT INTO nowhere VALUES (1)`); err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	if _, ok := (*conns)[0].byQuery[`INSERT INTO nowhere VALUES (1)`]; ok {
		t.Error("a statement that failed to prepare is cached")
	}
	const q = `INSERT INTO t (id, v) VALUES (?, ?)`
	if _, err := db.Exec(q, 1, "dup"); err == nil {
		t.Fatal("a duplicate id was inserted")
	}
	if _, err := db.Exec(q, 9, "nine"); err != nil {
		t.Fatalf("the statement after its failure: %v", err)
	}
	// A context that ends leaves the statement usable too.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.ExecContext(ctx, q, 10, "ten"); err == nil {
		t.Fatal("an exec with an ended context succeeded")
	}
	if _, err := db.Exec(q, 10, "ten"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 7 {
		t.Fatalf("%d rows (%v), want 7", n, err)
	}
}

// TestStmtCacheConcurrent: many goroutines over a few connections, reading
// and writing the same statements (run with -race).
func TestStmtCacheConcurrent(t *testing.T) {
	db, _ := openCached(t, 4)
	db.SetMaxOpenConns(4)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				id := 100 + g*100 + i
				if _, err := db.Exec(`INSERT INTO t (id, v) VALUES (?, ?)`, id, "x"); err != nil {
					errs <- err
					return
				}
				rows, err := db.Query(fmt.Sprintf(`SELECT id FROM t WHERE id >= ? AND %d = %d`, i%6, i%6), id)
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				if n == 0 {
					errs <- fmt.Errorf("row %d not read back", id)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
