package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/workflow"
)

// screenshots is where TestBrowser writes the PNGs docs/ shows:
//
//	go test ./runtime/internal/dashboard -run TestBrowser -screenshots "$PWD/docs/img"
//
// (make screenshots). Empty: none are written.
var screenshots = flag.String("screenshots", "", "write the dashboard's screenshots (list.png, execution.png) into this folder")

const envKey = "bf-browser-test-env-key-0123456789"

// orderArgs are the test workflows' inputs, as a generated args struct.
type orderArgs struct {
	Order int    `json:"order"`
	Card  string `json:"card,omitempty"`
	run   func(ctx context.Context, a *orderArgs) (bind.Result, error)
}

func (a *orderArgs) Invoke(ctx context.Context) (bind.Result, error) { return a.run(ctx, a) }

// testWorkflow is an endpoint workflow of mode whose runs call run.
func testWorkflow(name string, mode workflow.Mode, run func(ctx context.Context, a *orderArgs) (bind.Result, error)) *runtime.Workflow {
	newArgs := func() bind.Args { return &orderArgs{run: run} }
	return &runtime.Workflow{
		Spec: workflow.Spec{Name: name, Package: "example.com/shop", Func: name, Endpoint: true, Methods: []string{"POST"},
			Mode: mode, Timeout: time.Minute, Body: workflow.BodyDecoded, Summary: "A test workflow."},
		Decode: func(in *bind.Input) (bind.Args, error) {
			a := newArgs()
			if err := json.Unmarshal(in.Body(), a); err != nil {
				return nil, &bifrost.Error{Status: 400, Detail: "malformed JSON"}
			}
			return a, nil
		},
		NewArgs: newArgs,
	}
}

func chargeCard(ctx context.Context, a *orderArgs) (bind.Result, error) {
	log := bifrost.Logger(ctx)
	log.Info("charging card", "order", a.Order)
	time.Sleep(150 * time.Millisecond) // so the page shows it running
	if a.Card == "declined" {
		log.Warn("card declined", "order", a.Order)
		return bind.Result{}, errors.New("the card was declined")
	}
	log.Info("charged", "order", a.Order, "amount_cents", 1299)
	return bind.JSON(200, map[string]any{"order": a.Order, "charged": true}), nil
}

func quote(ctx context.Context, a *orderArgs) (bind.Result, error) {
	bifrost.Logger(ctx).Info("quoting", "order", a.Order)
	return bind.JSON(200, map[string]any{"order": a.Order, "total_cents": 1299}), nil
}

// chromium is the browser: $CHROMIUM, else chromium on $PATH (CI installs
// Debian's); the test is skipped without one.
func chromium(t *testing.T) string {
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium; or set CHROMIUM)")
	return ""
}

// serve starts a server with the test workflows on a fresh SQLite store,
// and some executions to look at.
func serve(t *testing.T) string {
	st, err := storeopen.Open(context.Background(), filepath.Join(t.TempDir(), "bifrost.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Options{
		Workflows: []*runtime.Workflow{testWorkflow("charge_card", workflow.Async, chargeCard), testWorkflow("quote", workflow.Sync, quote)},
		Logger:    slog.New(slog.DiscardHandler), Store: st, Workers: 2, Auth: &auth.Config{EnvKey: envKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		st.Close()
	})
	return ts.URL
}
