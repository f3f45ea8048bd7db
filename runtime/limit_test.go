package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

// TestStoredSizesAreCapped (round 2, finding 4): a sync call's input, result
// and logs are stored up to Options.StoreLimit, each past it marked as
// truncated with its size and first KiB; a small call is stored whole.
func TestStoredSizesAreCapped(t *testing.T) {
	st := openTestStore(t)
	echo := &Workflow{
		Spec:   workflow.Spec{Name: "echo", Endpoint: true, Public: true, Methods: []string{"POST"}, Timeout: time.Minute, Body: workflow.BodyRaw},
		Decode: func(in *bind.Input) (bind.Args, error) { return &echoArgs{Body: string(in.Body())}, nil },
	}
	srv, err := New(Options{Workflows: []*Workflow{echo}, Store: st, StoreLimit: 16 << 10, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	url := startHandler(t, srv)
	call := func(body string) string {
		resp, err := http.Post(url+"/api/endpoints/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		id := resp.Header.Get(HeaderExecutionID)
		awaitRecorded(t, st, id)
		return id
	}
	big, small := call(strings.Repeat("x", 1<<20)), call("tiny")

	e, err := st.Get(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]json.RawMessage{"input": e.Input, "result": e.Result} {
		var cut truncated
		if err := json.Unmarshal(raw, &cut); err != nil || !cut.Truncated || cut.Size < 1<<20 || len(cut.Preview) != previewBytes {
			t.Errorf("%s of the big call: %.200s", name, raw)
		}
	}
	logBytes, _ := json.Marshal(e.Logs)
	if len(logBytes) > 32<<10 || e.Logs[len(e.Logs)-1].Message != "log lines past the cap were dropped" {
		t.Errorf("logs of the big call: %d bytes, %d lines, last %q", len(logBytes), len(e.Logs), e.Logs[len(e.Logs)-1].Message)
	}
	e, err = st.Get(context.Background(), small)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Result), `"echo":"tiny"`) || strings.Contains(string(e.Input), "truncated") {
		t.Errorf("the small call was not stored whole: %s %s", e.Input, e.Result)
	}
}

type echoArgs struct {
	Body string `json:"body"`
}

// Invoke logs 100 lines of up to 2,000 bytes of the body and answers it.
func (a *echoArgs) Invoke(ctx context.Context) (bind.Result, error) {
	for range 100 {
		bifrost.Logger(ctx).Info("line", "body", a.Body[:min(len(a.Body), 2000)])
	}
	return bind.JSON(200, map[string]string{"echo": a.Body}), nil
}

// TestUnrenderableRecord: a record stored before the depth limit, nested
// deeper than encoding/json reads, is shown with a marker; the page that
// holds it is a 200.
func TestUnrenderableRecord(t *testing.T) {
	deep := json.RawMessage(strings.Repeat("[", 11000) + strings.Repeat("]", 11000))
	v := viewOf(&store.Execution{ID: "x", Input: deep, Result: json.RawMessage(`{"ok":true}`), CreatedAt: time.Now()})
	out, err := json.Marshal(v)
	if err != nil || !strings.Contains(string(out), "cannot be shown") || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("%v: %.300s", err, out)
	}
}
