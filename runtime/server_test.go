package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// argsFunc is a hand-written Args: the workflow call itself.
type argsFunc func(ctx context.Context) (bind.Result, error)

func (f argsFunc) Invoke(ctx context.Context) (bind.Result, error) { return f(ctx) }

// constant is a Decode that ignores the request and runs f.
func constant(f argsFunc) func(*bind.Input) (bind.Args, error) {
	return func(*bind.Input) (bind.Args, error) { return f, nil }
}

// decodeGreeting reads name from the query or a JSON body {"name": "..."},
// the way a generated decoder would, naming the bad field.
func decodeGreeting(in *bind.Input) (bind.Args, error) {
	name, _ := in.Query("name")
	if in.Kind == bind.JSONBody {
		var body struct {
			Name *json.RawMessage `json:"name"`
		}
		if err := json.Unmarshal(in.Body(), &body); err != nil {
			return nil, &bifrost.Error{Status: http.StatusBadRequest, Detail: "the body is not valid JSON",
				Errors: []bifrost.FieldError{{Location: "body", Message: "malformed JSON"}}}
		}
		if body.Name != nil {
			if err := json.Unmarshal(*body.Name, &name); err != nil {
				return nil, &bifrost.Error{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "1 invalid input",
					Errors: []bifrost.FieldError{{Location: "body.name", Message: "expected string"}}}
			}
		}
	}
	if in.Kind == bind.FormBody {
		if v, ok := in.Form("name"); ok {
			name = v
		}
	}
	return argsFunc(func(ctx context.Context) (bind.Result, error) {
		bifrost.Logger(ctx).Info("greeting", "name_length", len(name))
		return bind.JSON(http.StatusOK, map[string]string{"greeting": "hello, " + name, "execution_id": bifrost.ExecutionID(ctx)}), nil
	}), nil
}

// testWorkflows are public: these tests hold the HTTP semantics of the
// endpoint line; auth_test.go holds authentication.
func testWorkflows() []*Workflow {
	wfs := []*Workflow{
		{
			Spec: workflow.Spec{
				Name:     "hello",
				Func:     "Hello",
				Package:  "example.com/app",
				Endpoint: true,
				Methods:  []string{"GET", "POST"},
				Body:     workflow.BodyDecoded,
				Timeout:  time.Minute,
			},
			Decode: decodeGreeting,
		},
		{
			Spec: workflow.Spec{
				Name:     "create",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.JSON(http.StatusCreated, map[string]int{"id": 7}), nil
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "nothing",
				Endpoint: true,
				Methods:  []string{"DELETE"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.NoContent(), nil
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "xml",
				Endpoint: true,
				Methods:  []string{"POST"},
				Body:     workflow.BodyRaw,
			},
			Decode: func(in *bind.Input) (bind.Args, error) {
				body := in.Body()
				return argsFunc(func(context.Context) (bind.Result, error) {
					return bind.Raw(&bifrost.Response{Status: http.StatusAccepted, ContentType: "text/xml",
						Header: http.Header{"X-Custom": {"yes"}, HeaderExecutionID: {"forged"}},
						Body:   append([]byte("<echo>"), append(body, "</echo>"...)...)}), nil
				}), nil
			},
		},
		{
			Spec: workflow.Spec{
				Name:     "bytes",
				Endpoint: true,
				Methods:  []string{"GET"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.Raw(&bifrost.Response{Body: []byte{1, 2, 3}}), nil
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "ignores_body",
				Endpoint: true,
				Methods:  []string{"POST"},
				Body:     workflow.BodyIgnored,
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.JSON(http.StatusOK, true), nil
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "plain_decode_error",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: func(*bind.Input) (bind.Args, error) {
				return nil, errors.New("limit must be a number")
			},
		},
		{
			Spec: workflow.Spec{
				Name:     "unprocessable",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.Result{}, bifrost.Errorf(http.StatusUnprocessableEntity, "order %d is closed", 7)
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "wrapped_error",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.Result{}, errors.Join(errors.New("context"), &bifrost.Error{Status: http.StatusConflict, Detail: "already exists"})
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "fails",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.Result{}, errors.New("connect to db: password hunter2 rejected")
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "panics",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				panic("secret panic value")
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "decode_panics",
				Endpoint: true,
				Methods:  []string{"POST"},
			},
			Decode: func(*bind.Input) (bind.Args, error) {
				panic("secret decoder panic")
			},
		},
		{
			Spec: workflow.Spec{
				Name:     "slow",
				Endpoint: true,
				Methods:  []string{"POST"},
				Timeout:  50 * time.Millisecond,
			},
			Decode: constant(func(ctx context.Context) (bind.Result, error) {
				<-ctx.Done()
				return bind.Result{}, ctx.Err()
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "slow_but_ok",
				Endpoint: true,
				Methods:  []string{"POST"},
				Timeout:  50 * time.Millisecond,
			},
			Decode: constant(func(ctx context.Context) (bind.Result, error) {
				<-ctx.Done()
				return bind.JSON(http.StatusOK, "late"), nil
			}),
		},
		{
			Spec: workflow.Spec{
				Name:     "bad_json",
				Endpoint: true,
				Methods:  []string{"GET"},
			},
			Decode: constant(func(context.Context) (bind.Result, error) {
				return bind.JSON(http.StatusOK, make(chan int)), nil
			}),
		},
		{Spec: workflow.Spec{Name: "background", Func: "Background"}}, // a workflow without an endpoint
	}
	for _, wf := range wfs {
		wf.Public = wf.Endpoint
	}
	return wfs
}

// lines returns the JSON log lines, decoded.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newTestServer(t *testing.T, opts Options) (*httptest.Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Workflows == nil {
		opts.Workflows = testWorkflows()
	}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = s.Shutdown(context.Background())
	})
	return ts, logs
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, ts *httptest.Server, method, path, contentType, body string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func checkExecutionID(t *testing.T, id string) {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("%s = %q: not a UUID: %v", HeaderExecutionID, id, err)
	}
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 || len(id) != 36 {
		t.Fatalf("%s = %q: version %d variant %s, want a UUIDv7", HeaderExecutionID, id, u.Version(), u.Variant())
	}
}

