package runtime

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/config"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/runtime/secret"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/workflow"
)

func encryptionKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"app"}, args...), &out, &errOut, nil)
	return code, out.String(), errOut.String()
}

func TestConfigCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bifrost.db")
	t.Setenv("BIFROST_DB", db)
	t.Setenv(secret.EnvKey, "")

	if code, _, errOut := runCLI(t, "config", "set", "stripe_secret", "whsec_plain_value", "--secret"); code != 1 || !strings.Contains(errOut, secret.EnvKey) {
		t.Fatalf("a secret without an encryption key: exit %d %q", code, errOut)
	}
	oldKey := encryptionKey(t)
	t.Setenv(secret.EnvKey, oldKey)
	for _, args := range [][]string{
		{"config", "set", "stripe_secret", "whsec_plain_value", "--secret"},
		{"config", "set", "api_url", "https://example.com"},
	} {
		if code, _, errOut := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	if _, out, _ := runCLI(t, "config", "get", "stripe_secret"); strings.TrimSpace(out) != masked {
		t.Fatalf("get shows a secret: %q", out)
	}
	if _, out, _ := runCLI(t, "config", "get", "stripe_secret", "--reveal"); strings.TrimSpace(out) != "whsec_plain_value" {
		t.Fatalf("get --reveal: %q", out)
	}
	if _, out, _ := runCLI(t, "config", "list"); strings.Contains(out, "whsec_plain_value") || !strings.Contains(out, "https://example.com") {
		t.Fatalf("list:\n%s", out)
	}
	for _, path := range []string{db, db + "-wal"} {
		if data, _ := os.ReadFile(path); bytes.Contains(data, []byte("whsec_plain_value")) {
			t.Fatalf("%s holds the secret in clear", path)
		}
	}

	// Rotation: the new key first, the old one after; rotate-key re-encrypts.
	newKey := encryptionKey(t)
	t.Setenv(secret.EnvKey, newKey+","+oldKey)
	if code, out, errOut := runCLI(t, "config", "rotate-key"); code != 0 || !strings.Contains(out, "re-encrypted 1 secret") {
		t.Fatalf("rotate-key: exit %d %s %s", code, out, errOut)
	}
	t.Setenv(secret.EnvKey, newKey)
	if _, out, _ := runCLI(t, "config", "get", "stripe_secret", "--reveal"); strings.TrimSpace(out) != "whsec_plain_value" {
		t.Fatalf("after rotation: %q", out)
	}
	// A wrong key fails clearly, naming the key id it lacks, never the value.
	t.Setenv(secret.EnvKey, encryptionKey(t))
	code, out, errOut := runCLI(t, "config", "get", "stripe_secret", "--reveal")
	if code != 1 || !strings.Contains(errOut, "does not hold") || strings.Contains(out+errOut, "whsec_plain_value") {
		t.Fatalf("a wrong key: exit %d %q %q", code, out, errOut)
	}
	if code, _, _ := runCLI(t, "config", "delete", "api_url"); code != 0 {
		t.Fatal("delete")
	}
	if code, _, _ := runCLI(t, "config", "delete", "api_url"); code != 1 {
		t.Fatal("deleting a missing key succeeded")
	}
}

// TestSecretsAreMaskedInRecords: a secret the workflow read (from the store
// or a secret-named environment variable) is masked in the execution's
// stored logs, error and result.
func TestSecretsAreMaskedInRecords(t *testing.T) {
	t.Setenv(secret.EnvKey, encryptionKey(t))
	t.Setenv("BIFROST_CONFIG_PARTNER_TOKEN", "env-token-123456")
	st := openStore(t, "")
	keys, _ := secret.FromEnv()
	ct, id, _ := keys.Encrypt("db_password", "s3cr3t-pa$$")
	if err := st.SetConfig(context.Background(), &store.ConfigValue{Name: "db_password", Value: ct, Secret: true, KeyID: id, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_ = st.SetConfig(context.Background(), &store.ConfigValue{Name: "region", Value: "eu-west", UpdatedAt: time.Now()})
	leaky := func(fail bool) func(ctx context.Context) (bind.Result, error) {
		return func(ctx context.Context) (bind.Result, error) {
			pw, err := config.Get(ctx, "db_password")
			if err != nil {
				return bind.Result{}, err
			}
			tok, _ := config.Get(ctx, "partner_token")
			region, _ := config.Get(ctx, "region")
			bifrost.Logger(ctx).Info("connecting with "+pw, "token", tok, "region", region)
			if fail {
				return bind.Result{}, errors.New("login failed for password " + pw)
			}
			return bind.JSON(200, map[string]string{"dsn": "postgres://app:" + pw + "@db/" + region, "token": tok}), nil
		}
	}
	wfs := []*Workflow{
		{Spec: workflow.Spec{Name: "leaks", Endpoint: true, Methods: []string{"POST"}, Timeout: time.Minute}, Decode: constant(leaky(false))},
		{Spec: workflow.Spec{Name: "fails", Endpoint: true, Methods: []string{"POST"}, Timeout: time.Minute}, Decode: constant(leaky(true))},
	}
	var processLog syncBuffer // stderr: the secrets must not reach it either (round 2, finding 7)
	srv, err := New(Options{Workflows: wfs, Store: st, Auth: &authConfigKey, Logger: slog.New(slog.NewJSONHandler(&processLog, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s := &execServer{store: st, srv: srv}
	s.url = startHandler(t, srv)
	var ids []string
	for _, name := range []string{"leaks", "fails"} {
		_, h, body := s.do(t, "POST", "/api/endpoints/"+name, "")
		if bytes.Contains(body, []byte("s3cr3t")) && name == "fails" {
			t.Fatalf("the 500 shows the secret: %s", body)
		}
		ids = append(ids, h.Get(HeaderExecutionID))
	}
	for _, id := range ids {
		v := s.view(t, id, "5s")
		raw, _ := json.Marshal(v)
		for _, leak := range []string{"s3cr3t-pa$$", "s3cr3t-pa\\u0024\\u0024", "env-token-123456"} {
			if strings.Contains(string(raw), leak) {
				t.Fatalf("record %s shows %q: %s", v.Workflow, leak, raw)
			}
		}
		if !strings.Contains(string(raw), masked) || !strings.Contains(string(raw), "eu-west") {
			t.Fatalf("record %s is not masked as expected: %s", v.Workflow, raw)
		}
	}
	log := processLog.String()
	for _, leak := range []string{"s3cr3t-pa$$", "s3cr3t-pa\\u0024\\u0024", "env-token-123456"} {
		if strings.Contains(log, leak) {
			t.Errorf("the process log shows %q:\n%s", leak, log)
		}
	}
	if !strings.Contains(log, "connecting with "+masked) || !strings.Contains(log, `"token":"`+masked+`"`) {
		t.Errorf("the process log does not have the masked line:\n%s", log)
	}
}
