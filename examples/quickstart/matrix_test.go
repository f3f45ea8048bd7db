package quickstart_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bifrost-go/bifrost/examples/quickstart"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/runtime/store/storetest"
)

// The limits the matrix server runs with: small, so the rows over them stay
// small too.
const (
	matrixBodyLimit = 1 << 10
	matrixDepth     = 16
)

var matrixSessionSecret = []byte("matrix-session-secret-0123456789abcdef")

// matrixServer is the quickstart served as in production, with the
// credentials the matrix needs: the environment key, a key scoped to
// another workflow, a revoked key, an expired key, and an execution of a
// non-public workflow.
type matrixServer struct {
	url       string
	scopedKey string // may call handle_webhook only
	revoked   string
	expired   string
	execID    string // an execution of long_running_task
}

func serveMatrix(t *testing.T, db string) *matrixServer {
	t.Helper()
	ctx := context.Background()
	st, err := storeopen.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Options{
		Workflows:    quickstart.Workflows(),
		Logger:       slog.New(slog.DiscardHandler),
		BodyLimit:    matrixBodyLimit,
		MaxJSONDepth: matrixDepth,
		Store:        st,
		Workers:      1,
		Auth:         &auth.Config{EnvKey: testKey, SessionSecret: matrixSessionSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Shutdown(ctx)
		_ = st.Close()
	})
	m := &matrixServer{url: ts.URL}
	if _, m.scopedKey, err = auth.CreateKey(ctx, st, []string{"handle_webhook"}, 0, "matrix scoped"); err != nil {
		t.Fatal(err)
	}
	k, revoked, err := auth.CreateKey(ctx, st, nil, 0, "matrix revoked")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeKey(ctx, k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	m.revoked = revoked
	if _, m.expired, err = auth.CreateKey(ctx, st, nil, time.Millisecond, "matrix expired"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past the expired key's expiry

	req, _ := http.NewRequest("POST", ts.URL+"/api/endpoints/long_running_task", strings.NewReader(`{"n":1}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var acc struct {
		ExecutionID string `json:"execution_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("async call: %d %v", resp.StatusCode, err)
	}
	m.execID = acc.ExecutionID
	return m
}

// mrow is one request of a matrix and the answer it must get.
type mrow struct {
	cat, name    string
	method, path string
	header       http.Header
	noAuth       bool      // send no Authorization of the environment key
	body         string    // sent with its length
	chunked      io.Reader // sent chunked (no Content-Length) instead of body
	raw          string    // sent as is over TCP instead of the above (path, method and headers included)

	status int
	// locs are the exact "errors" locations of the problem, in order; nil
	// checks nothing, []string{} checks there are none.
	locs   []string
	detail string // a substring of the problem's detail
	errMsg string // a substring of the first error's message
	// byNetHTTP: net/http answers before any handler runs (a request line
	// or header block it refuses), in text/plain: only the status is checked.
	byNetHTTP  bool
	wantHeader map[string]string // exact values
	emptyBody  bool              // the answer has no body at all (HEAD, OPTIONS)
	// knownBug says why the server answers otherwise today: the row keeps
	// the correct expectation and is skipped until the bug is fixed.
	knownBug string
}

// answer is what a matrix row got back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func h(kv ...string) http.Header {
	hd := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		hd.Add(kv[i], kv[i+1])
	}
	return hd
}

func send(t *testing.T, base string, r mrow) answer {
	t.Helper()
	if r.raw != "" {
		return sendRaw(t, base, r.raw)
	}
	var body io.Reader = strings.NewReader(r.body)
	if r.chunked != nil {
		body = r.chunked
	}
	req, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.chunked != nil {
		req.ContentLength = -1
	}
	if !r.noAuth {
		req.Header.Set("Authorization", "Bearer "+testKey)
	}
	for k, vs := range r.header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// sendRaw writes raw on a new connection, half-closes it and reads one answer.
func sendRaw(t *testing.T, base, raw string) answer {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// checkRow holds the answer to the row's expectation: the status, and for
// an error a problem whose "status" is the HTTP status, with the row's
// exact error locations.
func checkRow(t *testing.T, r mrow, a answer) {
	t.Helper()
	if a.status != r.status {
		t.Fatalf("status %d, want %d: %s", a.status, r.status, a.body)
	}
	for k, v := range r.wantHeader {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if r.emptyBody {
		if len(a.body) != 0 {
			t.Errorf("a body on %s: %q", r.method, a.body)
		}
		return
	}
	if r.status < 400 || r.byNetHTTP {
		return
	}
	if ct := a.header.Get("Content-Type"); ct != runtime.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s: %s", ct, runtime.ContentTypeProblem, a.body)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Location string `json:"location"`
			Message  string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("problem is not JSON: %v: %s", err, a.body)
	}
	if p.Status != a.status || p.Title == "" {
		t.Errorf("problem status %d title %q, HTTP status %d", p.Status, p.Title, a.status)
	}
	if r.detail != "" && !strings.Contains(p.Detail, r.detail) {
		t.Errorf("detail %q does not contain %q", p.Detail, r.detail)
	}
	if r.errMsg != "" && (len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Message, r.errMsg)) {
		t.Errorf("first error message does not contain %q: %s", r.errMsg, a.body)
	}
	if r.locs != nil {
		got := make([]string, 0, len(p.Errors))
		for _, e := range p.Errors {
			got = append(got, e.Location)
		}
		if strings.Join(got, " ") != strings.Join(r.locs, " ") {
			t.Errorf("error locations %q, want %q: %s", got, r.locs, a.body)
		}
	}
}

// runMatrix sends every row, each in its subtest, then fails if any answer
// outside the known bugs was a 5xx, and logs the rows per category.
func runMatrix(t *testing.T, base string, rows []mrow) {
	t.Helper()
	var fivexx []string
	perCat := map[string]int{}
	seen := map[string]bool{}
	for _, r := range rows {
		perCat[r.cat]++
		name := r.cat + "/" + r.name
		if seen[name] {
			t.Fatalf("two rows are named %s", name)
		}
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			a := send(t, base, r)
			if r.knownBug != "" {
				t.Skipf("known bug: %s (answered %d: %.200s)", r.knownBug, a.status, a.body)
			}
			if a.status >= 500 {
				fivexx = append(fivexx, fmt.Sprintf("%s: %d %s", name, a.status, a.body))
			}
			checkRow(t, r, a)
		})
	}
	if len(fivexx) > 0 {
		t.Errorf("5xx answers:\n%s", strings.Join(fivexx, "\n"))
	}
	cats := make([]string, 0, len(perCat))
	for c, n := range perCat {
		cats = append(cats, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(cats)
	t.Logf("%d rows: %s", len(rows), strings.Join(cats, " "))
}

// slowReader hands out its bytes in small pieces, so the client cannot know
// the length and sends the body chunked.
type slowReader struct{ s string }

func (r *slowReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 100)], r.s)
	r.s = r.s[n:]
	return n, nil
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

