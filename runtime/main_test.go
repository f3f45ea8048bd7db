package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/workflow"
)

// startServe runs serve on a free port and returns its base URL, its log and
// the channel its result arrives on.
func startServe(t *testing.T, ctx context.Context, workflows []*Workflow) (string, *syncBuffer, <-chan error) {
	t.Helper()
	logs := &syncBuffer{}
	opts := Options{Workflows: workflows, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, opts, "127.0.0.1:0", "") }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range logs.lines(t) {
			if line["msg"] == "listening" {
				addr, _ := line["addr"].(string)
				if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
					t.Fatalf("listening on %q, want the real address", addr)
				}
				return "http://" + addr, logs, done
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned before listening: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line:\n%s", logs)
	return "", nil, nil
}

func TestServeStartsAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, logs, done := startServe(t, ctx, testWorkflows())

	for path, want := range map[string]int{"/healthz": 200, "/api/endpoints/hello?name=x": 200, "/nowhere": 404} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still accepting after shutdown")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line:\n%s", logs)
	}
}

func TestServeDrainsInFlight(t *testing.T) {
	started := make(chan struct{})
	wf := &Workflow{
		Spec: workflow.Spec{
			Name:     "steady",
			Endpoint: true,
			Public:   true,
			Methods:  []string{"POST"},
		},
		Decode: constant(func(ctx context.Context) (bind.Result, error) {
			close(started)
			select { // finishes its work after shutdown began, unless its context ends
			case <-time.After(300 * time.Millisecond):
				return bind.JSON(http.StatusOK, "finished"), nil
			case <-ctx.Done():
				return bind.Result{}, ctx.Err()
			}
		}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, _, done := startServe(t, ctx, []*Workflow{wf})

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Post(url+"/api/endpoints/steady", "", nil)
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel() // shut down with the request in flight

	r := <-got
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "finished") {
		t.Errorf("in-flight request: %d %q %v, want it to finish", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

func TestServeBadAddress(t *testing.T) {
	err := serve(context.Background(), Options{Logger: slog.New(slog.DiscardHandler)}, "256.0.0.1:http-nope", "")
	if err == nil {
		t.Fatal("serve on a bad address succeeded")
	}
}

func TestWorkflowsCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"/usr/bin/app", "workflows"}, &out, &errOut, testWorkflows())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "NAME METHODS MODE ACCESS VERIFY RATE TIMEOUT SCHEDULE NEXT RUN ENDPOINT FUNC" {
		t.Errorf("header %q", lines[0])
	}
	want := map[string]string{
		"hello":      "hello GET,POST sync public - - 1m0s - - /api/endpoints/hello example.com/app.Hello",
		"background": "background - sync - - - 0s - - - Background",
	}
	found := 0
	for _, line := range lines[1:] {
		f := strings.Join(strings.Fields(line), " ")
		if w, ok := want[strings.Fields(line)[0]]; ok {
			found++
			if !strings.HasPrefix(f, w) {
				t.Errorf("row %q, want %q", f, w)
			}
		}
	}
	if found != len(want) || len(lines)-1 != len(testWorkflows()) {
		t.Errorf("table:\n%s", out.String())
	}
	if !slices.IsSortedFunc(lines[1:], func(a, b string) int { return strings.Compare(strings.Fields(a)[0], strings.Fields(b)[0]) }) {
		t.Errorf("rows not sorted by name:\n%s", out.String())
	}

	out.Reset()
	if code := run(context.Background(), []string{"app", "workflows", "--format", "json"}, &out, &errOut, testWorkflows()); code != 0 {
		t.Fatalf("--format json: exit %d: %s", code, errOut.String())
	}
	var listed []struct {
		Name    string   `json:"name"`
		Methods []string `json:"methods"`
		Public  bool     `json:"public"`
		Mode    string   `json:"mode"`
	}
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil || len(listed) != len(testWorkflows()) {
		t.Fatalf("--format json: %v\n%s", err, out.String())
	}
	for _, w := range listed {
		if w.Name == "hello" && (!w.Public || w.Mode != "sync" || len(w.Methods) != 2) {
			t.Errorf("hello as JSON: %+v", w)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Chdir(t.TempDir()) // serve opens its default store in the working directory
	for _, tc := range []struct {
		args []string
		wfs  []*Workflow
		code int
		out  string
	}{
		{[]string{"app", "--help"}, nil, 0, "serve"},
		{[]string{"app"}, nil, 0, "workflows"},
		{[]string{"app", "serv"}, nil, 2, `did you mean serve?`},
		{[]string{"app", "serve", "--nope"}, nil, 2, "unknown flag"},
		{[]string{"app", "workflows", "extra"}, nil, 2, "no arguments"},
		{[]string{"app", "workflows"}, []*Workflow{{Spec: workflow.Spec{Name: "a"}}, {Spec: workflow.Spec{Name: "a"}}}, 1, "two workflows"},
		{[]string{"app", "serve", "--addr", "not an address"}, nil, 1, "not an address"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errOut, tc.wfs)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.out) {
			t.Errorf("%q: exit %d, want %d; output %q %q, want %q", tc.args, code, tc.code, out.String(), errOut.String(), tc.out)
		}
	}
}

func TestHelpNamesTheEnvironment(t *testing.T) {
	var out bytes.Buffer
	run(context.Background(), []string{"app", "serve", "--help"}, &out, &out, nil)
	for _, name := range []string{"BIFROST_ADDR", "BIFROST_DB", "BIFROST_WORKERS"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("help does not name %s:\n%s", name, out.String())
		}
	}
	if !strings.Contains(out.String(), "app serve") {
		t.Errorf("help does not use the program's name:\n%s", out.String())
	}
}

// TestNoHiddenEnvironmentTwins: only the variables the docs list are read;
// a flag such as --reveal or --secret has no BIFROST_ twin that would change
// what a command does behind the user's back (SPEC §8).
func TestNoHiddenEnvironmentTwins(t *testing.T) {
	t.Setenv("BIFROST_ENCRYPTION_KEY", "")
	t.Setenv("BIFROST_SECRET", "true")
	t.Setenv("BIFROST_REVEAL", "1")
	db := filepath.Join(t.TempDir(), "bifrost.db")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"app", "config", "set", "--db", db, "plain", "v"}, &out, &errOut, nil); code != 0 {
		t.Fatalf("config set: exit %d: %s", code, errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"app", "config", "list", "--db", db}, &out, &errOut, nil); code != 0 {
		t.Fatalf("config list: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "plain  v") {
		t.Errorf("BIFROST_SECRET made a plain value secret:\n%s", out.String())
	}
}

