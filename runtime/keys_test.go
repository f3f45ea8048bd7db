package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// The keys CLI and the first-start key, through run as the binary calls it.

func keyWorkflows() []*Workflow {
	return []*Workflow{sawWorkflow("hello", nil), sawWorkflow("other", nil)}
}

// keysCLI runs the binary's command line and returns its exit code and output.
func keysCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"app"}, args...), &out, &errOut, keyWorkflows())
	return code, out.String(), errOut.String()
}

// openKeyStore opens the store at db to look at its keys.
func openKeyStore(t *testing.T, db string) store.Store {
	t.Helper()
	st := openStore(t, db)
	t.Cleanup(func() { st.Close() })
	return st
}

// sqliteBytes is every byte of the SQLite store at db: the file, its WAL and
// shared memory.
func sqliteBytes(t *testing.T, db string) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(db + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no store at %s", db)
	}
	return all
}

// createWithCLI runs keys create and returns the printed key, checked.
func createWithCLI(t *testing.T, db string, args ...string) (id, key string) {
	t.Helper()
	code, out, errOut := keysCLI(t, append([]string{"keys", "create", "--db", db}, args...)...)
	if code != 0 {
		t.Fatalf("keys create %q: exit %d: %s", args, code, errOut)
	}
	key = strings.TrimSuffix(out, "\n")
	if strings.ContainsAny(key, "\n ") || key+"\n" != out {
		t.Fatalf("keys create printed %q: want only the key and a newline", out)
	}
	id, secret, err := auth.ParseKey(key)
	if err != nil {
		t.Fatalf("keys create printed %q: not a bf_<id>_<secret> key: %v", key, err)
	}
	if !strings.Contains(errOut, id) || strings.Contains(errOut, secret) {
		t.Errorf("stderr %q: want the id, never the secret", errOut)
	}
	return id, key
}

func TestKeysCreate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	id, key := createWithCLI(t, db, "--description", "ci deploys")
	_, secret, _ := auth.ParseKey(key)

	raw := sqliteBytes(t, db)
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte(key)) {
		t.Fatal("the SQLite file holds the key's secret")
	}
	if !bytes.Contains(raw, []byte(auth.HashSecret(secret))) {
		t.Fatal("the SQLite file does not hold the secret's hash: is this the right file?")
	}

	st := openKeyStore(t, db)
	k, err := st.GetKey(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if k.Hash != auth.HashSecret(secret) || !k.Global() || !k.ExpiresAt.IsZero() || !k.RevokedAt.IsZero() || k.Description != "ci deploys" {
		t.Errorf("stored %+v: want a global, live, non-expiring key with the secret's hash", k)
	}
	if d := time.Since(k.CreatedAt); d < 0 || d > time.Minute {
		t.Errorf("created at %v", k.CreatedAt)
	}
}

