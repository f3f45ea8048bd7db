// Package harness runs the HTTP exchanges of a generator test case against
// the case's generated code, served by the real runtime on a real listener.
// The generator's tests copy it into the module they build the cases in.
//
// An exchanges file holds requests and the answers expected:
//
//	> POST /api/endpoints/create_order?dry_run=true
//	> Content-Type: application/json
//	{"name": "x"}
//	< 400
//	< Content-Type: application/problem+json
//	{"errors": [{"location": "body.count", "message": "required"}]}
//
// Lines starting "> " are the request line and headers, then the body; "< "
// lines are the status and headers expected, then the body expected; "# "
// lines are comments. An
// expected JSON body matches when every member it names is equal in the
// answer (arrays must match in full); any other expected body must be equal.
package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

// Key is the global key the harness's server accepts and sends by default.
const Key = "harness-key-0123456789abcdef"

type exchange struct {
	line           int
	method, target string
	header         http.Header
	body           string
	status         int
	wantHeader     http.Header
	wantBody       string
}

// Run serves workflows and checks every exchange of file.
func Run(t *testing.T, workflows []*runtime.Workflow, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ts := serve(t, workflows)
	for _, ex := range parse(t, string(data)) {
		req, err := http.NewRequest(ex.method, ts.URL+ex.target, strings.NewReader(ex.body))
		if err != nil {
			t.Fatalf("%s:%d: %v", file, ex.line, err)
		}
		req.Header = ex.header
		if req.Header.Get("Authorization") == "" && req.Header.Get("X-Bifrost-Key") == "" {
			req.Header.Set("X-Bifrost-Key", Key) // unless the exchange tests credentials itself
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, ex.line, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		where := fmt.Sprintf("%s:%d: %s %s", file, ex.line, ex.method, ex.target)
		if resp.StatusCode != ex.status {
			t.Errorf("%s: status %d, want %d; body: %s", where, resp.StatusCode, ex.status, body)
			continue
		}
		if resp.Header.Get(runtime.HeaderExecutionID) == "" && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: no %s header", where, runtime.HeaderExecutionID)
		}
		for name, values := range ex.wantHeader {
			if got := resp.Header.Get(name); got != values[0] {
				t.Errorf("%s: header %s = %q, want %q", where, name, got, values[0])
			}
		}
		if msg := matchBody(body, ex.wantBody); msg != "" {
			t.Errorf("%s: %s", where, msg)
		}
	}
}

// serve starts the runtime serving workflows, stopped when the test ends.
func serve(t *testing.T, workflows []*runtime.Workflow) *httptest.Server {
	t.Helper()
	st, err := storeopen.Open(context.Background(), filepath.Join(t.TempDir(), "bifrost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := runtime.New(runtime.Options{Workflows: workflows, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: st, Workers: 2,
		Auth: &auth.Config{EnvKey: Key}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// OpenAPI checks that the runtime serving workflows answers GET
// /api/openapi.json with exactly the bytes of file: the document bifrostgen
// wrote for the same workflows.
func OpenAPI(t *testing.T, workflows []*runtime.Workflow, file string) {
	t.Helper()
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ts := serve(t, workflows)
	resp, err := ts.Client().Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Errorf("GET /api/openapi.json: %d, %d bytes; want the %d bytes of %s, the same bytes:\n%s", resp.StatusCode, len(got), len(want), file, got)
	}
}

func parse(t *testing.T, text string) []*exchange {
	var out []*exchange
	var cur *exchange
	var body *strings.Builder
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "# "):
			continue // a comment
		case strings.HasPrefix(line, "> "):
			if cur == nil || cur.status != 0 {
				cur = &exchange{line: i + 1, header: http.Header{}, wantHeader: http.Header{}}
				out = append(out, cur)
				parts := strings.Fields(line[2:])
				if len(parts) != 2 {
					t.Fatalf("line %d: want \"> METHOD TARGET\"", i+1)
				}
				cur.method, cur.target = parts[0], parts[1]
				body = &strings.Builder{}
				continue
			}
			name, value, _ := strings.Cut(line[2:], ":")
			cur.header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		case strings.HasPrefix(line, "< "):
			if cur == nil {
				t.Fatalf("line %d: an answer before any request", i+1)
			}
			if cur.status == 0 {
				cur.body = strings.TrimSuffix(body.String(), "\n")
				body = &strings.Builder{}
				status, err := strconv.Atoi(strings.TrimSpace(line[2:]))
				if err != nil {
					t.Fatalf("line %d: bad status: %v", i+1, err)
				}
				cur.status = status
				continue
			}
			name, value, _ := strings.Cut(line[2:], ":")
			cur.wantHeader.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		default:
			if cur == nil {
				continue // comments before the first request
			}
			if cur.status != 0 {
				if body.Len() > 0 || line != "" {
					body.WriteString(line + "\n")
				}
				cur.wantBody = strings.TrimSpace(body.String())
				continue
			}
			body.WriteString(line + "\n")
		}
	}
	return out
}

// matchBody returns "" when got satisfies want, else what differs.
func matchBody(got []byte, want string) string {
	if want == "" {
		return ""
	}
	var w, g any
	if json.Unmarshal([]byte(want), &w) != nil {
		if strings.TrimSpace(string(got)) != want {
			return fmt.Sprintf("body %q, want %q", got, want)
		}
		return ""
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("body is not JSON (%v): %s", err, got)
	}
	if !subset(w, g) {
		return fmt.Sprintf("body %s\n\tdoes not contain %s", bytes.TrimSpace(got), want)
	}
	return ""
}

func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if gv, ok := g[k]; !ok || !subset(v, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}
