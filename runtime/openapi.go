package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/runtime/internal/docsui"
	"github.com/bifrost-go/bifrost/workflow"
)

// DocsViewerPath is where the server serves the API reference viewer
// embedded in the binary (Scalar's standalone bundle, at a pinned version),
// and what /api/docs loads unless Options.DocsScriptURL or
// BIFROST_DOCS_SCRIPT_URL names another script. The page asks for it with
// ?v= and the bundle's hash, which it answers with immutable caching.
const DocsViewerPath = "/api/docs/viewer.js"

// DocsViewerCDNURL is the embedded viewer, the same version, on jsDelivr:
// a value for Options.DocsScriptURL or BIFROST_DOCS_SCRIPT_URL, for
// deployments that would rather have browsers fetch it from a CDN.
const DocsViewerCDNURL = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@" + docsui.Version

// DefaultDocsScriptURL was the script /api/docs loaded by default.
//
// Deprecated: /api/docs now loads the viewer embedded in the binary, at
// DocsViewerPath; use DocsViewerCDNURL to load it from the CDN.
const DefaultDocsScriptURL = DocsViewerCDNURL

// OpenAPI returns the OpenAPI document of the workflows: the bytes the
// server answers GET /api/openapi.json with, and the bytes
// `bifrostgen generate --openapi` writes for the same workflows (both call
// this function). Workflows without an endpoint have no operation.
func OpenAPI(workflows []*Workflow, version openapi.Version, format openapi.Format) ([]byte, error) {
	specs := make([]*workflow.Spec, 0, len(workflows))
	for _, wf := range workflows {
		if wf != nil {
			specs = append(specs, &wf.Spec)
		}
	}
	return openapi.Document(specs, version, format)
}

// apiDocs serves the document and the reference page of one server's
// workflows. Each document is built once, on first request.
type apiDocs struct {
	s      *Server
	script string

	mu   sync.Mutex
	docs map[docKey]builtDoc
}

type docKey struct {
	version openapi.Version
	format  openapi.Format
}

type builtDoc struct {
	body []byte
	etag string
	err  error
}

// registerOpenAPI mounts GET /api/openapi.json, /api/openapi.yaml (both
// 3.1; ?version=3.0 for 3.0.3), /api/docs and the viewer it loads,
// DocsViewerPath (served even when the page loads another script).
func (s *Server) registerOpenAPI(e *echo.Echo) {
	d := &apiDocs{s: s, script: s.docsJS, docs: map[docKey]builtDoc{}}
	if d.script == "" {
		d.script = os.Getenv("BIFROST_DOCS_SCRIPT_URL")
	}
	if d.script == "" {
		d.script = DocsViewerPath + "?v=" + docsui.Hash()
	}
	e.GET("/api/openapi.json", func(c echo.Context) error { return d.serve(c, openapi.JSON) })
	e.GET("/api/openapi.yaml", func(c echo.Context) error { return d.serve(c, openapi.YAML) })
	e.GET("/api/docs", d.page)
	e.GET(DocsViewerPath, d.viewer)
}

func (d *apiDocs) document(key docKey) builtDoc {
	d.mu.Lock()
	defer d.mu.Unlock()
	if doc, ok := d.docs[key]; ok {
		return doc
	}
	body, err := OpenAPI(d.s.workflows, key.version, key.format)
	sum := sha256.Sum256(body)
	doc := builtDoc{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, err: err}
	d.docs[key] = doc
	return doc
}

func (d *apiDocs) serve(c echo.Context, format openapi.Format) error {
	start := time.Now()
	defer d.s.logAccess(c, start, slog.LevelInfo, "", "")
	version, err := openapi.ParseVersion(c.QueryParam("version"))
	if err != nil {
		p := newProblem(http.StatusBadRequest, "version must be 3.1 or 3.0")
		p.Errors = append(p.Errors, fieldError("query.version", err.Error()))
		return writeProblem(c, p, "")
	}
	doc := d.document(docKey{version, format})
	if doc.err != nil {
		d.s.log.LogAttrs(c.Request().Context(), slog.LevelError, "openapi document", slog.String("error", doc.err.Error()))
		return writeProblem(c, newProblem(http.StatusInternalServerError, "the OpenAPI document could not be built"), "")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, map[openapi.Format]string{openapi.JSON: echo.MIMEApplicationJSON, openapi.YAML: "application/yaml"}[format])
	h.Set("ETag", doc.etag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(doc.body))
	return nil
}

// docsPage is the API reference: the viewer's script renders
// /api/openapi.json; without it (a configured script that cannot be
// loaded) the page says where the document is. Scalar's default fonts are
// turned off: they come from fonts.scalar.com, and the page (with the
// embedded viewer) asks no other host for anything.
var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
</head>
<body>
<div id="app"></div>
<noscript>The API reference needs JavaScript. The OpenAPI document is at <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
<script src="{{.Script}}"></script>
<script>
if (window.Scalar && Scalar.createApiReference) {
  Scalar.createApiReference('#app', { url: '/api/openapi.json', withDefaultFonts: false });
} else {
  document.getElementById('app').innerHTML = '<p>The API reference viewer could not be loaded. The OpenAPI document is at <a href="/api/openapi.json">/api/openapi.json</a> (YAML: <a href="/api/openapi.yaml">/api/openapi.yaml</a>).</p>';
}
</script>
</body>
</html>
`))

func (d *apiDocs) page(c echo.Context) error {
	start := time.Now()
	defer d.s.logAccess(c, start, slog.LevelInfo, "", "")
	var b bytes.Buffer
	if err := docsPage.Execute(&b, struct{ Script string }{d.script}); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, b.Bytes())
}

// viewer serves the embedded viewer: gzip-compressed when the client
// accepts it, with an ETag per encoding, and cached for good when asked
// for by the content's hash (?v=, as the page does).
func (d *apiDocs) viewer(c echo.Context) error {
	start := time.Now()
	defer d.s.logAccess(c, start, slog.LevelInfo, "", "")
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if c.QueryParam("v") == docsui.Hash() {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := docsui.Script(), docsui.Hash()
	if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		body, etag = docsui.Gzip(), etag+"-gzip"
		h.Set(echo.HeaderContentEncoding, "gzip")
	}
	h.Set("ETag", `"`+etag+`"`)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
	return nil
}

// acceptsGzip reports whether an Accept-Encoding header value admits gzip:
// named with a q above 0, or not named and * admitted.
func acceptsGzip(accept string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(accept, ",") {
		coding, params, _ := strings.Cut(part, ";")
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			name, value, _ := strings.Cut(param, "=")
			if strings.EqualFold(strings.TrimSpace(name), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = max(gzipQ, q)
		case "*":
			starQ = max(starQ, q)
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
