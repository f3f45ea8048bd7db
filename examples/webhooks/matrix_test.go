package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/examples/webhooks"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
	"github.com/bifrost-go/bifrost/webhook"
)

const (
	matrixBodyLimit = 1 << 10
	matrixDepth     = 8
)

// serveMatrix runs the receivers with small limits and every secret from
// the environment.
func serveMatrix(t *testing.T) string {
	t.Helper()
	t.Setenv("BIFROST_CONFIG_GITHUB_WEBHOOK_SECRET", githubSecret)
	t.Setenv("BIFROST_CONFIG_STRIPE_WEBHOOK_SECRET", stripeSecret)
	t.Setenv("BIFROST_CONFIG_SLACK_SIGNING_SECRET", slackSecret)
	t.Setenv("BIFROST_CONFIG_STANDARD_WEBHOOK_SECRET", standardSecret)
	t.Setenv("BIFROST_CONFIG_ALERTS_SECRET", alertsSecret)
	st, err := storeopen.Open(context.Background(), filepath.Join(t.TempDir(), "bifrost.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Options{
		Workflows:    webhooks.Workflows(),
		Logger:       slog.New(slog.DiscardHandler),
		BodyLimit:    matrixBodyLimit,
		MaxJSONDepth: matrixDepth,
		Store:        st,
		Workers:      1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Shutdown(context.Background())
		_ = st.Close()
	})
	return ts.URL
}

// wrow is one delivery of the matrix and the answer it must get.
type wrow struct {
	cat, name    string
	method, path string
	header       http.Header
	body         string

	status     int
	locs       []string // exact "errors" locations, in order; nil: not checked
	detail     string   // a substring of the problem's detail
	wantHeader map[string]string
	knownBug   string // the server answers otherwise today: skipped, with why
}

