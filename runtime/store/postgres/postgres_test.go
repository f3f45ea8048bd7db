package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/postgres"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// The PostgreSQL half of the store's tests: each test gets a fresh database
// (storetest.PostgresURL), and all of them skip, saying why, without
// BIFROST_TEST_POSTGRES_URL.

func TestPostgres(t *testing.T) {
	storetest.PostgresURL(t) // skip early, once, without the variable
	storetest.Run(t, storetest.Driver{Shared: true, Open: func(t *testing.T) (store.Store, *sql.DB) {
		s, err := postgres.Open(t.Context(), storetest.PostgresURL(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s, s.DB()
	}})
}

// TestPostgresConcurrentMigrations: replicas starting together on an empty
// database take turns under the migration lock; each ends up with the whole
// schema, applied once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	const replicas = 8
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var applied, distinct int
	if err := stores[0].DB().QueryRowContext(t.Context(),
		`SELECT COUNT(*), COUNT(DISTINCT version) FROM bifrost_migrations`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied == 0 || applied != distinct {
		t.Errorf("%d migrations recorded, %d distinct: want each once", applied, distinct)
	}
	for i, s := range stores {
		storetest.RecordOne(t, s) // every replica can use the schema
		if err := s.Migrate(t.Context()); err != nil {
			t.Errorf("store %d: Migrate again: %v", i, err)
		}
	}
}

// TestPostgresIdempotencyAcrossReplicas: two stores (two pools, as two
// replicas have) accept the same idempotency key at once, many times over;
// each round records one execution, and no Accept fails.
func TestPostgresIdempotencyAcrossReplicas(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	a, b := open(t, dsn), open(t, dsn)
	enqueue := func(ctx context.Context, tx *sql.Tx, fresh []*store.Execution) ([]int64, error) {
		ids := make([]int64, len(fresh))
		for i := range fresh {
			ids[i] = int64(i + 1)
		}
		return ids, nil
	}
	for round := range 20 {
		key := fmt.Sprintf("k-%d", round)
		var wg sync.WaitGroup
		got := make([]store.Accepted, 8)
		errs := make([]error, 8)
		for i := range 8 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				// A batch with two keys, in either order, as two replicas'
				// batchers may send them: the locks may not deadlock.
				other := async("orders", "key_1", key+"-other")
				e := async("orders", "key_1", key)
				batch := []*store.Execution{e, other}
				if i%3 == 0 {
					batch = []*store.Execution{other, e}
				}
				res, err := s.Accept(t.Context(), batch, enqueue)
				errs[i] = err
				if err == nil {
					for j, r := range res {
						if batch[j] == e {
							got[i] = r
						}
					}
				}
			})
		}
		wg.Wait()
		ids, fresh := map[string]bool{}, 0
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: Accept %d: %v", round, i, err)
			}
			ids[got[i].Execution.ID] = true
			if !got[i].Duplicate {
				fresh++
			}
		}
		if len(ids) != 1 || fresh != 1 {
			t.Fatalf("round %d: %d executions, %d fresh; want 1 and 1", round, len(ids), fresh)
		}
	}
}

func async(workflow, credential, key string) *store.Execution {
	e := &store.Execution{
		Workflow: workflow, Mode: "async", Status: store.Pending, Input: json.RawMessage(`{}`),
		Credential: credential, IdempotencyKey: key, CreatedAt: time.Now(),
	}
	e.ID = uuid.Must(uuid.NewV7()).String()
	return e
}

