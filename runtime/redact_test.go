package runtime

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// requestArgs are the args bifrostgen generates for a workflow taking
// *bifrost.Request and http.Header.
type requestArgs struct {
	Request *bifrost.Request `json:"request,omitempty"`
	Header  http.Header      `json:"header,omitempty"`
}

func (a *requestArgs) Invoke(ctx context.Context) (bind.Result, error) {
	return bind.JSON(200, map[string]any{"authorization": a.Request.Header.Get("Authorization"), "cookie": a.Header.Get("Cookie")}), nil
}

// TestHeadersNeverStored (round 2, finding 2): a public workflow taking
// *bifrost.Request sees the caller's Authorization and Cookie, but the
// record keeps neither, nor a header named in Options.RedactHeaders; an
// async one's stored input has them removed too.
func TestHeadersNeverStored(t *testing.T) {
	st := openTestStore(t)
	wf := func(name string, mode workflow.Mode) *Workflow {
		return &Workflow{
			Spec: workflow.Spec{Name: name, Endpoint: true, Public: true, Methods: []string{"POST"}, Mode: mode,
				Timeout: time.Minute, Body: workflow.BodyRaw},
			Decode: func(in *bind.Input) (bind.Args, error) {
				return &requestArgs{Request: in.Request, Header: in.Request.Header}, nil
			},
			NewArgs: func() bind.Args { return new(requestArgs) },
		}
	}
	srv, err := New(Options{Workflows: []*Workflow{wf("sees", workflow.Sync), wf("later", workflow.Async)}, Store: st,
		RedactHeaders: []string{"x-partner-token"}, Workers: 1, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	url := startHandler(t, srv)
	secrets := map[string]string{"Authorization": "Basic c2VuZGVyOnB3", "Cookie": "session=s3cr3t-cookie",
		"X-Partner-Token": "partner-s3cr3t", "Proxy-Authorization": "Bearer proxy-s3cr3t"}
	post := func(name string) (int, http.Header, string) {
		req, _ := http.NewRequest("POST", url+"/api/endpoints/"+name, strings.NewReader(`{"a":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Kept", "visible")
		for k, v := range secrets {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header, b.String()
	}
	status, h, body := post("sees")
	if status != 200 || !strings.Contains(body, "Basic c2VuZGVyOnB3") || !strings.Contains(body, "s3cr3t-cookie") {
		t.Fatalf("the workflow did not see the headers: %d %s", status, body)
	}
	syncID := h.Get(HeaderExecutionID)
	status, h, _ = post("later")
	if status != http.StatusAccepted {
		t.Fatalf("async: %d", status)
	}
	for _, id := range []string{syncID, h.Get(HeaderExecutionID)} {
		awaitRecorded(t, st, id)
		e, err := st.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range secrets { // the result is the workflow's to choose; what it was given is not stored
			if bytes.Contains(e.Input, []byte(v)) {
				t.Errorf("execution %s keeps %q: %s", e.Workflow, v, e.Input)
			}
		}
		if !bytes.Contains(e.Input, []byte("visible")) {
			t.Errorf("execution %s lost the other headers: %s", e.Workflow, e.Input)
		}
	}
}
