package quickstart_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/config"
	"github.com/bifrost-go/bifrost/examples/quickstart"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store/storeopen"
)

func serve(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := storeopen.Open(context.Background(), filepath.Join(t.TempDir(), "bifrost.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := runtime.New(runtime.Options{
		Workflows: quickstart.Workflows(),
		Logger:    slog.New(slog.DiscardHandler),
		BodyLimit: 1 << 10,
		Store:     st,
		Workers:   2,
		Auth:      &auth.Config{EnvKey: testKey},
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
	return ts
}

const testKey = "quickstart-test-key-0123456789"

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestHTTP holds the HTTP semantics of SPEC §4 against the quickstart's
// generated code, served by the real runtime.
func TestHTTP(t *testing.T) {
	t.Setenv("BIFROST_CONFIG_WEBHOOK_SECRET", "s3cret")
	ts := serve(t)
	signed := `{"event":"push"}`
	tests := []struct {
		name        string
		method, url string
		header      map[string]string
		body        string
		status      int
		contentType string
		wantHeader  map[string]string
		wantBody    string // a substring of the answer
	}{
		{name: "json body", method: "POST", url: "/api/endpoints/handle_webhook", header: map[string]string{"Content-Type": "application/json"},
			body: `{"a":1}`, status: 200, contentType: "application/json", wantBody: `{"status":"processed"}`},
		{name: "vendor json type", method: "POST", url: "/api/endpoints/handle_webhook", header: map[string]string{"Content-Type": "application/vnd.github+json; charset=utf-8"},
			body: `{"a":1}`, status: 200, wantBody: `"processed"`},
		{name: "unknown workflow", method: "POST", url: "/api/endpoints/nope", status: 404, contentType: "application/problem+json", wantBody: `"status":404`},
		{name: "method not allowed", method: "DELETE", url: "/api/endpoints/handle_webhook", status: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "get and post allow", method: "PUT", url: "/api/endpoints/flexible_endpoint", status: 405, wantHeader: map[string]string{"Allow": "GET, HEAD, POST, OPTIONS"}},
		{name: "body too large", method: "POST", url: "/api/endpoints/handle_webhook", header: map[string]string{"Content-Type": "application/json"},
			body: `{"a":"` + strings.Repeat("x", 2000) + `"}`, status: 413, contentType: "application/problem+json"},
		{name: "unsupported content type", method: "POST", url: "/api/endpoints/handle_webhook", header: map[string]string{"Content-Type": "text/plain"},
			body: "hi", status: 415, contentType: "application/problem+json"},
		{name: "malformed json", method: "POST", url: "/api/endpoints/handle_webhook", header: map[string]string{"Content-Type": "application/json"},
			body: `{"a":`, status: 400, wantBody: `"location":"body"`},
		{name: "wrong kind names the field", method: "POST", url: "/api/endpoints/slack_command", header: map[string]string{"Content-Type": "application/json"},
			body: `{"command":5}`, status: 400, wantBody: `{"location":"body.command","message":"expected string"},{"location":"body.user_name","message":"required"}`},
		{name: "form body into a struct", method: "POST", url: "/api/endpoints/slack_command", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "command=%2Fdeploy&text=prod&user_name=ana", status: 200, wantBody: `"text":"Processing: prod"`},
		{name: "form missing a field", method: "POST", url: "/api/endpoints/slack_command", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			body: "command=%2Fdeploy", status: 400, wantBody: `{"location":"body.user_name","message":"required"}`},
		{name: "get with query", method: "GET", url: "/api/endpoints/flexible_endpoint?query=hi", status: 200, wantBody: `{"payload":null,"query":"hi"}`},
		{name: "post with body", method: "POST", url: "/api/endpoints/flexible_endpoint", header: map[string]string{"Content-Type": "application/json"},
			body: `{"k":"v"}`, status: 200, wantBody: `{"payload":{"k":"v"},"query":null}`},
		{name: "body and query", method: "POST", url: "/api/endpoints/process_request?query_param=q", header: map[string]string{"Content-Type": "application/json"},
			body: `{"k":1}`, status: 200, wantBody: `{"body":{"k":1},"query":"q"}`},
		{name: "typed result", method: "POST", url: "/api/endpoints/json_response", status: 200, wantBody: `{"status":"success","data":{"id":123}}`},
		{name: "custom status", method: "POST", url: "/api/endpoints/custom_status", status: 201, wantBody: `{"created":true}`},
		{name: "signed webhook", method: "POST", url: "/api/endpoints/verified_webhook", header: map[string]string{"Content-Type": "application/json", "X-Signature-256": sign("s3cret", signed)},
			body: signed, status: 200, wantBody: `{"status":"verified"}`},
		{name: "signature over other bytes", method: "POST", url: "/api/endpoints/verified_webhook", header: map[string]string{"Content-Type": "application/json", "X-Signature-256": sign("s3cret", signed)},
			body: `{"event": "push"}`, status: 401, contentType: "application/problem+json", wantBody: `"detail":"invalid signature"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.url, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+testKey)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.contentType)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %s\ndoes not contain %s", body, tt.wantBody)
			}
			id := resp.Header.Get(runtime.HeaderExecutionID)
			if tt.status != 404 && tt.status != 405 && len(id) != 36 {
				t.Errorf("execution id %q", id)
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
				var p struct {
					Status      int    `json:"status"`
					Title       string `json:"title"`
					ExecutionID string `json:"execution_id"`
				}
				if err := json.Unmarshal(body, &p); err != nil || p.Status != tt.status || p.Title == "" {
					t.Errorf("problem %s: %v", body, err)
				}
				if id != "" && p.ExecutionID != id {
					t.Errorf("problem execution_id %q, header %q", p.ExecutionID, id)
				}
			}
		})
	}
}

// Workflows stay plain Go functions: a unit test calls them directly, with
// configuration from config.WithValues.
func TestVerifiedWebhookIsAPlainFunction(t *testing.T) {
	ctx := config.WithValues(context.Background(), map[string]string{"webhook_secret": "k"})
	body := `{"x":1}`
	req := &bifrost.Request{Header: http.Header{"X-Signature-256": {sign("k", body)}}, Body: []byte(body)}
	if _, err := quickstart.VerifiedWebhook(ctx, req); err != nil {
		t.Fatalf("a good signature was refused: %v", err)
	}
	req.Body = []byte(`{"x":2}`)
	_, err := quickstart.VerifiedWebhook(ctx, req)
	var problem *bifrost.Error
	if !errors.As(err, &problem) || problem.Status != http.StatusUnauthorized {
		t.Fatalf("a tampered body: %v, want a 401 problem", err)
	}
}
