package runtime

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// The helpers the runtime's test files share: a store, a started server,
// one request, a log buffer.

// openStore opens the store at dsn, a fresh SQLite file in the test's
// temporary folder when dsn is "", and fails the test if it cannot. The
// caller closes it, when its server is done with it.
func openStore(t testing.TB, dsn string) store.Store {
	t.Helper()
	if dsn == "" {
		dsn = filepath.Join(t.TempDir(), "bifrost.db")
	}
	st, err := storeopen.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() }) // closing twice is harmless
	return st
}

// startServer makes a server of opts and starts its workers, failing the
// test if either step fails. The caller shuts it down (drain).
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return srv
}

// drain shuts srv down: records still queued are written, running
// executions finish or are handed back. Taking longer than within fails
// the test.
func drain(t testing.TB, srv *Server, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// send sends req with the default client and returns the answer, its body
// read whole.
func send(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