// wantProblem is what a problem body must hold; Detail is a substring.
type wantProblem struct {
	title  string // default: the status text
	detail string
	errors []bifrost.FieldError
}

func TestEndpoints(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	tests := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string

		status   int
		wantType string            // wanted Content-Type
		header   map[string]string // wanted headers ("" = absent)
		execID   bool              // X-Bifrost-Execution-Id: a UUIDv7
		jsonBody string            // wanted JSON body (compared as JSON)
		rawBody  string            // wanted bytes
		problem  *wantProblem
		hidden   []string // what the body must not contain
	}{
		{name: "200 JSON from the query", method: "GET", path: "/api/endpoints/hello?name=ada",
			status: 200, wantType: "application/json", execID: true, jsonBody: `{"greeting":"hello, ada"}`},
		{name: "200 JSON from a JSON body", method: "POST", path: "/api/endpoints/hello", contentType: "application/json", body: `{"name":"bob"}`,
			status: 200, wantType: "application/json", execID: true, jsonBody: `{"greeting":"hello, bob"}`},
		{name: "200 JSON from a +json body", method: "POST", path: "/api/endpoints/hello", contentType: "application/vnd.api+json; charset=utf-8", body: `{"name":"eve"}`,
			status: 200, wantType: "application/json", execID: true, jsonBody: `{"greeting":"hello, eve"}`},
		{name: "200 JSON from a form", method: "POST", path: "/api/endpoints/hello", contentType: "application/x-www-form-urlencoded", body: `name=slack`,
			status: 200, wantType: "application/json", execID: true, jsonBody: `{"greeting":"hello, slack"}`},
		{name: "201 via the status", method: "POST", path: "/api/endpoints/create",
			status: 201, wantType: "application/json", execID: true, jsonBody: `{"id":7}`},
		{name: "204 without a body", method: "DELETE", path: "/api/endpoints/nothing",
			status: 204, wantType: "", execID: true, rawBody: ""},
		{name: "raw response with its content type and headers", method: "POST", path: "/api/endpoints/xml", contentType: "text/plain", body: "hi",
			status: 202, wantType: "text/xml", execID: true, header: map[string]string{"X-Custom": "yes"}, rawBody: "<echo>hi</echo>"},
		{name: "raw bytes default to octet-stream", method: "GET", path: "/api/endpoints/bytes",
			status: 200, wantType: "application/octet-stream", execID: true, rawBody: "\x01\x02\x03"},
		{name: "an ignored body may have any type", method: "POST", path: "/api/endpoints/ignores_body", contentType: "text/plain", body: "whatever",
			status: 200, wantType: "application/json", execID: true, jsonBody: `true`},

		{name: "404 unknown workflow", method: "POST", path: "/api/endpoints/missing",
			status: 404, wantType: ContentTypeProblem, problem: &wantProblem{detail: `"missing"`}},
		{name: "404 workflow without endpoint", method: "POST", path: "/api/endpoints/background",
			status: 404, wantType: ContentTypeProblem, problem: &wantProblem{}},
		{name: "404 unknown route", method: "GET", path: "/nowhere",
			status: 404, wantType: ContentTypeProblem, problem: &wantProblem{}},
		{name: "405 with Allow", method: "PUT", path: "/api/endpoints/hello",
			status: 405, wantType: ContentTypeProblem, header: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}, problem: &wantProblem{}},
		{name: "405 for HEAD", method: "HEAD", path: "/api/endpoints/create",
			status: 405, header: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "HEAD answers like GET, without a body", method: "HEAD", path: "/api/endpoints/hello?name=ada",
			status: 200, wantType: "application/json", execID: true},
		{name: "OPTIONS answers 204 with Allow", method: "OPTIONS", path: "/api/endpoints/hello",
			status: 204, header: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{name: "OPTIONS on an unknown workflow", method: "OPTIONS", path: "/api/endpoints/missing",
			status: 404, wantType: ContentTypeProblem, problem: &wantProblem{}},
		{name: "405 for a method echo does not know", method: "FROB", path: "/api/endpoints/hello",
			status: 405, wantType: ContentTypeProblem, header: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}, problem: &wantProblem{}},
		{name: "415 text on a decoded body", method: "POST", path: "/api/endpoints/hello", contentType: "text/plain", body: "name=x",
			status: 415, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "application/json, application/*+json or application/x-www-form-urlencoded"}},
		{name: "415 without a content type", method: "POST", path: "/api/endpoints/hello", body: `{"name":"x"}`,
			status: 415, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{}},
		{name: "400 from Decode names the field", method: "POST", path: "/api/endpoints/hello", contentType: "application/json", body: `{"name":5}`,
			status: 400, wantType: ContentTypeProblem, execID: true,
			problem: &wantProblem{detail: "1 invalid input", errors: []bifrost.FieldError{{Location: "body.name", Message: "expected string"}}}},
		{name: "400 from a malformed form", method: "POST", path: "/api/endpoints/hello", contentType: "application/x-www-form-urlencoded", body: `name=%zz`,
			status: 400, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{errors: []bifrost.FieldError{{Location: "body", Message: "malformed form encoding"}}}},
		{name: "400 from a plain Decode error", method: "POST", path: "/api/endpoints/plain_decode_error",
			status: 400, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "limit must be a number"}},
		{name: "422 from bifrost.Errorf", method: "POST", path: "/api/endpoints/unprocessable",
			status: 422, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "order 7 is closed"}},
		{name: "a wrapped bifrost.Error keeps its status", method: "POST", path: "/api/endpoints/wrapped_error",
			status: 409, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "already exists"}},
		{name: "500 hides the error", method: "POST", path: "/api/endpoints/fails",
			status: 500, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "has the details"},
			hidden: []string{"hunter2", "connect to"}},
		{name: "500 hides the panic", method: "POST", path: "/api/endpoints/panics",
			status: 500, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "has the details"},
			hidden: []string{"secret", "panic value", "goroutine"}},
		{name: "500 hides a decoder panic", method: "POST", path: "/api/endpoints/decode_panics",
			status: 500, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{}, hidden: []string{"secret"}},
		{name: "500 for a result that is not JSON", method: "GET", path: "/api/endpoints/bad_json",
			status: 500, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{}, hidden: []string{"chan"}},
		{name: "504 after the timeout", method: "POST", path: "/api/endpoints/slow",
			status: 504, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{detail: "50ms"}},
		{name: "504 after the timeout whatever the result", method: "POST", path: "/api/endpoints/slow_but_ok",
			status: 504, wantType: ContentTypeProblem, execID: true, problem: &wantProblem{}, hidden: []string{"late"}},

		{name: "405 from echo for a known route", method: "POST", path: "/healthz",
			status: 405, wantType: ContentTypeProblem, header: map[string]string{"Allow": "OPTIONS, GET"}, problem: &wantProblem{}},
		{name: "healthz", method: "GET", path: "/healthz", status: 200, wantType: "application/json", jsonBody: `{"status":"ok"}`},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, wantType: "application/json", jsonBody: `{"status":"ready"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, ts, tt.method, tt.path, tt.contentType, tt.body, nil)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.status, a.body)
			}
			if got := a.header.Get("Content-Type"); got != tt.wantType && tt.method != "HEAD" {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			for k, v := range tt.header {
				if got := a.header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			id := a.header.Get(HeaderExecutionID)
			if tt.execID {
				checkExecutionID(t, id)
				if vs := a.header.Values(HeaderExecutionID); len(vs) != 1 {
					t.Errorf("%s sent %d times: %q", HeaderExecutionID, len(vs), vs)
				}
			} else if id != "" {
				t.Errorf("%s = %q before an execution exists", HeaderExecutionID, id)
			}
			if tt.jsonBody != "" {
				var got, want any
				if err := json.Unmarshal(a.body, &got); err != nil {
					t.Fatalf("body %q: %v", a.body, err)
				}
				if err := json.Unmarshal([]byte(tt.jsonBody), &want); err != nil {
					t.Fatal(err)
				}
				if m, ok := got.(map[string]any); ok && m["execution_id"] != nil { // the workflow saw the header's id
					if m["execution_id"] != id {
						t.Errorf("workflow saw execution id %v, header says %q", m["execution_id"], id)
					}
					delete(m, "execution_id")
				}
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(want)
				if !bytes.Equal(gotJSON, wantJSON) {
					t.Errorf("body %s, want %s", gotJSON, wantJSON)
				}
			}
			if tt.jsonBody == "" && tt.problem == nil && string(a.body) != tt.rawBody {
				t.Errorf("body %q, want %q", a.body, tt.rawBody)
			}
			if tt.problem != nil {
				checkProblem(t, a, tt.status, strings.SplitN(tt.path, "?", 2)[0], id, *tt.problem)
			}
			for _, h := range tt.hidden {
				if bytes.Contains(a.body, []byte(h)) {
					t.Errorf("body %s shows %q", a.body, h)
				}
			}
		})
	}
}

func checkProblem(t *testing.T, a answer, status int, instance, id string, want wantProblem) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &raw); err != nil {
		t.Fatalf("problem %q: %v", a.body, err)
	}
	var p problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	title := want.title
	if title == "" {
		title = http.StatusText(status)
	}
	if p.Type != "about:blank" || p.Title != title || p.Status != status || p.Instance != instance || p.ExecutionID != id {
		t.Errorf("problem %s: want type about:blank, title %q, status %d, instance %q, execution_id %q", a.body, title, status, instance, id)
	}
	if !strings.Contains(p.Detail, want.detail) {
		t.Errorf("detail %q does not contain %q", p.Detail, want.detail)
	}
	if !slices.Equal(p.Errors, want.errors) {
		t.Errorf("errors %+v, want %+v", p.Errors, want.errors)
	}
	for key, present := range map[string]bool{"detail": p.Detail != "", "execution_id": id != "", "errors": len(want.errors) > 0} {
		if _, ok := raw[key]; ok != present {
			t.Errorf("problem %s: %q present = %v, want %v", a.body, key, ok, present)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	ts, _ := newTestServer(t, Options{BodyLimit: 16})
	body := `{"name":"` + strings.Repeat("x", 20) + `"}`
	a := do(t, ts, "POST", "/api/endpoints/hello", "application/json", body, nil)
	if a.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", a.status, a.body)
	}
	checkExecutionID(t, a.header.Get(HeaderExecutionID))
	checkProblem(t, a, 413, "/api/endpoints/hello", a.header.Get(HeaderExecutionID), wantProblem{detail: "16 bytes"})

	// At the limit is fine.
	if a := do(t, ts, "POST", "/api/endpoints/hello", "application/json", `{"name":"abcde"}`, nil); a.status != 200 {
		t.Fatalf("16 bytes: status %d: %s", a.status, a.body)
	}
}

// TestJSONDepth (round 2, finding 1): a body nested deeper than the limit is
// a 400 naming the limit, for a decoded body and a raw one alike, before
// anything runs or is stored; at the limit is fine.
func TestJSONDepth(t *testing.T) {
	ts, _ := newTestServer(t, Options{MaxJSONDepth: 8})
	nested := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	for _, path := range []string{"/api/endpoints/hello", "/api/endpoints/xml"} {
		a := do(t, ts, "POST", path, "application/json", nested(10000), nil)
		checkProblem(t, a, 400, path, a.header.Get(HeaderExecutionID), wantProblem{detail: "deeper than 8 levels",
			errors: []bifrost.FieldError{{Location: "body", Message: "nested deeper than 8 levels"}}})
	}
	if a := do(t, ts, "POST", "/api/endpoints/hello", "application/json", `{"name":"x","extra":`+nested(7)+`}`, nil); a.status != 200 {
		t.Fatalf("8 levels: status %d: %s", a.status, a.body)
	}
	ts, _ = newTestServer(t, Options{})
	a := do(t, ts, "POST", "/api/endpoints/hello", "application/json", nested(DefaultMaxJSONDepth+1), nil)
	checkProblem(t, a, 400, "/api/endpoints/hello", a.header.Get(HeaderExecutionID), wantProblem{detail: "deeper than 128 levels",
		errors: []bifrost.FieldError{{Location: "body", Message: "nested deeper than 128 levels"}}})
}

func TestBodyLimitChunked(t *testing.T) {
	ts, _ := newTestServer(t, Options{BodyLimit: 16})
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"name":"abcde"}`, 200},
		{`{"name":"abcdef"}`, 413},
		{`{"name":"` + strings.Repeat("y", 5000) + `"}`, 413},
	} {
		// An io.Reader the client cannot size: sent chunked, no Content-Length.
		req, _ := http.NewRequest("POST", ts.URL+"/api/endpoints/hello", io.MultiReader(strings.NewReader(tc.body)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%d bytes chunked: status %d, want %d", len(tc.body), resp.StatusCode, tc.status)
		}
	}
}