func TestKeysCreateScopedAndExpiring(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	scopedID, _ := createWithCLI(t, db, "--workflow", "hello", "--workflow", "other")
	in90, _ := createWithCLI(t, db, "--expires", "90d")
	in12h, _ := createWithCLI(t, db, "--expires", "12h", "--workflow", "other")
	st := openKeyStore(t, db)
	get := func(id string) *store.Key {
		k, err := st.GetKey(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := get(scopedID); strings.Join(k.Workflows, ",") != "hello,other" || !k.ExpiresAt.IsZero() {
		t.Errorf("scoped key: %+v", k)
	}
	if k := get(in90); !k.Global() || k.ExpiresAt.Sub(k.CreatedAt) != 90*24*time.Hour {
		t.Errorf("--expires 90d: created %v, expires %v", k.CreatedAt, k.ExpiresAt)
	}
	if k := get(in12h); strings.Join(k.Workflows, ",") != "other" || k.ExpiresAt.Sub(k.CreatedAt) != 12*time.Hour {
		t.Errorf("--expires 12h: %+v", k)
	}
}

func TestKeysCreateUsageErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	for _, args := range [][]string{
		{"--workflow", "nope"},
		{"--workflow", "hello", "--workflow", "nope"},
		{"--workflow", ""},
		{"--expires", "0d"},
		{"--expires", "-3d"},
		{"--expires", "xd"},
		{"--expires", "soon"},
		{"--expires", "-1h"},
		{"extra-argument"},
	} {
		code, out, errOut := keysCLI(t, append([]string{"keys", "create", "--db", db}, args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Error:") {
			t.Errorf("keys create %q: exit %d, stdout %q, stderr %q; want 2, nothing on stdout", args, code, out, errOut)
		}
	}
	if _, err := os.Stat(db); err == nil {
		if n, err := openKeyStore(t, db).CountKeys(context.Background()); err != nil || n != 0 {
			t.Errorf("refused creates stored %d keys (%v)", n, err)
		}
	}
}

func TestKeysList(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	if code, _, _ := keysCLI(t, "migrate", "--db", db); code != 0 { // an empty store
		t.Fatal("migrate failed")
	}
	code, out, errOut := keysCLI(t, "keys", "list", "--db", db)
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "ID") {
		t.Fatalf("list of no keys: exit %d %q %q; want only the header", code, out, errOut)
	}
	gid, global := createWithCLI(t, db, "--description", "the global one")
	sid, scoped := createWithCLI(t, db, "--workflow", "hello", "--workflow", "other")
	rid, revoked := createWithCLI(t, db)
	if code, _, errOut := keysCLI(t, "keys", "revoke", "--db", db, rid); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	st := openKeyStore(t, db)
	expired, _ := storeKey(t, st, func(k *store.Key) { k.ExpiresAt = time.Now().Add(-time.Hour) })

	code, out, errOut = keysCLI(t, "keys", "list", "--db", db)
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "ID SCOPE STATUS CREATED EXPIRES LAST USED DESCRIPTION" {
		t.Errorf("header %q", lines[0])
	}
	want := map[string]string{gid: "global live", sid: "hello,other live", rid: "global revoked", expired.ID: "global expired"}
	if len(lines) != 1+len(want) {
		t.Fatalf("list:\n%s", out)
	}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if w, ok := want[f[0]]; !ok || f[1]+" "+f[2] != w {
			t.Errorf("row %q: want %q", line, w)
		}
	}
	if !strings.Contains(out, "the global one") {
		t.Errorf("no description:\n%s", out)
	}
	for _, key := range []string{global, scoped, revoked} {
		_, secret, _ := auth.ParseKey(key)
		if strings.Contains(out, secret) || strings.Contains(out, auth.HashSecret(secret)) || strings.Contains(out+errOut, key) {
			t.Errorf("keys list shows a secret or its hash:\n%s", out)
		}
	}
}

func TestKeysRevoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	byID, _ := createWithCLI(t, db)
	byKey, wholeKey := createWithCLI(t, db)
	kept, _ := createWithCLI(t, db)

	code, out, errOut := keysCLI(t, "keys", "revoke", "--db", db, byID)
	if code != 0 || out != "revoked "+byID+"\n" {
		t.Fatalf("revoke by id: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = keysCLI(t, "keys", "revoke", "--db", db, wholeKey)
	_, secret, _ := auth.ParseKey(wholeKey)
	if code != 0 || out != "revoked "+byKey+"\n" || strings.Contains(out+errOut, secret) {
		t.Fatalf("revoke with the whole key: exit %d %q %q; want its id revoked, the secret never echoed", code, out, errOut)
	}
	if code, _, errOut := keysCLI(t, "keys", "revoke", "--db", db, byID); code != 0 {
		t.Errorf("revoking twice: exit %d %s; want 0 (nothing changes)", code, errOut)
	}
	code, out, errOut = keysCLI(t, "keys", "revoke", "--db", db, "nosuchkey0")
	if code != 1 || out != "" || !strings.Contains(errOut, "nosuchkey0") || !strings.Contains(errOut, "not found") {
		t.Errorf("revoke an unknown id: exit %d %q %q; want 1 naming it", code, out, errOut)
	}

	st := openKeyStore(t, db)
	for id, revoked := range map[string]bool{byID: true, byKey: true, kept: false} {
		k, err := st.GetKey(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !k.RevokedAt.IsZero() != revoked {
			t.Errorf("key %s revoked at %v, want revoked %v", id, k.RevokedAt, revoked)
		}
	}
}

func TestKeysRevokeUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	for _, args := range [][]string{{}, {"a", "b"}} {
		code, _, errOut := keysCLI(t, append([]string{"keys", "revoke", "--db", db}, args...)...)
		if code != 2 {
			t.Errorf("keys revoke %q: exit %d (%s), want 2 (a usage error)", args, code, errOut)
		}
	}
}

// serving is a `serve` started through run: its base URL, what it printed,
// and stop, which cancels it and returns its exit code.
type serving struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() int
}

