package webhooks_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/examples/webhooks"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/secret"
	"github.com/bifrost-go/bifrost/runtime/store"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/webhook"
)

const (
	githubSecret   = "It's a Secret to Everybody"
	stripeSecret   = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
	stripeOld      = "whsec_old_secret_being_rolled_away_00"
	slackSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	standardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	alertsSecret   = "alerts-shared-secret"
)

// serve runs the receivers on a real server. The Stripe secret (two of them,
// mid-rotation) comes from the store, encrypted; the others from the
// environment, the way an operator would set them.
func serve(t *testing.T) (string, string) {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	t.Setenv(secret.EnvKey, base64.StdEncoding.EncodeToString(key))
	t.Setenv("BIFROST_CONFIG_GITHUB_WEBHOOK_SECRET", githubSecret)
	t.Setenv("BIFROST_CONFIG_SLACK_SIGNING_SECRET", slackSecret)
	t.Setenv("BIFROST_CONFIG_STANDARD_WEBHOOK_SECRET", standardSecret)
	t.Setenv("BIFROST_CONFIG_ALERTS_SECRET", alertsSecret)

	dbPath := filepath.Join(t.TempDir(), "bifrost.db")
	st, err := storeopen.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ct, id, err := keys.Encrypt("stripe_webhook_secret", stripeSecret+"\n"+stripeOld)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfig(context.Background(), &store.ConfigValue{Name: "stripe_webhook_secret", Value: ct, Secret: true, KeyID: id, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Options{Workflows: webhooks.Workflows(), Logger: slog.New(slog.DiscardHandler), Store: st, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Shutdown(context.Background())
		_ = st.Close()
	})
	return ts.URL, dbPath
}

type delivery struct {
	name   string
	path   string
	header http.Header
	body   string
	want   int
}

func post(t *testing.T, url string, d delivery) {
	t.Helper()
	req, err := http.NewRequest("POST", url+d.path, strings.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = d.header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != d.want {
		t.Errorf("%s: %d, want %d: %s", d.name, resp.StatusCode, d.want, b)
	}
	if resp.StatusCode == 401 && (bytes.Contains(b, []byte("sha256=")) || bytes.Contains(b, []byte("v1="))) {
		t.Errorf("%s: the 401 shows a signature: %s", d.name, b)
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// TestSendersAsTheySign signs each sender's requests the way the sender does
// and sends them to a running server; every tampered variant is a 401.
func TestSendersAsTheySign(t *testing.T) {
	url, dbPath := serve(t)
	now := time.Now()

	push := `{"ref":"refs/heads/main","after":"9f1c","repository":{"full_name":"octo/hello"}}`
	gh := webhook.SignGitHub(githubSecret, []byte(push))
	stripeBody := `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}`
	stripeSig := webhook.SignStripe(stripeSecret, []byte(stripeBody), now)
	stripeOldSig := webhook.SignStripe(stripeOld, []byte(stripeBody), now)
	stale := now.Add(-6 * time.Minute)
	slackBody := "token=x&team_id=T1&command=%2Fdeploy&text=prod&user_name=ana"
	slackSig, slackTS := webhook.SignSlack(slackSecret, []byte(slackBody), now)
	staleSig, staleTS := webhook.SignSlack(slackSecret, []byte(slackBody), stale)
	std := `{"type":"invoice.paid","data":{"id":"in_1"}}`
	stdSig, err := webhook.SignStandard(standardSecret, "msg_1", now, []byte(std))
	if err != nil {
		t.Fatal(err)
	}
	alert := `{"level":"critical"}`

	json := "application/json"
	form := "application/x-www-form-urlencoded"
	ts := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	for _, d := range []delivery{
		{"github", "/api/endpoints/github_push", header("Content-Type", json, "X-Hub-Signature-256", gh, "X-GitHub-Delivery", "d1"), push, 200},
		{"github tampered body", "/api/endpoints/github_push", header("Content-Type", json, "X-Hub-Signature-256", gh), strings.Replace(push, "main", "evil", 1), 401},
		{"github re-serialised body", "/api/endpoints/github_push", header("Content-Type", json, "X-Hub-Signature-256", gh), strings.ReplaceAll(push, ",", ", "), 401},
		{"github tampered signature", "/api/endpoints/github_push", header("Content-Type", json, "X-Hub-Signature-256", gh[:len(gh)-1]+"0"), push, 401},
		{"github wrong secret", "/api/endpoints/github_push", header("Content-Type", json, "X-Hub-Signature-256", webhook.SignGitHub("other", []byte(push))), push, 401},
		{"github missing header", "/api/endpoints/github_push", header("Content-Type", json), push, 401},

		{"stripe", "/api/endpoints/stripe_events", header("Content-Type", json, "Stripe-Signature", stripeSig), stripeBody, 200},
		{"stripe signed with the old secret of a roll", "/api/endpoints/stripe_events", header("Content-Type", json, "Stripe-Signature", stripeOldSig), stripeBody, 200},
		{"stripe stale", "/api/endpoints/stripe_events", header("Content-Type", json, "Stripe-Signature", webhook.SignStripe(stripeSecret, []byte(stripeBody), stale)), stripeBody, 401},
		{"stripe tampered body", "/api/endpoints/stripe_events", header("Content-Type", json, "Stripe-Signature", stripeSig), strings.Replace(stripeBody, "2000", "1", 1), 401},
		{"stripe wrong secret", "/api/endpoints/stripe_events", header("Content-Type", json, "Stripe-Signature", webhook.SignStripe("whsec_other", []byte(stripeBody), now)), stripeBody, 401},

		{"slack slash command", "/api/endpoints/slack_slash_command", header("Content-Type", form, "X-Slack-Signature", slackSig, "X-Slack-Request-Timestamp", slackTS), slackBody, 200},
		{"slack stale timestamp", "/api/endpoints/slack_slash_command", header("Content-Type", form, "X-Slack-Signature", staleSig, "X-Slack-Request-Timestamp", staleTS), slackBody, 401},
		{"slack timestamp swapped", "/api/endpoints/slack_slash_command", header("Content-Type", form, "X-Slack-Signature", slackSig, "X-Slack-Request-Timestamp", ts(now.Add(time.Second))), slackBody, 401},
		{"slack missing timestamp", "/api/endpoints/slack_slash_command", header("Content-Type", form, "X-Slack-Signature", slackSig), slackBody, 401},

		{"standard", "/api/endpoints/standard_receiver", header("Content-Type", json, "webhook-id", "msg_1", "webhook-timestamp", ts(now), "webhook-signature", "v1,bm90IGl0 "+stdSig), std, 204},
		{"standard other id", "/api/endpoints/standard_receiver", header("Content-Type", json, "webhook-id", "msg_2", "webhook-timestamp", ts(now), "webhook-signature", stdSig), std, 401},
		{"standard future timestamp", "/api/endpoints/standard_receiver", header("Content-Type", json, "webhook-id", "msg_1", "webhook-timestamp", ts(now.Add(10*time.Minute)), "webhook-signature", stdSig), std, 401},

		{"generic hmac", "/api/endpoints/signed_alert", header("Content-Type", json, "X-Alert-Signature", webhook.SignHMACSHA256(alertsSecret, []byte(alert))), alert, 204},
		{"generic hmac with a space", "/api/endpoints/signed_alert", header("Content-Type", json, "X-Alert-Signature", strings.Replace(webhook.SignHMACSHA256(alertsSecret, []byte(alert)), "=", "= ", 1)), alert, 204},
		{"generic hmac in the default header", "/api/endpoints/signed_alert", header("Content-Type", json, "X-Signature-256", webhook.SignHMACSHA256(alertsSecret, []byte(alert))), alert, 401},
	} {
		post(t, url, d)
	}

	// The Stripe secrets are in the store encrypted: not one of them is on disk in clear.
	for _, path := range []string{dbPath, dbPath + "-wal"} {
		data, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(stripeSecret)) || bytes.Contains(data, []byte("whsec_old_secret")) {
			t.Fatalf("%s holds a secret in clear", path)
		}
	}
}

// TestRetriedDeliveryRunsOnce (round 2, finding 8): a sender's retry of a
// delivery it already got an answer to (the same X-GitHub-Delivery, signed
// again) answers as the first did, marked X-Bifrost-Replayed, and runs
// nothing; another delivery id runs.
func TestRetriedDeliveryRunsOnce(t *testing.T) {
	url, dbPath := serve(t)
	push := `{"ref":"refs/heads/main","after":"9f1c","repository":{"full_name":"octo/hello"}}`
	send := func(deliveryID string) (http.Header, string) {
		req, _ := http.NewRequest("POST", url+"/api/endpoints/github_push", strings.NewReader(push))
		req.Header = header("Content-Type", "application/json", "X-Hub-Signature-256", webhook.SignGitHub(githubSecret, []byte(push)),
			"X-GitHub-Delivery", deliveryID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("delivery %s: %d %s", deliveryID, resp.StatusCode, b)
		}
		return resp.Header, string(b)
	}
	h1, b1 := send("72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h2, b2 := send("72d3162e-cc78-11e3-81ab-4c9367dc0958")
	if b1 != b2 || h2.Get(runtime.HeaderReplayed) != "true" || h1.Get(runtime.HeaderReplayed) != "" ||
		h2.Get(runtime.HeaderExecutionID) != h1.Get(runtime.HeaderExecutionID) {
		t.Fatalf("the retry was not answered as the first:\n%v %s\n%v %s", h1, b1, h2, b2)
	}
	h3, _ := send("0b989ba4-242f-11e5-81e1-c7b2f1a2b3c4")
	if h3.Get(runtime.HeaderReplayed) != "" || h3.Get(runtime.HeaderExecutionID) == h1.Get(runtime.HeaderExecutionID) {
		t.Fatalf("another delivery was taken for a retry: %v", h3)
	}

	st, err := storeopen.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, _, err := st.List(context.Background(), store.Filter{Workflow: "github_push"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 2 {
			break
		}
		if len(list) > 2 || time.Now().After(deadline) {
			t.Fatalf("%d executions for two deliveries (one sent twice)", len(list))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