// TestPostgresListenEnded: an execution that ends through one store is
// announced to a listener on another, with its id; one that only changes
// attempt, or is cancelled, is announced only when it reaches its end.
func TestPostgresListenEnded(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	a, b := open(t, dsn), open(t, dsn)
	ended := make(chan string, 16)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.ListenEnded(ctx, slog.New(slog.DiscardHandler), func(id string) { ended <- id }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenEnded: %v", err)
		}
	}()

	accept := func() *store.Execution {
		e := async("orders", "", "")
		if _, err := a.Accept(t.Context(), []*store.Execution{e}, func(context.Context, *sql.Tx, []*store.Execution) ([]int64, error) {
			return []int64{1}, nil
		}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// The listener is ready once a first end arrives.
	ready := accept()
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		if _, err := a.Cancel(t.Context(), ready.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-ended:
			got = id == ready.ID
		case <-time.After(200 * time.Millisecond):
			ready = accept() // cancelled before the LISTEN: try another
		case <-deadline:
			t.Fatal("no notification within 10s")
		}
	}

	e := accept()
	if _, err := a.Start(t.Context(), e.ID, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.Status, e.Attempt, e.Error = store.Pending, 1, "retry" // a failed attempt: not the end
	if err := a.Finish(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-ended:
		t.Fatalf("notified %s for an attempt that did not end the execution", id)
	case <-time.After(300 * time.Millisecond):
	}
	e.Status, e.Attempt, e.Error, e.Result, e.FinishedAt = store.Succeeded, 2, "", json.RawMessage(`1`), time.Now()
	if err := a.Finish(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	storetest.WantEnded(t, ended, e.ID)
}

// TestPostgresConfig: configuration values are shared through the database.
func TestPostgresConfig(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	a, b := open(t, dsn), open(t, dsn)
	at := time.Now()
	for _, c := range []*store.ConfigValue{
		{Name: "greeting", Value: "hello", UpdatedAt: at},
		{Name: "api_token", Value: "c2VhbGVk", Secret: true, KeyID: "k1", UpdatedAt: at},
	} {
		if err := a.SetConfig(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.SetConfig(t.Context(), &store.ConfigValue{Name: "greeting", Value: "hi", UpdatedAt: at.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetConfig(t.Context(), "greeting")
	if err != nil || got.Value != "hi" || got.Secret || !got.UpdatedAt.Equal(at.Add(time.Second).Truncate(time.Microsecond)) {
		t.Errorf("GetConfig(greeting) = %+v, %v; want hi", got, err)
	}
	list, err := b.ListConfig(t.Context())
	if err != nil || len(list) != 2 || list[0].Name != "api_token" || !list[0].Secret || list[0].KeyID != "k1" {
		t.Errorf("ListConfig = %+v, %v", list, err)
	}
	if err := b.DeleteConfig(t.Context(), "greeting"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetConfig(t.Context(), "greeting"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetConfig after delete: %v, want ErrNotFound", err)
	}
	if err := a.DeleteConfig(t.Context(), "greeting"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteConfig twice: %v, want ErrNotFound", err)
	}
}

// TestPostgresPoolSize: pool_max_conns sizes the pool and is not passed to
// the server; a bad value is refused without the password.
func TestPostgresPoolSize(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s := open(t, dsn+sep+"pool_max_conns=3")
	if n := s.DB().Stats().MaxOpenConnections; n != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", n)
	}
	storetest.RecordOne(t, s)
	if _, err := postgres.Open(t.Context(), dsn+sep+"pool_max_conns=zero"); err == nil || !strings.Contains(err.Error(), "pool_max_conns") {
		t.Errorf("Open with pool_max_conns=zero: %v; want it refused", err)
	}
	def := open(t, dsn)
	if n := def.DB().Stats().MaxOpenConnections; n != postgres.DefaultPoolSize {
		t.Errorf("MaxOpenConnections = %d, want %d", n, postgres.DefaultPoolSize)
	}
}

// TestPostgresUnreachable: a database that does not answer is an error that
// does not show the password.
func TestPostgresUnreachable(t *testing.T) {
	const password = "s3cr3t-Pa55"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, "postgres://bifrost:"+password+"@127.0.0.1:1/bifrost?connect_timeout=2")
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestPostgresStaleAttempt: a Finish of an attempt older than the one that
// has started since (its worker was taken for dead and another re-ran it)
// does not overwrite the record.
func TestPostgresStaleAttempt(t *testing.T) {
	s := open(t, storetest.PostgresURL(t))
	e := async("orders", "", "")
	if _, err := s.Accept(t.Context(), []*store.Execution{e}, func(context.Context, *sql.Tx, []*store.Execution) ([]int64, error) {
		return []int64{1}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(t.Context(), e.ID, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(t.Context(), e.ID, 2, time.Now()); err != nil { // the re-run
		t.Fatal(err)
	}
	stale := *e
	stale.Status, stale.Attempt, stale.Result, stale.FinishedAt = store.Succeeded, 1, json.RawMessage(`"first"`), time.Now()
	if err := s.Finish(t.Context(), &stale); !errors.Is(err, store.ErrStaleAttempt) {
		t.Errorf("Finish of attempt 1 after attempt 2 started: %v; want ErrStaleAttempt", err)
	}
	if got, err := s.Get(t.Context(), e.ID); err != nil || got.Status != store.Running || got.Attempt != 2 {
		t.Errorf("after the stale Finish: %+v, %v; want running, attempt 2", got, err)
	}
	current := stale
	current.Attempt, current.Result = 2, json.RawMessage(`"second"`)
	if err := s.Finish(t.Context(), &current); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(t.Context(), e.ID); got.Status != store.Succeeded || string(got.Result) != `"second"` {
		t.Errorf("after attempt 2's Finish: %s %s; want succeeded \"second\"", got.Status, got.Result)
	}
	unknown := current
	unknown.ID = "nope"
	if err := s.Finish(t.Context(), &unknown); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Finish of an unknown id: %v; want ErrNotFound", err)
	}
}

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
