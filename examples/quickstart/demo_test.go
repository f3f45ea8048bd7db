package quickstart_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startBinary builds the quickstart binary, creates an API key with it and
// serves it on a free port, the way `make demo` does; it returns the base URL
// and the key. The process is stopped when the test ends.
func startBinary(t *testing.T) (string, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, "./cmd/quickstart")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	env := append(os.Environ(), "BIFROST_CONFIG_WEBHOOK_SECRET=demo-secret", "BIFROST_DB=demo.db")
	create := exec.Command(bin, "keys", "create", "--description", "demo test")
	create.Dir, create.Env = dir, env
	out, err := create.Output()
	if err != nil {
		t.Fatalf("keys create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = env
	cmd.Dir = dir
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

// TestDemoCurlLines runs every curl line that `make demo` prints against the
// real binary and checks its status: the README's promise that they work as
// printed.
func TestDemoCurlLines(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	base, key := startBinary(t)
	if !strings.HasPrefix(key, "bf_") {
		t.Fatalf("keys create printed %q", key)
	}
	data, err := os.ReadFile("demo.curl")
	if err != nil {
		t.Fatal(err)
	}
	expect := regexp.MustCompile(`\(expect (\d{3})\)`)
	statusLine := regexp.MustCompile(`(?m)^HTTP/[\d.]+ (\d{3})`)
	want := 200
	lines := 0
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			want = 0
			if m := expect.FindStringSubmatch(line); m != nil {
				want, _ = strconv.Atoi(m[1])
			}
			continue
		case strings.TrimSpace(line) == "":
			continue
		}
		lines++
		cmdline := strings.ReplaceAll(strings.ReplaceAll(line, "http://127.0.0.1:8080", base), "$KEY", key)
		out, err := exec.Command("bash", "-c", cmdline+" --silent --show-error").CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
			continue
		}
		m := statusLine.FindSubmatch(out)
		if m == nil {
			t.Errorf("%s: no status line in\n%s", line, out)
			continue
		}
		status, _ := strconv.Atoi(string(m[1]))
		switch {
		case want != 0 && status != want:
			t.Errorf("%s: status %d, want %d\n%s", line, status, want, out)
		case want == 0 && (status < 200 || status > 299):
			t.Errorf("%s: status %d, want 2xx\n%s", line, status, out)
		}
		calls := strings.Contains(line, "/api/endpoints/") && !strings.Contains(line, "/api/executions")
		if calls && !strings.Contains(strings.ToLower(string(out)), "x-bifrost-execution-id:") {
			t.Errorf("%s: no X-Bifrost-Execution-Id in\n%s", line, out)
		}
	}
	if lines < 8 {
		t.Fatalf("only %d curl lines in demo.curl", lines)
	}
}