func (r wrow) send(t *testing.T, base string) (int, http.Header, []byte) {
	t.Helper()
	method := r.method
	if method == "" {
		method = "POST"
	}
	req, err := http.NewRequest(method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func (r wrow) check(t *testing.T, status int, header http.Header, body []byte) {
	t.Helper()
	if status != r.status {
		t.Fatalf("status %d, want %d: %s", status, r.status, body)
	}
	for k, v := range r.wantHeader {
		if got := header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if status < 400 {
		return
	}
	if ct := header.Get("Content-Type"); ct != runtime.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s: %s", ct, runtime.ContentTypeProblem, body)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Location string `json:"location"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem is not JSON: %v: %s", err, body)
	}
	if p.Status != status || p.Title == "" {
		t.Errorf("problem status %d title %q, HTTP status %d", p.Status, p.Title, status)
	}
	if r.detail != "" && !strings.Contains(p.Detail, r.detail) {
		t.Errorf("detail %q does not contain %q", p.Detail, r.detail)
	}
	if r.locs != nil {
		got := make([]string, 0, len(p.Errors))
		for _, e := range p.Errors {
			got = append(got, e.Location)
		}
		if strings.Join(got, " ") != strings.Join(r.locs, " ") {
			t.Errorf("error locations %q, want %q: %s", got, r.locs, body)
		}
	}
	if strings.Contains(string(body), "sha256=") || strings.Contains(string(body), "v1=") || strings.Contains(string(body), "v0=") {
		t.Errorf("the problem shows a signature: %s", body)
	}
}

// TestSignatureMatrix sends badly signed, unsigned and malformed deliveries
// to every receiver over HTTP: a missing, malformed, stale or wrong
// signature is a 401 before anything is decoded; a well-signed delivery
// with a bad body is the 400 naming the field; no answer is a 5xx.
func TestSignatureMatrix(t *testing.T) {
	base := serveMatrix(t)
	now := time.Now()
	stale := now.Add(-webhook.Tolerance - time.Minute)
	future := now.Add(webhook.Tolerance + time.Minute)
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	const (
		gh       = "/api/endpoints/github_push"
		stripe   = "/api/endpoints/stripe_events"
		slack    = "/api/endpoints/slack_slash_command"
		standard = "/api/endpoints/standard_receiver"
		alert    = "/api/endpoints/signed_alert"
		js       = "application/json"
		form     = "application/x-www-form-urlencoded"
	)
	push := `{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}`
	ghSig := webhook.SignGitHub(githubSecret, []byte(push))
	github := func(body string) http.Header {
		return header("Content-Type", js, "X-Hub-Signature-256", webhook.SignGitHub(githubSecret, []byte(body)))
	}
	evt := `{"id":"evt_1","type":"x"}`
	stripeAt := func(secret, body string, at time.Time) http.Header {
		return header("Content-Type", js, "Stripe-Signature", webhook.SignStripe(secret, []byte(body), at))
	}
	cmd := "command=%2Fdeploy&user_name=ana"
	slackAt := func(secret, body string, at time.Time) http.Header {
		sig, ts := webhook.SignSlack(secret, []byte(body), at)
		return header("Content-Type", form, "X-Slack-Signature", sig, "X-Slack-Request-Timestamp", ts)
	}
	std := `{"type":"t","data":{}}`
	standardAt := func(secret, id string, at time.Time, body string) http.Header {
		sig, err := webhook.SignStandard(secret, id, at, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return header("Content-Type", js, "webhook-id", id, "webhook-timestamp", unix(at), "webhook-signature", sig)
	}
	al := `{"level":"critical"}`
	alertSig := func(secret, body string) http.Header {
		return header("Content-Type", js, "X-Alert-Signature", webhook.SignHMACSHA256(secret, []byte(body)))
	}
	deep := strings.Repeat("[", matrixDepth+1) + strings.Repeat("]", matrixDepth+1)
	over := `{"ref":"` + strings.Repeat("x", matrixBodyLimit) + `"}`

	rows := []wrow{
		// GitHub
		{cat: "github", name: "missing signature", path: gh, header: header("Content-Type", js), body: push, status: 401},
		{cat: "github", name: "empty signature", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", ""), body: push, status: 401},
		{cat: "github", name: "no sha256= prefix", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", strings.TrimPrefix(ghSig, "sha256=")), body: push, status: 401},
		{cat: "github", name: "sha1 signature", path: gh, header: header("Content-Type", js, "X-Hub-Signature", "sha1=0000000000000000000000000000000000000000"), body: push, status: 401},
		{cat: "github", name: "not hex", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", "sha256=zz"+ghSig[9:]), body: push, status: 401},
		{cat: "github", name: "truncated", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", ghSig[:20]), body: push, status: 401},
		{cat: "github", name: "upper-case hex", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", "sha256="+strings.ToUpper(ghSig[7:])), body: push, status: 200},
		{cat: "github", name: "wrong secret", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", webhook.SignGitHub("wrong", []byte(push))), body: push, status: 401},
		{cat: "github", name: "signature of an empty body", path: gh, header: github(""), body: push, status: 401},
		{cat: "github", name: "oversized signature header", path: gh, header: header("Content-Type", js, "X-Hub-Signature-256", "sha256="+strings.Repeat("0", webhook.MaxHeaderBytes)), body: push, status: 401},
		{cat: "github", name: "signed, body over the limit", path: gh, header: github(over), body: over, status: 413},
		{cat: "github", name: "unsigned, body over the limit", path: gh, header: header("Content-Type", js), body: over, status: 413},
		{cat: "github", name: "GET before the signature", method: "GET", path: gh, status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{cat: "github", name: "signed, wrong kinds at depth", path: gh, header: github(`{"ref":1,"repository":{"full_name":["x"]}}`), body: `{"ref":1,"repository":{"full_name":["x"]}}`, status: 400,
			locs: []string{"body.ref", "body.repository.full_name"}},
		{cat: "github", name: "signed, nested object of the wrong kind", path: gh, header: github(`{"ref":"r","repository":"octo/hello"}`), body: `{"ref":"r","repository":"octo/hello"}`, status: 400,
			locs: []string{"body.repository"}},
		{cat: "github", name: "signed, missing nested field", path: gh, header: github(`{"ref":"r","repository":{}}`), body: `{"ref":"r","repository":{}}`, status: 400,
			locs: []string{"body.repository.full_name"}},
		{cat: "github", name: "signed, null where required", path: gh, header: github(`{"ref":null,"repository":null}`), body: `{"ref":null,"repository":null}`, status: 400,
			locs: []string{"body.ref", "body.repository"}},
		{cat: "github", name: "signed, malformed json", path: gh, header: github(`{"ref":`), body: `{"ref":`, status: 400, locs: []string{"body"}},
		{cat: "github", name: "signed, too deep", path: gh, header: github(deep), body: deep, status: 400, locs: []string{"body"}},
		{cat: "github", name: "signed, text/plain", path: gh, header: header("Content-Type", "text/plain", "X-Hub-Signature-256", ghSig), body: push, status: 415},
		{cat: "github", name: "signed, empty body", path: gh, header: github(""), status: 400, locs: []string{"body"}},

		// Stripe
		{cat: "stripe", name: "missing signature", path: stripe, header: header("Content-Type", js), body: evt, status: 401},
		{cat: "stripe", name: "no timestamp", path: stripe, header: header("Content-Type", js, "Stripe-Signature", "v1="+strings.Repeat("0", 64)), body: evt, status: 401},
		{cat: "stripe", name: "no v1", path: stripe, header: header("Content-Type", js, "Stripe-Signature", "t="+unix(now)), body: evt, status: 401},
		{cat: "stripe", name: "garbage header", path: stripe, header: header("Content-Type", js, "Stripe-Signature", ",,==,t=,v1=,t=1,t=2"), body: evt, status: 401},
		{cat: "stripe", name: "timestamp not a number", path: stripe, header: header("Content-Type", js, "Stripe-Signature", "t=yesterday,v1="+strings.Repeat("0", 64)), body: evt, status: 401},
		{cat: "stripe", name: "stale", path: stripe, header: stripeAt(stripeSecret, evt, stale), body: evt, status: 401},
		{cat: "stripe", name: "from the future", path: stripe, header: stripeAt(stripeSecret, evt, future), body: evt, status: 401},
		{cat: "stripe", name: "timestamp overflow", path: stripe, header: header("Content-Type", js, "Stripe-Signature", "t=99999999999999999999999,v1="+strings.Repeat("0", 64)), body: evt, status: 401},
		{cat: "stripe", name: "wrong secret", path: stripe, header: stripeAt("whsec_wrong", evt, now), body: evt, status: 401},
		{cat: "stripe", name: "signed, wrong kinds", path: stripe, header: stripeAt(stripeSecret, `{"id":1,"type":{},"data":[]}`, now), body: `{"id":1,"type":{},"data":[]}`, status: 400,
			locs: []string{"body.id", "body.type", "body.data"}},

		// Slack
		{cat: "slack", name: "missing signature and timestamp", path: slack, header: header("Content-Type", form), body: cmd, status: 401},
		{cat: "slack", name: "missing timestamp", path: slack, header: header("Content-Type", form, "X-Slack-Signature", "v0="+strings.Repeat("0", 64)), body: cmd, status: 401},
		{cat: "slack", name: "stale", path: slack, header: slackAt(slackSecret, cmd, stale), body: cmd, status: 401},
		{cat: "slack", name: "two timestamps", path: slack, header: func() http.Header {
			hd := slackAt(slackSecret, cmd, now)
			hd.Add("X-Slack-Request-Timestamp", unix(now))
			return hd
		}(), body: cmd, status: 401},
		{cat: "slack", name: "negative timestamp", path: slack, header: header("Content-Type", form, "X-Slack-Signature", "v0="+strings.Repeat("0", 64), "X-Slack-Request-Timestamp", "-1"), body: cmd, status: 401},
		{cat: "slack", name: "wrong version", path: slack, header: func() http.Header {
			hd := slackAt(slackSecret, cmd, now)
			hd.Set("X-Slack-Signature", "v1="+strings.TrimPrefix(hd.Get("X-Slack-Signature"), "v0="))
			return hd
		}(), body: cmd, status: 401},
		{cat: "slack", name: "wrong secret", path: slack, header: slackAt("wrong", cmd, now), body: cmd, status: 401},
		{cat: "slack", name: "signed, bad form encoding", path: slack, header: slackAt(slackSecret, "command=%zz&user_name=a", now), body: "command=%zz&user_name=a", status: 400, locs: []string{"body"}},
		{cat: "slack", name: "signed, missing fields", path: slack, header: slackAt(slackSecret, "text=x", now), body: "text=x", status: 400, locs: []string{"body.command", "body.user_name"}},

		// Standard Webhooks
		{cat: "standard", name: "missing every header", path: standard, header: header("Content-Type", js), body: std, status: 401},
		{cat: "standard", name: "missing id", path: standard, header: func() http.Header {
			hd := standardAt(standardSecret, "msg_1", now, std)
			hd.Del("webhook-id")
			return hd
		}(), body: std, status: 401},
		{cat: "standard", name: "stale", path: standard, header: standardAt(standardSecret, "msg_2", stale, std), body: std, status: 401},
		{cat: "standard", name: "signature not base64", path: standard, header: func() http.Header {
			hd := standardAt(standardSecret, "msg_3", now, std)
			hd.Set("webhook-signature", "v1,!!!not-base64!!!")
			return hd
		}(), body: std, status: 401},
		{cat: "standard", name: "signature without version", path: standard, header: func() http.Header {
			hd := standardAt(standardSecret, "msg_4", now, std)
			hd.Set("webhook-signature", strings.TrimPrefix(hd.Get("webhook-signature"), "v1,"))
			return hd
		}(), body: std, status: 401},
		{cat: "standard", name: "wrong secret", path: standard, header: standardAt("whsec_"+"d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==", "msg_5", now, std), body: std, status: 401},
		{cat: "standard", name: "signed, wrong kinds", path: standard, header: standardAt(standardSecret, "msg_6", now, `{"type":[],"data":"x"}`), body: `{"type":[],"data":"x"}`, status: 400,
			locs: []string{"body.type", "body.data"}},

		// generic HMAC
		{cat: "hmac", name: "missing signature", path: alert, header: header("Content-Type", js), body: al, status: 401},
		{cat: "hmac", name: "signature in the default header", path: alert, header: header("Content-Type", js, "X-Signature-256", webhook.SignHMACSHA256(alertsSecret, []byte(al))), body: al, status: 401},
		{cat: "hmac", name: "wrong secret", path: alert, header: alertSig("wrong", al), body: al, status: 401},
		{cat: "hmac", name: "signature of other bytes", path: alert, header: alertSig(alertsSecret, al+" "), body: al, status: 401},
		{cat: "hmac", name: "signed, array body", path: alert, header: alertSig(alertsSecret, "[]"), body: "[]", status: 400, locs: []string{"body"}},
	}

	var fivexx []string
	perCat := map[string]int{}
	for _, r := range rows {
		perCat[r.cat]++
		t.Run(r.cat+"/"+r.name, func(t *testing.T) {
			status, hd, body := r.send(t, base)
			if r.knownBug != "" {
				t.Skipf("known bug: %s (answered %d: %.200s)", r.knownBug, status, body)
			}
			if status >= 500 {
				fivexx = append(fivexx, fmt.Sprintf("%s/%s: %d %s", r.cat, r.name, status, body))
			}
			r.check(t, status, hd, body)
		})
	}
	if len(fivexx) > 0 {
		t.Errorf("5xx answers:\n%s", strings.Join(fivexx, "\n"))
	}
	cats := make([]string, 0, len(perCat))
	for c, n := range perCat {
		cats = append(cats, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(cats)
	t.Logf("%d rows: %s", len(rows), strings.Join(cats, " "))
}

// TestReplayedDeliveryRunsNothing sends one signed GitHub delivery twice,
// as an attacker replaying a captured request within the tolerance would:
// SPEC §8 wants the second answered as the first was (the same execution)
// and nothing run again.
func TestReplayedDeliveryRunsNothing(t *testing.T) {
	base := serveMatrix(t)
	push := `{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}`
	r := wrow{path: "/api/endpoints/github_push", body: push, status: 200,
		header: header("Content-Type", "application/json", "X-Hub-Signature-256", webhook.SignGitHub(githubSecret, []byte(push)), "X-GitHub-Delivery", "replayed-1")}
	status, first, body := r.send(t, base)
	r.check(t, status, first, body)
	status, second, body := r.send(t, base)
	a, b := first.Get(runtime.HeaderExecutionID), second.Get(runtime.HeaderExecutionID)
	if a != b || second.Get(runtime.HeaderReplayed) != "true" {
		t.Fatalf("a replayed delivery (same X-GitHub-Delivery, same signature) ran again as a new execution (%s, then %s)", a, b)
	}
	r.check(t, status, second, body)
}