func TestDBFromEnv(t *testing.T) {
	db := filepath.Join(t.TempDir(), "from-env.db")
	t.Setenv("BIFROST_DB", db)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"app", "config", "set", "k", "v"}, &out, &errOut, nil); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("BIFROST_DB not used: %v", err)
	}
}

func TestServeAddrFromEnv(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("BIFROST_ADDR", "not an env address")
	var out bytes.Buffer
	code := run(context.Background(), []string{"app", "serve"}, &out, &out, nil)
	if code != 1 || !strings.Contains(out.String(), "not an env address") {
		t.Errorf("exit %d, output %q: want serve to use BIFROST_ADDR", code, out.String())
	}
}

// TestMissingDatabase: a command that reads the store, run where the
// database is not, says which absolute path it looked at and how to point
// elsewhere, and creates nothing; serve logs the absolute path it opened.
func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("BIFROST_DB", "")
	want := filepath.Join(dir, "bifrost.db")
	for _, args := range [][]string{{"keys", "list"}, {"executions", "list"}, {"config", "list"}, {"executions", "get", "x"}, {"keys", "revoke", "x"}} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"app"}, args...), &out, &errOut, nil)
		if code != 1 || !strings.Contains(errOut.String(), "no database at "+want) || !strings.Contains(errOut.String(), "--db") {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 naming %s and --db", args, code, errOut.String(), want)
		}
	}
	if _, err := os.Stat(want); !os.IsNotExist(err) {
		t.Fatalf("a read-only command created %s (%v)", want, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"app", "serve", "--addr", "127.0.0.1:0", "--db", "sub/app.db"}, &out, &errOut, nil)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errOut.String(), `"listening"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(errOut.String(), `"db":"sqlite:`+filepath.Join(dir, "sub", "app.db")+`"`) {
		t.Errorf("serve did not log the absolute path of its database:\n%s", errOut.String())
	}
}

// TestServeWarnsOfASharedDatabase (round 2, finding 5): a database file
// others may read is named in a warning at start; a new one is 0600.
func TestServeWarnsOfASharedDatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "shared.db")
	serveOnce := func() string {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"app", "serve", "--addr", "127.0.0.1:0", "--db", db}, &out, &errOut, nil)
		}()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(errOut.String(), `"listening"`) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		return errOut.String()
	}
	if log := serveOnce(); strings.Contains(log, "readable by other users") {
		t.Errorf("a new database was reported shared:\n%s", log)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new database: %v %v", fi.Mode(), err)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	if log := serveOnce(); !strings.Contains(log, "readable by other users") || !strings.Contains(log, "chmod 600 "+db) {
		t.Errorf("no warning for a 0644 database:\n%s", log)
	}
}

// TestPruneCommand: executions prune --before deletes the ended executions
// older than the age given, and says how many.
func TestPruneCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	st, err := storeopen.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	var execs []*store.Execution
	for i := range 3 {
		at := old.Add(time.Duration(i) * time.Second)
		execs = append(execs, &store.Execution{ID: newExecutionID(t), Workflow: "w", Mode: "sync", Status: store.Succeeded,
			Attempt: 1, CreatedAt: at, StartedAt: at, FinishedAt: at})
	}
	fresh := &store.Execution{ID: newExecutionID(t), Workflow: "w", Mode: "sync", Status: store.Succeeded, Attempt: 1,
		CreatedAt: time.Now(), StartedAt: time.Now(), FinishedAt: time.Now()}
	if err := st.Record(context.Background(), append(execs, fresh)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"app", "executions", "prune", "--before", "1d", "--db", db}, &out, &errOut, nil); code != 0 ||
		!strings.HasPrefix(out.String(), "deleted 3 execution(s)") {
		t.Fatalf("prune: exit %d %q %q", code, out.String(), errOut.String())
	}
	if code := run(context.Background(), []string{"app", "executions", "prune", "--db", db}, &out, &errOut, nil); code != 2 {
		t.Errorf("prune without --before: exit %d, want 2", code)
	}
}
