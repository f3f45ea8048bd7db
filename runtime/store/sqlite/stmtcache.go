package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
)

// The driver (modernc.org/sqlite) parses and plans every statement that is
// not prepared, at each call: under load that was half the process's CPU,
// most of it River's (its completer updates jobs one statement each). No
// option of the driver or of database/sql keeps statements prepared for
// callers that pass query text, as River and the store do, so the store's
// connections do it themselves: each keeps its most recent statements
// prepared, by query text, and runs a repeated text on its statement.
//
// database/sql holds a connection's lock around every call into it (Exec,
// Query, a Rows' Next and Close, Close), so a connection and its cache are
// used by one goroutine at a time and need no lock of their own.

// stmtCacheSize bounds the statements each connection keeps prepared: the
// store's and the queue's fixed statements fit with room for the varying
// ones (lists by filter, grouped inserts by size) to come and go.
const stmtCacheSize = 128

// cachingConnector opens the driver's connections with a statement cache.
type cachingConnector struct {
	driver.Connector
	size int
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(innerConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: the driver's connection lacks a context method the store needs")
	}
	return &cachingConn{innerConn: inner, size: c.size, byQuery: map[string]*list.Element{}}, nil
}

// innerConn is what the driver's connections implement, and what a
// wrapper must pass on so that database/sql keeps using the context-aware
// methods (modernc.org/sqlite's NewConnector says so).
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type innerStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachedStmt is a prepared statement of the cache.
type cachedStmt struct {
	query string
	stmt  innerStmt
	// open: a Rows reads from it. The driver resets the statement when the
	// Rows closes; until then a call of the same text prepares its own.
	open bool
	// dropped: evicted while open; it closes with its Rows.
	dropped bool
}

// cachingConn is a driver connection with its statements kept prepared.
type cachingConn struct {
	innerConn
	size    int
	lru     list.List // of *cachedStmt, the most recently used first
	byQuery map[string]*list.Element
}

// Unwrap is the driver's connection, for the driver's functions that take
// a *sql.Conn (sqlite.Limit) and see through wrappers this way.
func (c *cachingConn) Unwrap() driver.Conn { return c.innerConn }

// stmt is the prepared statement of query, nil when the cached one is
// open (the caller then runs the query unprepared).
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		s := e.Value.(*cachedStmt)
		if s.open {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return s, nil
	}
	ds, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	is, ok := ds.(innerStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	s := &cachedStmt{query: query, stmt: is}
	c.byQuery[query] = c.lru.PushFront(s)
	for c.lru.Len() > c.size {
		c.evict(c.lru.Back())
	}
	return s, nil
}

func (c *cachingConn) evict(e *list.Element) {
	s := c.lru.Remove(e).(*cachedStmt)
	delete(c.byQuery, s.query)
	if s.open {
		s.dropped = true
		return
	}
	s.stmt.Close()
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.open = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// Close closes the cached statements, then the connection. database/sql
// closes a connection only once its Rows are closed.
func (c *cachingConn) Close() error {
	for e := c.lru.Front(); e != nil; e = c.lru.Front() {
		c.evict(e)
	}
	return c.innerConn.Close()
}

// cachedRows are the rows of a cached statement: closing them frees the
// statement for the next call (or closes it, if it was evicted meanwhile).
type cachedRows struct {
	driver.Rows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.s.open = false
	if r.s.dropped {
		if cerr := r.s.stmt.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// The driver's rows describe their columns; a wrapper that hid these would
// change what sql.Rows.ColumnTypes reports.

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
