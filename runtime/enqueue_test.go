package runtime

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the user's own pool on the PostgreSQL database

	"github.com/bifrost-go/bifrost"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// Typed enqueue (enqueue.go) in the caller's transaction, on a pool the
// caller opened itself on the store's database, as an application keeping
// its own tables beside Bifrost's would: the execution and its River job
// commit with the caller's rows, and a worker runs it then; a rollback
// leaves nothing to run.

func TestEnqueueInCallersTxSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bifrost.db")
	st := openStore(t, path)
	own, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	enqueueInTx(t, st, own)
}

func TestEnqueueInCallersTxPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	st := openStore(t, url)
	own, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	enqueueInTx(t, st, own)
}

func enqueueInTx(t *testing.T, st store.Store, own *sql.DB) {
	ctx := context.Background()
	ran := make(chan string, 4)
	wf := asyncWorkflow("ship", 0, time.Minute, func(_ context.Context, a *jobArgs) (bind.Result, error) {
		ran <- a.Value
		return bind.JSON(200, a.Value), nil
	})
	srv := startServer(t, Options{Workflows: []*Workflow{wf}, Store: st, Workers: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer drain(t, srv, 30*time.Second)
	if _, err := own.ExecContext(ctx, `CREATE TABLE orders (id TEXT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}

	start := func(order string, commit bool) string {
		t.Helper()
		tx, err := own.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id) VALUES ('`+order+`')`); err != nil {
			t.Fatal(err)
		}
		id, err := srv.Enqueue(ctx, "ship", &jobArgs{Value: order}, WithTx(tx))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-ran:
			t.Fatalf("%s ran before its transaction committed", v)
		case <-time.After(500 * time.Millisecond):
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}

	rolledBack := start("o-1", false)
	if _, err := st.Get(ctx, rolledBack); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the execution of a rolled back transaction: %v, want not found", err)
	}
	id := start("o-2", true)
	select {
	case v := <-ran:
		if v != "o-2" {
			t.Errorf("ran %s, want o-2", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the committed execution did not run within 10s")
	}
	e, err := srv.engine.wait(ctx, id, 10*time.Second)
	if err != nil || e.Status != store.Succeeded || e.Trigger != store.TriggerEnqueue {
		t.Fatalf("execution %s: %+v, %v", id, e, err)
	}
	select {
	case v := <-ran:
		t.Errorf("%s ran, but its transaction was rolled back", v)
	case <-time.After(300 * time.Millisecond):
	}
}

// Enqueue refuses what an HTTP call could not start.
func TestEnqueueRefuses(t *testing.T) {
	run := func(context.Context, *jobArgs) (bind.Result, error) { return bind.NoContent(), nil }
	sync := asyncWorkflow("sync", 0, time.Minute, run)
	sync.Mode = "sync"
	srv := startServer(t, Options{Workflows: []*Workflow{asyncWorkflow("a", 0, time.Minute, run), sync}, Store: openStore(t, ""),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxPendingPerWorkflow: 1, BodyLimit: 64})
	defer drain(t, srv, 30*time.Second)
	ctx := context.Background()
	for name, err := range map[string]error{
		"no such workflow": func() error { _, err := srv.Enqueue(ctx, "nope", &jobArgs{}); return err }(),
		"a sync workflow":  func() error { _, err := srv.Enqueue(ctx, "sync", &jobArgs{}); return err }(),
		"an input over the body limit": func() error {
			_, err := srv.Enqueue(ctx, "a", &jobArgs{Value: string(make([]byte, 64))})
			return err
		}(),
		"a key with a NUL byte": func() error {
			_, err := srv.Enqueue(ctx, "a", &jobArgs{}, WithIdempotencyKey("a\x00b"))
			return err
		}(),
		"a long key": func() error {
			_, err := srv.Enqueue(ctx, "a", &jobArgs{}, WithIdempotencyKey(string(make([]byte, 256))))
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: enqueued", name)
		}
	}
	// No workers: the first stays pending, the second is past the cap.
	if _, err := srv.Enqueue(ctx, "a", &jobArgs{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the pending counts are read at most once a second
	if _, err := srv.Enqueue(ctx, "a", &jobArgs{}); !errors.Is(err, ErrTooManyPending) {
		t.Errorf("past the cap: %v, want ErrTooManyPending", err)
	}
}

// An async workflow starts another through ClientFrom: the worker's
// context carries the server too.
func TestClientFromInAWorker(t *testing.T) {
	child := make(chan string, 1)
	wfs := []*Workflow{
		asyncWorkflow("parent", 0, time.Minute, func(ctx context.Context, a *jobArgs) (bind.Result, error) {
			id, err := ClientFrom(ctx).Enqueue(ctx, "child", &jobArgs{Value: "from " + bifrost.ExecutionID(ctx)})
			return bind.JSON(200, id), err
		}),
		asyncWorkflow("child", 0, time.Minute, func(_ context.Context, a *jobArgs) (bind.Result, error) {
			child <- a.Value
			return bind.NoContent(), nil
		}),
	}
	srv := startServer(t, Options{Workflows: wfs, Store: openStore(t, ""), Workers: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer drain(t, srv, 30*time.Second)
	if ClientFrom(context.Background()) != nil {
		t.Error("ClientFrom outside an execution is not nil")
	}
	parent, err := srv.Enqueue(context.Background(), "parent", &jobArgs{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-child:
		if v != "from "+parent {
			t.Errorf("the child got %q, want from %s", v, parent)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the child did not run within 10s")
	}
}
