package endpoint

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const validBody = `{"name":"widget","count":3,"tags":["a","b","c"],"meta":{"color":"blue","size":2}}`

// TestSameEndpoint keeps the comparison honest: every server answers the
// valid request with the same JSON, and refuses a body that lacks a member
// or a bad query parameter with a 4xx.
func TestSameEndpoint(t *testing.T) {
	for _, impl := range Impls {
		t.Run(impl, func(t *testing.T) {
			h, release, err := Handler(impl)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			rec := serve(h, validBody, "?dry_run=true")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %s", rec.Body)
			}
			want := map[string]any{"name": "widget", "count": 3.0, "tags": 3.0, "dry_run": true}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%s = %v, want %v (%s)", k, got[k], v, rec.Body)
				}
			}
			for _, bad := range []struct{ body, query string }{
				{`{"name":"x","count":1,"tags":[]}`, ""},
				{`{"name":"x","count":"1","tags":[],"meta":{}}`, ""},
				{validBody, "?dry_run=maybe"},
			} {
				if rec := serve(h, bad.body, bad.query); rec.Code < 400 || rec.Code >= 500 {
					t.Errorf("%s %s: status %d, want 4xx", bad.body, bad.query, rec.Code)
				}
			}
		})
	}
}

func serve(h http.Handler, body, query string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(body, query))
	return rec
}

func newRequest(body, query string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, Path+query, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// BenchmarkInProcess serves the valid request through each server with an
// httptest recorder: compare with benchstat -col /impl (plain is the
// baseline). The harness's own cost (the request, the recorder) is in every
// figure alike; BenchmarkInProcess/impl=none measures it alone.
func BenchmarkInProcess(b *testing.B) {
	for _, impl := range append([]string{"none"}, Impls...) {
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		})
		if impl != "none" {
			var release func()
			var err error
			if h, release, err = Handler(impl); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(release)
		}
		b.Run("impl="+impl, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, newRequest(validBody, "?dry_run=true"))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