// serveCLI runs `serve --addr 127.0.0.1:0 --db db` until it listens.
func serveCLI(t *testing.T, db string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"app", "serve", "--addr", "127.0.0.1:0", "--db", db, "--workers", "1"}, s.stdout, s.stderr, keyWorkflows())
	}()
	s.stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.Lines(s.stderr.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				s.url = "http://" + m["addr"].(string)
				t.Cleanup(func() {
					select {
					case <-ctx.Done():
					default:
						s.stop()
					}
				})
				return s
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before listening: %s %s", code, s.stdout, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not listen: %s", s.stderr)
	return nil
}

var printedKey = regexp.MustCompile(`bf_[a-z2-7]{10}_[a-z2-7]{32}`)

func TestServeFirstKey(t *testing.T) {
	t.Setenv("BIFROST_API_KEY", "")
	db := filepath.Join(t.TempDir(), "bifrost.db")

	s := serveCLI(t, db)
	keys := printedKey.FindAllString(s.stdout.String(), -1)
	if len(keys) != 1 {
		t.Fatalf("first start printed %d keys: %q", len(keys), s.stdout)
	}
	key := keys[0]
	id, secret, _ := auth.ParseKey(key)
	if !strings.Contains(s.stdout.String(), "keys revoke "+id) {
		t.Errorf("the first key's message does not say how to revoke it: %q", s.stdout)
	}
	if status, _, b := authDo(t, "POST", s.url+"/api/endpoints/hello", "", bearerHeader(key)); status != 200 {
		t.Errorf("the first key is refused: %d %s", status, b)
	}
	if status, _, _ := authDo(t, "POST", s.url+"/api/endpoints/hello", "", nil); status != 401 {
		t.Errorf("no key: %d, want 401", status)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, s.stderr)
	}
	if strings.Contains(s.stderr.String(), secret) {
		t.Error("the log holds the first key's secret")
	}
	k, err := openKeyStore(t, db).GetKey(context.Background(), id)
	if err != nil || !k.Global() || !k.RevokedAt.IsZero() || !k.ExpiresAt.IsZero() {
		t.Fatalf("the first key as stored: %+v, %v; want global and live", k, err)
	}
	if k.LastUsedAt.IsZero() || k.LastUsedAt.Before(k.CreatedAt) {
		t.Errorf("last use %v: the call with the key is not recorded (written on shutdown at the latest)", k.LastUsedAt)
	}
	if bytes.Contains(sqliteBytes(t, db), []byte(secret)) {
		t.Error("the store holds the first key's secret")
	}

	// The second start finds a key and prints none; the first still works.
	s = serveCLI(t, db)
	if out := s.stdout.String(); strings.Contains(out, "bf_") || strings.Contains(out, "Created") {
		t.Errorf("the second start printed %q", out)
	}
	if status, _, b := authDo(t, "POST", s.url+"/api/endpoints/hello", "", bearerHeader(key)); status != 200 {
		t.Errorf("the first key after a restart: %d %s", status, b)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, s.stderr)
	}

	// Revoked, it is still a key: a third start prints none either.
	if code, _, errOut := keysCLI(t, "keys", "revoke", "--db", db, id); code != 0 {
		t.Fatal(errOut)
	}
	s = serveCLI(t, db)
	if out := s.stdout.String(); strings.Contains(out, "bf_") {
		t.Errorf("a start with only a revoked key printed %q", out)
	}
	s.stop()
}

func TestServeNoFirstKeyWithEnvKey(t *testing.T) {
	const envKey = "env-key-for-serve-0123456789"
	t.Setenv("BIFROST_API_KEY", envKey)
	db := filepath.Join(t.TempDir(), "bifrost.db")
	s := serveCLI(t, db)
	if out := s.stdout.String(); out != "" {
		t.Errorf("with BIFROST_API_KEY, serve printed %q", out)
	}
	if status, _, b := authDo(t, "POST", s.url+"/api/endpoints/hello", "", bearerHeader(envKey)); status != 200 {
		t.Errorf("BIFROST_API_KEY is refused: %d %s", status, b)
	}
	if strings.Contains(s.stderr.String(), envKey) {
		t.Error("the log holds BIFROST_API_KEY")
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, s.stderr)
	}
	if n, err := openKeyStore(t, db).CountKeys(context.Background()); err != nil || n != 0 {
		t.Errorf("with BIFROST_API_KEY, serve stored %d keys (%v)", n, err)
	}
}