func TestReadLimited(t *testing.T) {
	for _, tc := range []struct {
		size, length, limit int64
		tooLarge            bool
	}{
		{0, -1, 10, false}, {10, -1, 10, false}, {11, -1, 10, true}, {2000, -1, 10, true},
		{2000, -1, 5000, false}, {5000, -1, 5000, false}, {5001, -1, 5000, true},
		{10, 10, 10, false}, {11, 11, 10, true}, {0, 0, 10, false},
	} {
		in := bytes.Repeat([]byte("a"), int(tc.size))
		got, err := readLimited(iotestHalfReader{bytes.NewReader(in)}, tc.length, tc.limit)
		if tc.tooLarge {
			if !errors.Is(err, errTooLarge) {
				t.Errorf("%+v: err %v, want errTooLarge", tc, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("%+v: got %d bytes, %v", tc, len(got), err)
		}
	}
}

// iotestHalfReader returns at most 7 bytes a Read, as a slow network does.
type iotestHalfReader struct{ r io.Reader }

func (h iotestHalfReader) Read(p []byte) (int, error) { return h.r.Read(p[:min(len(p), 7)]) }

func TestAccessLog(t *testing.T) {
	ts, logs := newTestServer(t, Options{})
	header := http.Header{"Authorization": {"Bearer secret-token-123"}, "X-Bifrost-Key": {"bf_key_secret"}}
	a := do(t, ts, "POST", "/api/endpoints/hello?name=querysecret&token=abc", "application/json", `{"name":"bodysecret"}`, header)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	id := a.header.Get(HeaderExecutionID)
	out := logs.String()
	for _, secret := range []string{"secret-token-123", "bf_key_secret", "querysecret", "token=", "bodysecret", "Authorization"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	var access, workflowLine map[string]any
	for _, line := range logs.lines(t) {
		switch line["msg"] {
		case "request":
			access = line
		case "greeting":
			workflowLine = line
		}
	}
	if access == nil {
		t.Fatalf("no access line:\n%s", out)
	}
	want := map[string]any{"level": "INFO", "method": "POST", "path": "/api/endpoints/hello", "status": float64(200),
		"workflow": "hello", "execution_id": id}
	for k, v := range want {
		if access[k] != v {
			t.Errorf("access line %s = %v, want %v", k, access[k], v)
		}
	}
	if d, ok := access["duration_ms"].(float64); !ok || d < 0 {
		t.Errorf("access line duration_ms = %v", access["duration_ms"])
	}
	// bifrost.Logger(ctx) in the workflow writes to the process log, tagged.
	if workflowLine == nil || workflowLine["execution_id"] != id || workflowLine["workflow"] != "hello" {
		t.Errorf("workflow log line %v, want workflow hello and execution_id %s", workflowLine, id)
	}
}

func TestErrorLogs(t *testing.T) {
	ts, logs := newTestServer(t, Options{})
	for _, path := range []string{"/api/endpoints/fails", "/api/endpoints/panics", "/api/endpoints/slow"} {
		a := do(t, ts, "POST", path, "", "", nil)
		id := a.header.Get(HeaderExecutionID)
		var found map[string]any
		for _, line := range logs.lines(t) {
			if line["execution_id"] == id && line["msg"] != "request" {
				found = line
			}
		}
		if found == nil {
			t.Fatalf("%s: no log line for execution %s:\n%s", path, id, logs)
		}
		switch path {
		case "/api/endpoints/fails":
			if found["level"] != "ERROR" || !strings.Contains(found["error"].(string), "hunter2") {
				t.Errorf("%s: %v, want the error at error level", path, found)
			}
		case "/api/endpoints/panics":
			if found["level"] != "ERROR" || found["panic"] != "secret panic value" || !strings.Contains(found["stack"].(string), "goroutine") {
				t.Errorf("%s: %v, want the panic and its stack at error level", path, found)
			}
		case "/api/endpoints/slow":
			if found["level"] != "WARN" || found["msg"] != "workflow timed out" {
				t.Errorf("%s: %v, want a timeout warning", path, found)
			}
		}
	}
}

func TestRemoteAddrIgnoresForwardedFor(t *testing.T) {
	var got bifrost.Request
	wf := &Workflow{
		Spec: workflow.Spec{
			Name:     "who",
			Endpoint: true,
			Public:   true,
			Methods:  []string{"POST"},
			Body:     workflow.BodyRaw,
		},
		Decode: func(in *bind.Input) (bind.Args, error) {
			got = *in.Request
			return argsFunc(func(context.Context) (bind.Result, error) { return bind.NoContent(), nil }), nil
		},
	}
	ts, _ := newTestServer(t, Options{Workflows: []*Workflow{wf}})
	a := do(t, ts, "POST", "/api/endpoints/who?a=1&a=2", "text/plain", "raw bytes", http.Header{"X-Forwarded-For": {"203.0.113.9"}})
	if a.status != 204 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if got.RemoteAddr != "127.0.0.1" {
		t.Errorf("RemoteAddr %q, want the peer 127.0.0.1", got.RemoteAddr)
	}
	if got.Method != "POST" || got.URL.Path != "/api/endpoints/who" || !slices.Equal(got.Query["a"], []string{"1", "2"}) ||
		string(got.Body) != "raw bytes" || got.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("request %+v", got)
	}
}

func TestRegisterOnExistingApp(t *testing.T) {
	s, err := New(Options{Workflows: testWorkflows(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	e := echo.New()
	e.GET("/mine", func(c echo.Context) error { return c.String(200, "mine") })
	s.Register(e)
	ts := httptest.NewServer(e)
	defer ts.Close()
	if a := do(t, ts, "GET", "/mine", "", "", nil); a.status != 200 || string(a.body) != "mine" {
		t.Errorf("the app's own route: %d %s", a.status, a.body)
	}
	if a := do(t, ts, "POST", "/api/endpoints/create", "", "", nil); a.status != 201 {
		t.Errorf("endpoint: %d %s", a.status, a.body)
	}
	// The app's error handler keeps answering its own unknown routes.
	if a := do(t, ts, "GET", "/nowhere", "", "", nil); a.status != 404 || a.header.Get("Content-Type") == ContentTypeProblem {
		t.Errorf("unknown route of the app: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	// The endpoint answers problems whatever the app's error handler.
	if a := do(t, ts, "GET", "/api/endpoints/missing", "", "", nil); a.status != 404 || a.header.Get("Content-Type") != ContentTypeProblem {
		t.Errorf("unknown workflow: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
}

func TestNewRefuses(t *testing.T) {
	ok := func(*bind.Input) (bind.Args, error) { return nil, nil }
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"duplicate name", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a"}}, {Spec: workflow.Spec{Name: "a"}}}}, "two workflows"},
		{"nil workflow", Options{Workflows: []*Workflow{nil}}, "nil"},
		{"nil Decode", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Endpoint: true, Methods: []string{"POST"}}}}}, "Decode"},
		{"no methods", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Endpoint: true}, Decode: ok}}}, "method"},
		{"lower-case method", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Endpoint: true, Methods: []string{"post"}}, Decode: ok}}}, "upper-case"},
		{"repeated method", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Endpoint: true, Methods: []string{"POST", "POST"}}, Decode: ok}}}, "twice"},
		{"bad name", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "Hello World"}}}}, "name"},
		{"empty name", Options{Workflows: []*Workflow{{}}}, "name"},
		{"bad mode", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Mode: "later"}}}}, "mode"},
		{"negative timeout", Options{Workflows: []*Workflow{{Spec: workflow.Spec{Name: "a", Timeout: -time.Second}}}}, "timeout"},
		{"negative body limit", Options{BodyLimit: -1}, "body limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = slog.New(slog.DiscardHandler)
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
	s, err := New(Options{Workflows: testWorkflows(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("New with valid workflows: %v", err)
	}
	_ = s.Shutdown(context.Background())
}

func TestCallerGoesAway(t *testing.T) {
	started := make(chan struct{})
	wf := &Workflow{
		Spec: workflow.Spec{
			Name:     "waits",
			Endpoint: true,
			Public:   true,
			Methods:  []string{"POST"},
		},
		Decode: constant(func(ctx context.Context) (bind.Result, error) {
			close(started)
			<-ctx.Done()
			return bind.Result{}, ctx.Err()
		}),
	}
	ts, logs := newTestServer(t, Options{Workflows: []*Workflow{wf}})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/endpoints/waits", nil)
	go func() {
		<-started
		cancel()
	}()
	if _, err := ts.Client().Do(req); err == nil {
		t.Fatal("the request succeeded after its context was cancelled")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range logs.lines(t) {
			if line["msg"] == "request" {
				if line["status"] != float64(499) {
					t.Errorf("access line %v, want status 499", line)
				}
				if strings.Contains(logs.String(), `"level":"ERROR"`) {
					t.Errorf("a caller going away is logged as an error:\n%s", logs)
				}
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no access line:\n%s", logs)
}

// TestCORS: without allowed origins no CORS header is sent; with them, a
// browser's preflight from an allowed origin is answered and the real call
// exposes the execution id, while another origin gets no grant.
func TestCORS(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	a := do(t, ts, "POST", "/api/endpoints/hello", "application/json", `{"name":"x"}`, http.Header{"Origin": {"https://app.example.com"}})
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS off: %d, Access-Control-Allow-Origin %q", a.status, a.header.Get("Access-Control-Allow-Origin"))
	}

	ts, _ = newTestServer(t, Options{CORSOrigins: []string{"https://app.example.com"}})
	pre := do(t, ts, "OPTIONS", "/api/endpoints/hello", "", "", http.Header{
		"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"authorization, content-type"}})
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", pre.status, pre.header)
	}
	a = do(t, ts, "POST", "/api/endpoints/hello", "application/json", `{"name":"x"}`, http.Header{"Origin": {"https://app.example.com"}})
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(a.header.Get("Access-Control-Expose-Headers"), HeaderExecutionID) {
		t.Fatalf("call: %d %v", a.status, a.header)
	}
	a = do(t, ts, "POST", "/api/endpoints/hello", "application/json", `{"name":"x"}`, http.Header{"Origin": {"https://evil.example"}})
	if a.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("another origin was granted: %v", a.header)
	}
}

// TestShutdownTwice: a second Shutdown (a deferred one after an explicit
// one, say) returns the first's answer instead of closing what is closed.
func TestShutdownTwice(t *testing.T) {
	srv := startServer(t, Options{Store: openStore(t, ""), Workers: 1, Retain: time.Hour})
	drain(t, srv, 10*time.Second)
	drain(t, srv, 10*time.Second)
}
