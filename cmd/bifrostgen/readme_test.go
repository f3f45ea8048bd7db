package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestREADMEModulePath does what the README's "Use it in your module" says,
// line by line, in a fresh module: init, generate, tidy, build, serve, call.
// Two things differ, each because of where the test runs: the module is
// required at v0.0.0 and replaced by this checkout (it is not fetched), so
// go get asks for @v0.0.0 instead of @latest; and the server listens on a
// free port instead of 8080.
func TestREADMEModulePath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	lines := readmeBlock(t, filepath.Join(root, "README.md"))
	dir := t.TempDir()
	t.Setenv("GOFLAGS", "-mod=mod")
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}

	var serveLine, curlLine string
	for _, line := range lines {
		cmdline := strings.TrimSpace(strings.SplitN(line, "  #", 2)[0])
		switch {
		case strings.HasPrefix(cmdline, "./hello serve"):
			serveLine = cmdline
			continue
		case strings.HasPrefix(cmdline, "curl "):
			curlLine = cmdline
			continue
		case strings.HasPrefix(cmdline, "go get -tool "):
			// No proxy lookup: the proxy refuses to say the module is unknown,
			// and the checkout is all there is to find.
			cmdline = "GOPROXY=off " + strings.Replace(cmdline, "@latest", "@v0.0.0", 1)
		}
		sh(t, dir, cmdline)
		if strings.HasPrefix(cmdline, "go mod init") { // the checkout stands in for the published module
			sh(t, dir, "go mod edit -require=github.com/bifrost-go/bifrost@v0.0.0 -replace=github.com/bifrost-go/bifrost="+root)
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if serveLine != "./hello serve" || !strings.Contains(curlLine, "/api/endpoints/hello?name=ada") {
		t.Fatalf("the README's block changed: serve %q, curl %q", serveLine, curlLine)
	}
	for _, want := range []string{"hello.go", "generate.go", "main.go", "bifrost_gen.go", "bifrost_gen.openapi.json", "hello"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("after the README's lines: %v", err)
		}
	}
	if out := sh(t, dir, "go tool bifrostgen init"); !strings.Contains(out, "nothing to do") {
		t.Errorf("init a second time changed something:\n%s", out)
	}

	key, base := serve(t, dir)
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/api/endpoints/hello?name=ada", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(key); code != 200 || !strings.Contains(body, `"message":"hello ada"`) {
		t.Errorf("the README's curl: %d %s", code, body)
	}
	if code, _ := get(""); code != 401 {
		t.Errorf("without the key: %d, want 401", code)
	}
}

// readmeBlock returns the command lines between the module-path markers.
func readmeBlock(t *testing.T, path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "<!-- module-path:begin -->")
	block, _, ok2 := strings.Cut(rest, "<!-- module-path:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no module-path block")
	}
	var lines []string
	for _, line := range strings.Split(block, "\n") {
		if line != "" && !strings.HasPrefix(line, "```") {
			lines = append(lines, line)
		}
	}
	return lines
}

// sh runs one command line in dir and returns its output.
func sh(t *testing.T, dir, line string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}

var keyRE = regexp.MustCompile(`bf_[a-z2-7]+_[a-z2-7]+`)

// serve starts ./hello serve on a free port and returns the key it printed
// and its base URL; the process is stopped when the test ends.
func serve(t *testing.T, dir string) (key, base string) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "./hello", "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	keys := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if k := keyRE.FindString(s.Text()); k != "" {
				keys <- k
			}
		}
	}()
	addrs := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(s.Bytes(), &line) == nil && line.Msg == "listening" {
				addrs <- line.Addr
			}
		}
	}()
	timeout := time.After(60 * time.Second)
	for key == "" || base == "" {
		select {
		case key = <-keys:
		case addr := <-addrs:
			base = "http://" + addr
		case <-timeout:
			t.Fatalf("./hello serve printed no key or address within a minute (key %q, address %q)", key, base)
		}
	}
	return key, base
}
