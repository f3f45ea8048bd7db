// Package consumers_test feeds the quickstart's OpenAPI document to the tools
// real consumers use, at pinned versions, and checks what they produce
// against the running binary (issue #6):
//
//   - oapi-codegen v2.8.2 generates a Go client from the 3.0 document the
//     binary serves; testdata/oapicodegen calls the binary with it.
//   - openapi-typescript 7.13.0 generates types from the committed 3.1
//     document (../openapi.json); tsc type-checks usage.ts against them.
//   - headless Chromium renders /api/docs as the binary serves it, with the
//     viewer embedded in it and every host but loopback unreachable, and
//     every operation must appear in the page.
//
// The npm packages are pinned by package.json and package-lock.json here and
// installed once per run with `npm ci`. A test skips when its tool (npm,
// chromium) is missing.
package consumers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime"
)

// scratch holds what the tests share: the quickstart binary and the npm
// install.
var scratch string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "quickstart-consumers-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// quickstartBinary builds ../cmd/quickstart once per run.
func quickstartBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(scratch, "quickstart")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/quickstart").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startQuickstart creates an API key with the quickstart binary and serves
// it on a free port (as examples/quickstart/demo_test.go does), with env
// added to its environment; it returns the base URL and the key.
func startQuickstart(t *testing.T, env ...string) (string, string) {
	t.Helper()
	bin := quickstartBinary(t)
	dir := t.TempDir()
	env = append(append(os.Environ(), "BIFROST_CONFIG_WEBHOOK_SECRET=demo-secret", "BIFROST_DB=demo.db"), env...)
	create := exec.Command(bin, "keys", "create", "--description", "consumers test")
	create.Dir, create.Env = dir, env
	out, err := create.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case a := <-addr:
		return "http://" + a, key
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start listening within 30s")
	}
	return "", ""
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, body)
	}
	return body
}

// run runs a command in dir and fails the test with its output.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s: %s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := copyFileErr(from, to); err != nil {
		t.Fatal(err)
	}
}

func copyFileErr(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// TestOapiCodegenRoundTrip generates a Go client with oapi-codegen from the
// 3.0 document the binary serves and calls the binary with it: sync results
// (201 from custom_status, the typed JSONResult of json_response), an async
// call polled to its end through the executions API, and a 400 problem with
// located errors (testdata/oapicodegen/roundtrip_test.go).
func TestOapiCodegenRoundTrip(t *testing.T) {
	base, key := startQuickstart(t)
	dir := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "roundtrip_test.go"} {
		copyFile(t, filepath.Join("testdata", "oapicodegen", f), filepath.Join(dir, f))
	}
	if err := os.WriteFile(filepath.Join(dir, "openapi-3.0.json"), get(t, base+"/api/openapi.json?version=3.0"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"GOFLAGS=-mod=mod", "GOWORK=off", "QUICKSTART_URL=" + base, "QUICKSTART_KEY=" + key}
	run(t, dir, env, "go", "run", "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2",
		"-generate", "types,client", "-package", "client", "-o", "client/client.gen.go", "openapi-3.0.json")
	run(t, dir, env, "go", "vet", "./...")
	run(t, dir, env, "go", "test", "-count=1", "-v", ".")
}

var (
	npmOnce sync.Once
	npmDir  string
	npmErr  error
)

// npmTools installs package.json's pinned packages (package-lock.json) once
// per run and returns the directory holding node_modules.
func npmTools(t *testing.T) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the openapi-typescript check needs Node.js and npm")
	}
	npmOnce.Do(func() {
		npmDir = filepath.Join(scratch, "npm")
		for _, f := range []string{"package.json", "package-lock.json"} {
			if npmErr = copyFileErr(f, filepath.Join(npmDir, f)); npmErr != nil {
				return
			}
		}
		start := time.Now()
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = npmDir
		if out, err := cmd.CombinedOutput(); err != nil {
			npmErr = fmt.Errorf("npm ci: %v\n%s", err, out)
			return
		}
		t.Logf("npm ci: %s", time.Since(start).Round(time.Millisecond))
	})
	if npmErr != nil {
		t.Fatal(npmErr)
	}
	return npmDir
}

// TestTypeScript generates types from the committed 3.1 document with
// openapi-typescript and type-checks usage.ts against them with tsc: a
// schema of the wrong shape (a missing required member, a wrong type or
// enum) fails the check.
func TestTypeScript(t *testing.T) {
	dir := npmTools(t)
	// node_modules resolves from the parent directories of usage.ts.
	work, err := os.MkdirTemp(dir, "ts-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	for _, f := range []string{"usage.ts", "tsconfig.json"} {
		copyFile(t, f, filepath.Join(work, f))
	}
	doc, err := filepath.Abs(filepath.Join("..", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "node_modules", ".bin")
	run(t, work, nil, filepath.Join(bin, "openapi-typescript"), doc, "-o", "schema.d.ts")
	run(t, work, nil, filepath.Join(bin, "tsc"), "-p", "tsconfig.json")
}

// chromium finds a Chromium or Chrome binary: $CHROMIUM, else on $PATH.
func chromium(t *testing.T) string {
	t.Helper()
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

// TestDocsPage renders /api/docs in headless Chromium as the binary serves
// it by default, with the viewer embedded in the binary and every host but
// the binary's unreachable (the page works offline), and checks that every
// operation of the served document appears in the page: its summary and its
// path.
func TestDocsPage(t *testing.T) {
	browser := chromium(t)
	// No override from the environment running the tests.
	base, _ := startQuickstart(t, "BIFROST_DOCS_SCRIPT_URL=")
	if page := string(get(t, base+"/api/docs")); !strings.Contains(page, `<script src="`+runtime.DocsViewerPath+"?v=") {
		t.Fatalf("/api/docs does not load the embedded viewer:\n%s", page)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=direct://",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=15000", "--dump-dom", base+"/api/docs")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	t.Logf("chromium --dump-dom: %s, %d bytes", time.Since(start).Round(time.Millisecond), len(dom))
	// The page's text: scripts and styles (the fallback message is in the
	// inline script too) left out, tags and entities undone.
	page := regexp.MustCompile(`(?is)<(script|style|noscript)\b.*?</(script|style|noscript)>`).ReplaceAllString(string(dom), "")
	if strings.Contains(page, "could not be loaded") {
		t.Fatalf("the page fell back to its no-viewer message:\n%.4000s", page)
	}
	// Tags dropped outright keep words split across elements together
	// (Scalar highlights parts of paths); dropped for a space, they keep
	// apart the words of neighbouring elements.
	tags := regexp.MustCompile(`<[^>]*>`)
	joined := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(page, ""))), " ")
	spaced := strings.Join(strings.Fields(html.UnescapeString(tags.ReplaceAllString(page, " "))), " ")
	inPage := func(s string) bool { return strings.Contains(joined, s) || strings.Contains(spaced, s) }

	var doc struct {
		Paths map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(get(t, base+"/api/openapi.json"), &doc); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct{ Summary, OperationID string }
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			ops++
			summary := strings.Join(strings.Fields(op.Summary), " ")
			if !inPage(summary) {
				t.Errorf("%s %s (%s): summary %q is not in the rendered page", strings.ToUpper(method), path, op.OperationID, summary)
			}
			if !inPage(path) {
				t.Errorf("%s %s (%s): the path is not in the rendered page", strings.ToUpper(method), path, op.OperationID)
			}
		}
	}
	if ops < 14 {
		t.Fatalf("only %d operations in the served document", ops)
	}
	if t.Failed() {
		t.Logf("rendered text: %.4000s", spaced)
	}
}
