package quickstart_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
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

// demoRun is one run of demo.sh, serving until the test stops it.
type demoRun struct {
	out string // what the script printed before the server started
	key string // the API key it printed
}

// runDemo runs demo.sh as `make demo` does, with DEMO_DIR=dir and env, waits
// until the server listens, returns what the script printed and stops the
// server.
func runDemo(t *testing.T, dir string, env ...string) demoRun {
	t.Helper()
	stdout, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	cmd := exec.Command("./demo.sh")
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "ADDR" && name != "PORT" && name != "DEMO_DIR" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "DEMO_DIR="+dir), env...)
	cmd.Stdout = stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// demo.sh execs the server: stopping the process stops the server.
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	listening := make(chan bool, 1)
	var errOut strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				listening <- true
				break
			}
			errOut.WriteString(sc.Text() + "\n")
		}
		_, _ = io.Copy(io.Discard, stderr)
		close(listening)
	}()
	select {
	case ok := <-listening:
		if !ok {
			t.Fatalf("demo.sh ended before serving:\n%s", errOut.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("demo.sh did not start the server within 3 minutes")
	}
	out, err := os.ReadFile(stdout.Name())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^API key: (bf_\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("demo.sh printed no API key:\n%s", out)
	}
	run := demoRun{out: string(out), key: string(m[1])}
	// The first curl line printed, run as printed: the address and the key
	// it carries work.
	first := regexp.MustCompile(`(?m)^curl .*handle_webhook.*Bearer.*$`).FindString(run.out)
	if first == "" {
		t.Fatalf("no authenticated curl line printed:\n%s", out)
	}
	res, err := exec.Command("bash", "-c", first+" --silent --show-error").CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^HTTP/[\d.]+ 200`).Match(res) {
		t.Errorf("%s: %v\n%s", first, err, res)
	}
	return run
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// TestDemoScript: `make demo` serves on PORT (on 127.0.0.1) or ADDR and
// prints curl lines for that address; it keeps its key in demo.key (0600)
// and reuses it across runs while it is live in demo.db, creating another
// once it is revoked; a bad address is refused before anything is built.
func TestDemoScript(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	dir := t.TempDir()
	onlyAt := func(run demoRun, addr string) {
		t.Helper()
		curls := regexp.MustCompile(`(?m)^.*curl .*$`).FindAllString(run.out, -1)
		if len(curls) < 8 {
			t.Fatalf("only %d curl lines printed:\n%s", len(curls), run.out)
		}
		for _, line := range curls {
			if !strings.Contains(line, "http://"+addr+"/") || strings.Contains(line, ":8080") {
				t.Errorf("curl line not for %s: %s", addr, line)
			}
		}
		if !strings.Contains(run.out, "Serving the quickstart workflows on http://"+addr) {
			t.Errorf("the address is not announced:\n%s", run.out)
		}
	}

	port := freePort(t)
	first := runDemo(t, dir, "PORT="+port)
	onlyAt(first, "127.0.0.1:"+port)
	if !strings.Contains(first.out, "building ") || !strings.Contains(first.out, "(new;") {
		t.Errorf("first run: want the build announced and a new key:\n%s", first.out)
	}
	keyfile := filepath.Join(dir, "demo.key")
	if fi, err := os.Stat(keyfile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("demo.key: %v, %v; want mode 0600", fi, err)
	}
	if data, _ := os.ReadFile(keyfile); strings.TrimSpace(string(data)) != first.key {
		t.Errorf("demo.key holds %q, want the printed key %q", data, first.key)
	}

	// ADDR wins over PORT; the key is reused.
	addr := "127.0.0.1:" + freePort(t)
	second := runDemo(t, dir, "ADDR="+addr, "PORT=1")
	onlyAt(second, addr)
	if second.key != first.key || !strings.Contains(second.out, "(reused from ") {
		t.Errorf("second run: key %s, want %s reused:\n%s", second.key, first.key, second.out)
	}

	// A revoked key is replaced.
	revoke := exec.Command(filepath.Join(dir, "quickstart"), "keys", "revoke", first.key)
	revoke.Env = append(os.Environ(), "BIFROST_DB="+filepath.Join(dir, "demo.db"))
	if out, err := revoke.CombinedOutput(); err != nil {
		t.Fatalf("keys revoke: %v\n%s", err, out)
	}
	third := runDemo(t, dir, "PORT="+freePort(t))
	if third.key == first.key || !strings.Contains(third.out, "not live") {
		t.Errorf("third run: key %s after revoking %s:\n%s", third.key, first.key, third.out)
	}
	if data, _ := os.ReadFile(keyfile); strings.TrimSpace(string(data)) != third.key {
		t.Errorf("demo.key holds %q, want the new key %q", data, third.key)
	}

	for _, env := range []string{"ADDR=8080", "PORT=http", "ADDR=127.0.0.1:"} {
		cmd := exec.Command("./demo.sh")
		cmd.Env = append(os.Environ(), "DEMO_DIR="+t.TempDir(), env)
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "want HOST:PORT") {
			t.Errorf("%s: exit %d (%v), want 2:\n%s", env, code, err, out)
		}
	}
}