func jwtToken(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBadInputMatrix sends malformed and hostile requests to the quickstart
// served by the real runtime over HTTP: each gets its exact status and an
// RFC 9457 problem naming what was wrong, and none a 5xx (issue 12). It runs
// on SQLite, and on PostgreSQL too when BIFROST_TEST_POSTGRES_URL is set:
// the stores refuse different bytes.
func TestBadInputMatrix(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		badInputMatrix(t, filepath.Join(t.TempDir(), "bifrost.db"), nil)
	})
	t.Run("postgres", func(t *testing.T) {
		badInputMatrix(t, storetest.PostgresURL(t), nil)
	})
}

// badInputMatrix runs the matrix on the store at db; pgBugs are the rows
// that fail on that store only, by name, with why.
func badInputMatrix(t *testing.T, db string, pgBugs map[string]string) {
	t.Setenv("BIFROST_CONFIG_WEBHOOK_SECRET", "s3cret")
	m := serveMatrix(t, db)

	const (
		hw    = "/api/endpoints/handle_webhook"
		slack = "/api/endpoints/slack_command"
		flex  = "/api/endpoints/flexible_endpoint"
		proc  = "/api/endpoints/process_request"
		long  = "/api/endpoints/long_running_task"
		sec   = "/api/endpoints/secure_endpoint"
		jr    = "/api/endpoints/json_response"
		gh    = "/api/endpoints/github_webhook"
	)
	js := h("Content-Type", "application/json")
	form := h("Content-Type", "application/x-www-form-urlencoded")
	withCT := func(ct string, kv ...string) http.Header { return h(append([]string{"Content-Type", ct}, kv...)...) }
	over := `{"a":"` + strings.Repeat("x", matrixBodyLimit) + `"}`
	deep := fmt.Sprintf("nested deeper than %d levels", matrixDepth)
	now := time.Now()
	hs256 := func(claims jwt.MapClaims) string {
		return jwtToken(t, jwt.SigningMethodHS256, matrixSessionSecret, claims)
	}
	noneToken := jwtToken(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "mallory", "exp": now.Add(time.Hour).Unix()})
	challenge := map[string]string{"WWW-Authenticate": `Bearer realm="bifrost"`}
	execs := "/api/executions/"
	unknownID := "01900000-0000-7000-8000-000000000000"
	rawPost := func(path, headers, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + testKey + "\r\n" + headers + "\r\n" + body
	}

	rows := []mrow{
		// bodies
		{cat: "body", name: "malformed json", method: "POST", path: hw, header: js, body: `{"a":`, status: 400, locs: []string{"body"}, detail: "malformed JSON"},
		{cat: "body", name: "bare word", method: "POST", path: hw, header: js, body: `hello`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "trailing garbage", method: "POST", path: hw, header: js, body: `{"a":1} x`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "two documents", method: "POST", path: hw, header: js, body: `{"a":1}{"b":2}`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "trailing comma", method: "POST", path: hw, header: js, body: `{"a":1,}`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "single quotes", method: "POST", path: hw, header: js, body: `{'a':1}`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "NaN literal", method: "POST", path: hw, header: js, body: `{"a":NaN}`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "array where an object is expected", method: "POST", path: hw, header: js, body: `[1,2]`, status: 400, locs: []string{"body"}, detail: "expected object"},
		{cat: "body", name: "string where an object is expected", method: "POST", path: hw, header: js, body: `"x"`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "null body is no object", method: "POST", path: slack, header: js, body: `null`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "wrong kinds in every field", method: "POST", path: slack, header: js, body: `{"command":5,"text":[],"user_name":{}}`, status: 400,
			locs: []string{"body.command", "body.text", "body.user_name"}},
		{cat: "body", name: "wrong kind and a missing field", method: "POST", path: slack, header: js, body: `{"command":true}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "body", name: "null where required", method: "POST", path: slack, header: js, body: `{"command":null,"user_name":null}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "body", name: "empty object on required fields", method: "POST", path: slack, header: js, body: `{}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "body", name: "huge number in a string field", method: "POST", path: slack, header: js, body: `{"command":1e400,"user_name":"u"}`, status: 400,
			locs: []string{"body.command"}},
		{cat: "body", name: "huge number in a map", method: "POST", path: hw, header: js, body: `{"n":1e400}`, status: 400, errMsg: "cannot hold number 1e400"},
		{cat: "body", name: "huge number in a map names the member", method: "POST", path: hw, header: js, body: `{"n":1e400}`, status: 400, locs: []string{"body.n"}},
		{cat: "body", name: "huge number nested in a map", method: "POST", path: hw, header: js, body: `{"a":{"b":[1,-1e999]}}`, status: 400, errMsg: "cannot hold number -1e999"},
		{cat: "body", name: "huge number nested in a map names the element", method: "POST", path: hw, header: js, body: `{"a":{"b":[1,-1e999]}}`, status: 400, locs: []string{"body.a.b[1]"}},
		// A duplicate name is malformed: no reader in front may see another value.
		{cat: "body", name: "duplicate key, bad kind first", method: "POST", path: slack, header: js, body: `{"command":5,"command":"/x","user_name":"u"}`, status: 400,
			locs: []string{"body"}, detail: `body: malformed JSON: duplicate object member name "command"`},
		{cat: "body", name: "duplicate key, bad kind last", method: "POST", path: slack, header: js, body: `{"command":"/x","command":5,"user_name":"u"}`, status: 400,
			locs: []string{"body"}, detail: `body: malformed JSON: duplicate object member name "command"`},
		{cat: "body", name: "duplicate key, same value", method: "POST", path: slack, header: js, body: `{"command":"/x","command":"/x","user_name":"u"}`, status: 400,
			locs: []string{"body"}},
		{cat: "body", name: "duplicate key after a bad kind", method: "POST", path: slack, header: js, body: `{"user_name":5,"command":"/x","command":"/y"}`, status: 400,
			locs: []string{"body"}},
		{cat: "body", name: "invalid utf-8 outside a string", method: "POST", path: hw, header: js, body: "{\"a\":1\xff}", status: 400, locs: []string{"body"}},
		{cat: "body", name: "invalid utf-8 in a key", method: "POST", path: slack, header: js, body: "{\"comm\xffand\":\"/x\",\"user_name\":\"u\"}", status: 400,
			locs: []string{"body.command"}},
		{cat: "body", name: "lone surrogate escape is tolerated", method: "POST", path: hw, header: js, body: `{"a":"\ud800"}`, status: 200},
		{cat: "body", name: "bad escape", method: "POST", path: hw, header: js, body: `{"a":"\x"}`, status: 400, locs: []string{"body"}},
		{cat: "body", name: "control character in a string", method: "POST", path: hw, header: js, body: "{\"a\":\"\x01\"}", status: 400, locs: []string{"body"}},
		{cat: "body", name: "empty body on a required struct", method: "POST", path: slack, header: js, status: 400, locs: []string{"body"}, detail: "body: required"},
		{cat: "body", name: "empty form on a required struct", method: "POST", path: slack, header: form, status: 400, locs: []string{"body"}},
		{cat: "body", name: "whitespace only", method: "POST", path: slack, header: js, body: "  \n\t", status: 400, locs: []string{"body"}},
		{cat: "body", name: "only a BOM", method: "POST", path: hw, header: js, body: "\ufeff{}", status: 400, locs: []string{"body"}},

		// encodings and content types
		{cat: "encoding", name: "no content type", method: "POST", path: hw, body: `{"a":1}`, status: 415},
		{cat: "encoding", name: "text/plain", method: "POST", path: hw, header: withCT("text/plain"), body: `{"a":1}`, status: 415},
		{cat: "encoding", name: "application/xml", method: "POST", path: hw, header: withCT("application/xml"), body: `<a>1</a>`, status: 415},
		{cat: "encoding", name: "text/json", method: "POST", path: hw, header: withCT("text/json"), body: `{"a":1}`, status: 415},
		{cat: "encoding", name: "multipart form", method: "POST", path: hw, header: withCT("multipart/form-data; boundary=XX"),
			body: "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX--\r\n", status: 415},
		{cat: "encoding", name: "unparsable content type", method: "POST", path: hw, header: withCT("application/json; charset"), body: `{"a":1}`, status: 415},
		{cat: "encoding", name: "json with charset", method: "POST", path: slack, header: withCT("application/json; charset=utf-8"), body: `{"command":1}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "encoding", name: "json with a foreign charset is still JSON", method: "POST", path: slack, header: withCT("application/json; charset=latin1"), body: `{"user_name":2}`, status: 400,
			locs: []string{"body.user_name", "body.command"}},
		{cat: "encoding", name: "vendor json malformed", method: "POST", path: hw, header: withCT("application/vnd.x+json"), body: `{"a"`, status: 400, locs: []string{"body"}},
		{cat: "encoding", name: "upper-case media type", method: "POST", path: slack, header: withCT("APPLICATION/JSON"), body: `{}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "encoding", name: "+json outside application", method: "POST", path: hw, header: withCT("text/x+json"), body: `{"a":1}`, status: 415},
		{cat: "encoding", name: "form with bad percent-encoding", method: "POST", path: slack, header: form, body: "command=%zz&user_name=u", status: 400,
			locs: []string{"body"}, detail: "form body is malformed"},
		{cat: "encoding", name: "form with a truncated escape", method: "POST", path: slack, header: form, body: "command=%2&user_name=u", status: 400, locs: []string{"body"}},
		{cat: "encoding", name: "form with a semicolon", method: "POST", path: slack, header: form, body: "command=a;user_name=u", status: 400, locs: []string{"body"}},
		{cat: "encoding", name: "json sent as a form", method: "POST", path: slack, header: form, body: `{"command":"/x","user_name":"u"}`, status: 400,
			locs: []string{"body.command", "body.user_name"}},
		{cat: "encoding", name: "gzip with garbage", method: "POST", path: hw, header: withCT("application/json", "Content-Encoding", "gzip"),
			body: "\x1f\x8b\x08\x00garbage", status: 400, locs: []string{"body"}},
		{cat: "encoding", name: "content type on a body-less workflow", method: "POST", path: jr, header: withCT("application/xml"), body: `<a/>`, status: 200},

		// depth
		{cat: "depth", name: "at the limit", method: "POST", path: hw, header: js, body: nested(matrixDepth), status: 200},
		{cat: "depth", name: "one past the limit", method: "POST", path: hw, header: js, body: nested(matrixDepth + 1), status: 400, locs: []string{"body"}, errMsg: deep},
		{cat: "depth", name: "arrays past the limit", method: "POST", path: hw, header: js, body: `{"a":` + strings.Repeat("[", matrixDepth) + strings.Repeat("]", matrixDepth) + "}", status: 400,
			locs: []string{"body"}, errMsg: deep},
		{cat: "depth", name: "unterminated and deep", method: "POST", path: hw, header: js, body: strings.Repeat("[", 500), status: 400, locs: []string{"body"}, errMsg: deep},
		{cat: "depth", name: "deep in a typed body", method: "POST", path: slack, header: js, body: `{"command":` + nested(matrixDepth) + `}`, status: 400,
			locs: []string{"body"}, errMsg: deep},
		{cat: "depth", name: "deep in a vendor json", method: "POST", path: flex, header: withCT("application/vnd.x+json"), body: nested(matrixDepth + 5), status: 400,
			locs: []string{"body"}, errMsg: deep},
		{cat: "depth", name: "deep inside strings is not deep", method: "POST", path: hw, header: js, body: `{"a":"` + strings.Repeat("[{", 100) + `"}`, status: 200},

		// sizes
		{cat: "size", name: "over the body limit", method: "POST", path: hw, header: js, body: over, status: 413, detail: "limit of 1024 bytes"},
		{cat: "size", name: "one byte over", method: "POST", path: hw, header: js, body: `{"a":"` + strings.Repeat("x", matrixBodyLimit-7) + `"}`, status: 413},
		{cat: "size", name: "exactly the limit", method: "POST", path: hw, header: js, body: `{"a":"` + strings.Repeat("x", matrixBodyLimit-8) + `"}`, status: 200},
		{cat: "size", name: "chunked over the limit", method: "POST", path: hw, header: js, chunked: &slowReader{over}, status: 413},
		{cat: "size", name: "chunked within the limit", method: "POST", path: hw, header: js, chunked: &slowReader{`{"a":1}`}, status: 200},
		{cat: "size", name: "over the limit before authentication", method: "POST", path: sec, header: js, noAuth: true, body: over, status: 401},
		{cat: "size", name: "over the limit on a body-less workflow", method: "POST", path: jr, header: js, body: over, status: 413},
		{cat: "size", name: "declared length over the limit", raw: rawPost(hw, "Content-Type: application/json\r\nContent-Length: 99999999\r\n", `{"a":1}`), status: 413},
		{cat: "size", name: "declared length longer than the body", raw: rawPost(hw, "Content-Type: application/json\r\nContent-Length: 100\r\n", `{"a":1}`), status: 400,
			detail: "could not be read"},
		{cat: "size", name: "bad chunk size", raw: rawPost(hw, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n{}\r\n0\r\n\r\n"), status: 400,
			detail: "could not be read"},
		// RFC 9112 §6.3: Transfer-Encoding overrides Content-Length, and
		// net/http closes the connection after answering, so nothing is
		// smuggled behind the body.
		{cat: "size", name: "chunked and a length (smuggling)", raw: rawPost(hw, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n", "2\r\n{}\r\n0\r\n\r\n"),
			status: 200},
		{cat: "size", name: "negative length", raw: rawPost(hw, "Content-Type: application/json\r\nContent-Length: -1\r\n", "{}"), status: 400, byNetHTTP: true},
		{cat: "size", name: "over the limit, deep", method: "POST", path: hw, header: js, body: strings.Repeat("[", matrixBodyLimit+1), status: 413},

		// query forms
		{cat: "query", name: "repeated parameter takes the first", method: "GET", path: flex + "?query=a&query=b", status: 200},
		{cat: "query", name: "percent garbage", method: "GET", path: flex + "?query=%zz", status: 400, locs: []string{"query"}},
		{cat: "query", name: "semicolon separator", method: "GET", path: flex + "?query=a;b=c", status: 400, locs: []string{"query"}},
		{cat: "query", name: "wait is not a duration", method: "GET", path: execs + unknownID + "?wait=soon", status: 400, locs: []string{"query.wait"}},
		{cat: "query", name: "wait is negative", method: "GET", path: execs + unknownID + "?wait=-5s", status: 400, locs: []string{"query.wait"}},
		{cat: "query", name: "wait is percent garbage", method: "GET", path: execs + unknownID + "?wait=%zz", status: 400},
		{cat: "query", name: "list limit not a number", method: "GET", path: "/api/executions?limit=ten", status: 400, locs: []string{"query.limit"}},
		{cat: "query", name: "list limit zero", method: "GET", path: "/api/executions?limit=0", status: 400, locs: []string{"query.limit"}},
		{cat: "query", name: "list limit too large", method: "GET", path: "/api/executions?limit=501", status: 400, locs: []string{"query.limit"}},
		{cat: "query", name: "list limit overflow", method: "GET", path: "/api/executions?limit=99999999999999999999", status: 400, locs: []string{"query.limit"}},
		{cat: "query", name: "list unknown status", method: "GET", path: "/api/executions?status=done'--", status: 400, locs: []string{"query.status"}},
		{cat: "query", name: "list bad cursor", method: "GET", path: "/api/executions?cursor=%27%20OR%201%3D1--", status: 400, locs: []string{"query.cursor"}},

		// header forms
		{cat: "header", name: "two Authorization headers, bad first", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer nope", "Authorization", "Bearer "+testKey),
			status: 401, wantHeader: challenge},
		{cat: "header", name: "X-Bifrost-Key garbage beats a good Bearer", method: "POST", path: sec, header: h("X-Bifrost-Key", "garbage"), status: 401, wantHeader: challenge},
		{cat: "header", name: "empty X-Bifrost-Key", method: "POST", path: sec, header: h("X-Bifrost-Key", ""), status: 401, wantHeader: challenge},
		{cat: "header", name: "8 KiB Authorization", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer "+strings.Repeat("A", 8<<10)), status: 401, wantHeader: challenge},
		{cat: "header", name: "non-ascii bytes in a key", method: "POST", path: sec, noAuth: true, header: h("X-Bifrost-Key", "bf_\xc3\xa9\xff"), status: 401, wantHeader: challenge},
		{cat: "header", name: "X-Bifrost-Key with a Bearer prefix", method: "POST", path: sec, noAuth: true, header: h("X-Bifrost-Key", "Bearer "+testKey), status: 401, wantHeader: challenge},
		{cat: "header", name: "tab after Bearer", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer\t"+testKey), status: 401, wantHeader: challenge},
		{cat: "header", name: "two Content-Types, the first rules", method: "POST", path: hw, header: h("Content-Type", "text/plain", "Content-Type", "application/json"), body: `{}`, status: 415},
		{cat: "header", name: "oversized header block", method: "POST", path: hw, header: h("X-Big", strings.Repeat("b", 2<<20)), status: 431, byNetHTTP: true},

		// names
		{cat: "name", name: "unknown workflow", method: "POST", path: "/api/endpoints/nope", status: 404, detail: `"nope"`},
		{cat: "name", name: "unknown workflow without credential", method: "POST", path: "/api/endpoints/nope", noAuth: true, status: 404},
		{cat: "name", name: "path traversal", method: "POST", path: "/api/endpoints/../executions", status: 404},
		{cat: "name", name: "encoded traversal", method: "POST", path: "/api/endpoints/..%2Fexecutions", status: 404},
		{cat: "name", name: "dot segment", method: "POST", path: "/api/endpoints/./handle_webhook", status: 404},
		{cat: "name", name: "double slash", method: "POST", path: "/api/endpoints//handle_webhook", status: 404},
		{cat: "name", name: "trailing slash", method: "POST", path: hw + "/", status: 404},
		{cat: "name", name: "empty name", method: "POST", path: "/api/endpoints/", status: 404},
		{cat: "name", name: "upper case", method: "POST", path: "/api/endpoints/HANDLE_WEBHOOK", status: 404},
		{cat: "name", name: "very long name", method: "POST", path: "/api/endpoints/" + strings.Repeat("a", 16<<10), status: 404},
		{cat: "name", name: "unicode name", method: "POST", path: "/api/endpoints/h%C3%A9llo_%E2%98%83", status: 404},
		{cat: "name", name: "nul byte", method: "POST", path: "/api/endpoints/handle_webhook%00", status: 404},
		{cat: "name", name: "sql-looking name", method: "POST", path: "/api/endpoints/x%27%3B%20DROP%20TABLE%20executions--", status: 404},
		{cat: "name", name: "bad path escape", raw: "POST /api/endpoints/%zz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", status: 400, byNetHTTP: true},

		// methods
		{cat: "method", name: "DELETE on a POST endpoint", method: "DELETE", path: hw, status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "method", name: "GET on a POST endpoint", method: "GET", path: hw, status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "method", name: "HEAD on a POST endpoint", method: "HEAD", path: hw, status: 405, emptyBody: true, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "method", name: "PUT on a GET,POST endpoint", method: "PUT", path: flex, status: 405, wantHeader: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{cat: "method", name: "PATCH on a GET,POST endpoint", method: "PATCH", path: flex, status: 405, wantHeader: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{cat: "method", name: "unknown method", method: "PROPFIND", path: flex, status: 405, wantHeader: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{cat: "method", name: "TRACE", method: "TRACE", path: hw, status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "method", name: "lower-case post", method: "post", path: hw, status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "method", name: "HEAD on an execution", method: "HEAD", path: execs + unknownID, status: 405, emptyBody: true},
		{cat: "method", name: "GET on cancel", method: "GET", path: execs + unknownID + "/cancel", status: 405},
		{cat: "method", name: "405 before authentication", method: "DELETE", path: sec, noAuth: true, status: 405},
		{cat: "method", name: "HEAD on a GET endpoint", method: "HEAD", path: flex + "?query=x", status: 200, emptyBody: true},
		{cat: "method", name: "OPTIONS", method: "OPTIONS", path: flex, noAuth: true, status: 204, emptyBody: true, wantHeader: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{cat: "method", name: "OPTIONS on an unknown workflow", method: "OPTIONS", path: "/api/endpoints/nope", status: 404},
		{cat: "method", name: "unknown method on an unknown workflow", method: "PROPFIND", path: "/api/endpoints/nope", status: 404},

		// execution ids
		{cat: "execution", name: "malformed id without credential", method: "GET", path: execs + "not-an-id", noAuth: true, status: 401, wantHeader: challenge},
		{cat: "execution", name: "malformed id", method: "GET", path: execs + "not-an-id", status: 404},
		{cat: "execution", name: "unknown id without credential", method: "GET", path: execs + unknownID, noAuth: true, status: 401, wantHeader: challenge},
		{cat: "execution", name: "unknown id", method: "GET", path: execs + unknownID, status: 404},
		{cat: "execution", name: "sql-looking id without credential", method: "GET", path: execs + "1%27%20OR%20%271%27%3D%271", noAuth: true, status: 401},
		{cat: "execution", name: "sql-looking id", method: "GET", path: execs + "1%27%20OR%20%271%27%3D%271", status: 404},
		{cat: "execution", name: "sql wildcard id", method: "GET", path: execs + "%25", status: 404},
		{cat: "execution", name: "very long id", method: "GET", path: execs + strings.Repeat("0", 16<<10), status: 404},
		{cat: "execution", name: "other workflow's key sees not", method: "GET", path: execs + m.execID, noAuth: true, header: h("Authorization", "Bearer "+m.scopedKey), status: 404},
		{cat: "execution", name: "anonymous sees no private execution", method: "GET", path: execs + m.execID, noAuth: true, status: 401, wantHeader: challenge},
		{cat: "execution", name: "nul byte in an id", method: "GET", path: execs + "abc%00def", status: 404},
		{cat: "execution", name: "invalid utf-8 in an id", method: "GET", path: execs + "%FF%FE", status: 404},
		{cat: "execution", name: "invalid utf-8 id without credential", method: "GET", path: execs + "%FF%FE", noAuth: true, status: 401},
		{cat: "execution", name: "unknown id, huge wait", method: "GET", path: execs + unknownID + "?wait=100000h", status: 404},
		{cat: "execution", name: "cancel unknown id", method: "POST", path: execs + unknownID + "/cancel", status: 404},
		{cat: "execution", name: "cancel without credential", method: "POST", path: execs + m.execID + "/cancel", noAuth: true, status: 401},
		{cat: "execution", name: "DELETE an execution", method: "DELETE", path: execs + unknownID, status: 405},
		{cat: "execution", name: "list without credential", method: "GET", path: "/api/executions", noAuth: true, status: 401, wantHeader: challenge},
		{cat: "execution", name: "list with a scoped key", method: "GET", path: "/api/executions", noAuth: true, header: h("X-Bifrost-Key", m.scopedKey), status: 403},

		// credentials
		{cat: "credential", name: "missing", method: "POST", path: sec, noAuth: true, status: 401, wantHeader: challenge},
		{cat: "credential", name: "Bearer without token", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer"), status: 401, wantHeader: challenge},
		{cat: "credential", name: "Bearer with blanks", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer    "), status: 401, wantHeader: challenge},
		{cat: "credential", name: "Basic scheme", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Basic "+testKey), status: 401, wantHeader: challenge},
		{cat: "credential", name: "Token prefix", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Token "+testKey), status: 401, wantHeader: challenge},
		{cat: "credential", name: "key without scheme", method: "POST", path: sec, noAuth: true, header: h("Authorization", testKey), status: 401, wantHeader: challenge},
		{cat: "credential", name: "environment key with a suffix", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer "+testKey+"x"), status: 401, wantHeader: challenge},
		{cat: "credential", name: "malformed bf_ key", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer bf_short_secret"), status: 401, wantHeader: challenge},
		{cat: "credential", name: "well-formed unknown bf_ key", method: "POST", path: sec, noAuth: true,
			header: h("X-Bifrost-Key", "bf_"+strings.Repeat("a", 10)+"_"+strings.Repeat("b", 32)), status: 401, wantHeader: challenge},
		{cat: "credential", name: "revoked key", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer "+m.revoked), status: 401, wantHeader: challenge},
		{cat: "credential", name: "expired key", method: "POST", path: sec, noAuth: true, header: h("X-Bifrost-Key", m.expired), status: 401, wantHeader: challenge},
		{cat: "credential", name: "revoked key with a changed secret", method: "POST", path: sec, noAuth: true, header: h("X-Bifrost-Key", m.revoked[:len(m.revoked)-1]+"a"), status: 401},
		{cat: "credential", name: "key of another workflow", method: "POST", path: sec, noAuth: true, header: h("X-Bifrost-Key", m.scopedKey), status: 403},
		{cat: "credential", name: "JWT alg none", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer "+noneToken), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT wrong secret", method: "POST", path: sec, noAuth: true,
			header: h("Authorization", "Bearer "+jwtToken(t, jwt.SigningMethodHS256, []byte("other-secret"), jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix()})), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT expired", method: "POST", path: sec, noAuth: true,
			header: h("Authorization", "Bearer "+hs256(jwt.MapClaims{"sub": "u", "exp": now.Add(-time.Hour).Unix()})), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT without exp", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer "+hs256(jwt.MapClaims{"sub": "u"})), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT without sub", method: "POST", path: sec, noAuth: true,
			header: h("Authorization", "Bearer "+hs256(jwt.MapClaims{"exp": now.Add(time.Hour).Unix()})), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT HS384", method: "POST", path: sec, noAuth: true,
			header: h("Authorization", "Bearer "+jwtToken(t, jwt.SigningMethodHS384, matrixSessionSecret, jwt.MapClaims{"sub": "u", "exp": now.Add(time.Hour).Unix()})), status: 401, wantHeader: challenge},
		{cat: "credential", name: "JWT garbage segments", method: "POST", path: sec, noAuth: true, header: h("Authorization", "Bearer a.b.c"), status: 401, wantHeader: challenge},
		{cat: "credential", name: "bad credential on a public endpoint is ignored", method: "POST", path: gh, noAuth: true, header: withCT("application/json", "Authorization", "Bearer nope"),
			body: `{"action":"opened"}`, status: 200},

		// idempotency
		{cat: "idempotency", name: "key over 255 bytes", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("k", 256)), body: `{}`, status: 400,
			detail: "Idempotency-Key"},
		{cat: "idempotency", name: "key of 4 KiB", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("k", 4<<10)), body: `{}`, status: 400},
		{cat: "idempotency", name: "multi-byte key over 255 bytes", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("\xc3\xa9", 128)), body: `{}`, status: 400},
		{cat: "idempotency", name: "key of 255 bytes", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("k", 255)), body: `{}`, status: 202},
		{cat: "idempotency", name: "invalid utf-8 key", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", "k\xff\xfe"), body: `{}`, status: 400,
			detail: "printable ASCII"},
		{cat: "idempotency", name: "long key on a bad body: the body first", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("k", 256)),
			body: `[`, status: 400, locs: []string{"body"}},
		{cat: "idempotency", name: "same key, other body", method: "POST", path: long, header: withCT("application/json", "Idempotency-Key", strings.Repeat("k", 255)), body: `{"other":1}`, status: 422},
	}
	for i, r := range rows {
		if why, ok := pgBugs[r.cat+"/"+r.name]; ok && r.knownBug == "" {
			rows[i].knownBug = why
		}
	}
	runMatrix(t, m.url, rows)
}
