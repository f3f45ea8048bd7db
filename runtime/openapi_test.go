package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/openapi/openapitest"
	"github.com/bifrost-go/bifrost/runtime/internal/docsui"
)

func docsServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = s.Shutdown(context.Background())
	})
	return ts
}

func get(t *testing.T, ts *httptest.Server, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// TestServeOpenAPI: the server answers with OpenAPI()'s bytes, in each
// version and format, cacheable by ETag; hand-written workflows (no
// Operation) get an operation too.
func TestServeOpenAPI(t *testing.T) {
	workflows := testWorkflows()
	ts := docsServer(t, Options{Workflows: workflows})
	for _, c := range []struct {
		path        string
		version     openapi.Version
		format      openapi.Format
		contentType string
	}{
		{"/api/openapi.json", openapi.V31, openapi.JSON, "application/json"},
		{"/api/openapi.json?version=3.0", openapi.V30, openapi.JSON, "application/json"},
		{"/api/openapi.yaml", openapi.V31, openapi.YAML, "application/yaml"},
		{"/api/openapi.yaml?version=3.0.3", openapi.V30, openapi.YAML, "application/yaml"},
	} {
		want, err := OpenAPI(workflows, c.version, c.format)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, ts, c.path)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("GET %s: %d, %d bytes; want OpenAPI()'s %d bytes", c.path, resp.StatusCode, len(body), len(want))
		}
		if ct := resp.Header.Get("Content-Type"); ct != c.contentType {
			t.Errorf("GET %s: Content-Type %q", c.path, ct)
		}
		openapitest.Validate(t, c.path, body)
		etag := resp.Header.Get("ETag")
		if resp, _ := get(t, ts, c.path, "If-None-Match", etag); etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %q: %d", c.path, etag, resp.StatusCode)
		}
	}

	_, body := get(t, ts, "/api/openapi.json")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Summary     string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if op := doc.Paths["/api/endpoints/hello"]["post"]; op.OperationID != "hello_post" || op.Summary != "Hello" {
		t.Errorf("hand-written workflow hello: %+v", op)
	}

	resp, body := get(t, ts, "/api/openapi.json?version=2.0")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "query.version") {
		t.Errorf("version=2.0: %d %s", resp.StatusCode, body)
	}
}

// TestServeOpenAPIBroken: a workflow whose OpenAPI fragment is not JSON (a
// hand-written one) makes the document a 500, not a crash.
func TestServeOpenAPIBroken(t *testing.T) {
	wfs := testWorkflows()
	wfs[0].OpenAPI = []byte(`{"operations":{"hello":{"parameters":`)
	ts := docsServer(t, Options{Workflows: wfs})
	if resp, body := get(t, ts, "/api/openapi.json"); resp.StatusCode != http.StatusInternalServerError ||
		resp.Header.Get("Content-Type") != ContentTypeProblem {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// TestDocsPage: the reference page loads the viewer embedded in the binary
// by default (at its versioned path), else BIFROST_DOCS_SCRIPT_URL, else
// Options.DocsScriptURL (which wins), and renders /api/openapi.json.
func TestDocsPage(t *testing.T) {
	t.Setenv("BIFROST_DOCS_SCRIPT_URL", "")
	page := func(opts Options) string {
		t.Helper()
		resp, body := get(t, docsServer(t, opts), "/api/docs")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /api/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(string(body), "url: '/api/openapi.json'") {
			t.Errorf("the page does not render /api/openapi.json:\n%s", body)
		}
		if strings.Count(string(body), "<script src=") != 1 {
			t.Errorf("want one script loaded:\n%s", body)
		}
		return string(body)
	}
	if body := page(Options{}); !strings.Contains(body, `<script src="/api/docs/viewer.js?v=`+docsui.Hash()+`">`) {
		t.Errorf("embedded viewer missing:\n%s", body)
	}
	t.Setenv("BIFROST_DOCS_SCRIPT_URL", DocsViewerCDNURL)
	if body := page(Options{}); !strings.Contains(body, `<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@`+docsui.Version+`">`) {
		t.Errorf("env script missing:\n%s", body)
	}
	if body := page(Options{DocsScriptURL: `/assets/viewer.js?a=1&b="2"`}); !strings.Contains(body, `<script src="/assets/viewer.js?a=1&amp;b=%222%22">`) {
		t.Errorf("option script missing or unescaped:\n%s", body)
	}
}

// TestDocsViewer: GET /api/docs/viewer.js answers the embedded bundle as
// JavaScript, gzip-compressed to clients that accept it, with an ETag per
// encoding; immutable when asked for by its hash (as the page does),
// revalidated otherwise. It is served when the page loads another script
// too.
func TestDocsViewer(t *testing.T) {
	t.Setenv("BIFROST_DOCS_SCRIPT_URL", DocsViewerCDNURL)
	ts := docsServer(t, Options{Workflows: testWorkflows()})
	// No transport decompression: the test sees the bytes as sent.
	ts.Client().Transport.(*http.Transport).DisableCompression = true
	versioned := DocsViewerPath + "?v=" + docsui.Hash()
	for _, c := range []struct {
		path, accept string
		gzipped      bool
		cache        string
	}{
		{versioned, "", false, "public, max-age=31536000, immutable"},
		{versioned, "gzip, deflate, br", true, "public, max-age=31536000, immutable"},
		{DocsViewerPath, "br;q=1.0, gzip;q=0.8", true, "no-cache"},
		{DocsViewerPath + "?v=stale", "gzip;q=0, *", false, "no-cache"},
	} {
		name := c.path + " (Accept-Encoding: " + c.accept + ")"
		resp, body := get(t, ts, c.path, "Accept-Encoding", c.accept)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", name, resp.StatusCode)
		}
		want, etag, encoding := docsui.Script(), `"`+docsui.Hash()+`"`, ""
		if c.gzipped {
			want, etag, encoding = docsui.Gzip(), `"`+docsui.Hash()+`-gzip"`, "gzip"
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s: %d bytes, want the %d embedded ones", name, len(body), len(want))
		}
		for header, want := range map[string]string{
			"Content-Type":           "text/javascript; charset=utf-8",
			"Content-Encoding":       encoding,
			"Cache-Control":          c.cache,
			"ETag":                   etag,
			"Vary":                   "Accept-Encoding",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := resp.Header.Get(header); got != want {
				t.Errorf("%s: %s %q, want %q", name, header, got, want)
			}
		}
		if resp, body := get(t, ts, c.path, "Accept-Encoding", c.accept, "If-None-Match", etag); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("%s with If-None-Match %s: %d, %d bytes", name, etag, resp.StatusCode, len(body))
		}
	}
	if !bytes.Contains(docsui.Script()[:1000], []byte("@scalar/api-reference "+docsui.Version)) {
		t.Errorf("the embedded script is not @scalar/api-reference %s", docsui.Version)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                      false,
		"gzip":                  true,
		"GZIP":                  true,
		"deflate, gzip;q=1.0":   true,
		"gzip; q=0.001":         true,
		"gzip;q=0":              false,
		"gzip;q=0.0, *":         false,
		"*":                     true,
		"*;q=0":                 false,
		"*;q=0, gzip":           true,
		"br, deflate":           false,
		"identity":              false,
		"x-gzip":                true,
		"gzip;level=1;q=0":      false,
		"deflate;q=0.5, br;q=1": false,
	} {
		if got := acceptsGzip(accept); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", accept, got, want)
		}
	}
}
