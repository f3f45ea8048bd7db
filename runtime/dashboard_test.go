package runtime

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-go/bifrost/runtime/auth"
	"github.com/bifrost-go/bifrost/runtime/store"
)

// The dashboard over real HTTP: sign-in, the session cookie, CSRF, what a
// scoped key sees, the security headers. The browser test
// (dashboard_browser_test.go) clicks through the same pages.

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t      testing.TB
	base   string
	client *http.Client
}

func newBrowser(t testing.TB, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(method, path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp, string(page)
}

func (b *browser) signIn(key string) {
	b.t.Helper()
	resp, page := b.do("POST", "/ui/signin", url.Values{"key": {key}, "next": {"/ui"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui" {
		b.t.Fatalf("sign in: %d %s", resp.StatusCode, page)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the forms on page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, page := b.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no csrf field on %s: %s", path, page)
	}
	return m[1]
}

func TestDashboardSession(t *testing.T) {
	s := replayServer(t, Options{Workers: 2})
	orig := s.start(t, "async_echo", `{"value":"dash"}`)
	s.view(t, orig, "10s")
	b := newBrowser(t, s.url)

	resp, _ := b.do("GET", "/ui/executions/"+orig, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/signin?next=%2Fui%2Fexecutions%2F"+orig {
		t.Fatalf("no session: %d Location %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.do("POST", "/ui/signin", url.Values{"key": {"bf_nope"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "not a valid API key") || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong key: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = b.do("POST", "/ui/signin", url.Values{"key": {testKey}, "next": {"https://evil.example/"}})
	cookie := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui" || len(cookie) != 1 {
		t.Fatalf("sign in: %d Location %q cookies %v", resp.StatusCode, resp.Header.Get("Location"), cookie)
	}
	c := cookie[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui" || c.Secure || strings.Contains(c.Value, testKey) {
		t.Errorf("session cookie %+v", c)
	}

	started := time.Now().UTC()
	step := &store.Step{ExecutionID: orig, Name: "charge_card", Attempt: 1, Status: store.Succeeded,
		Result: []byte(`{"ok":true}`), StartedAt: started, EndedAt: started.Add(1500 * time.Millisecond)}
	if err := s.store.SaveStep(context.Background(), step); err != nil {
		t.Fatal(err)
	}
	resp, page = b.do("GET", "/ui/executions/"+orig, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, orig) || !strings.Contains(page, "dash") {
		t.Fatalf("execution page: %d", resp.StatusCode)
	}
	if !strings.Contains(page, `id="steps"`) || !strings.Contains(page, "<code>charge_card</code>") || !strings.Contains(page, "1.5s") {
		t.Errorf("the execution page shows no step timeline:\n%s", page)
	}
	for name, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY", "Cache-Control": "no-store",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(name); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	token := b.csrf("/ui/executions/" + orig)
	replay := "/ui/executions/" + orig + "/replay"
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {"x" + token}}, nil},
		{"cross-site", url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"other origin", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
	} {
		if resp, _ := b.do("POST", replay, tc.form, tc.header...); resp.StatusCode != http.StatusForbidden {
			t.Errorf("replay with %s: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	resp, _ = b.do("POST", replay, url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/executions/") || strings.HasSuffix(loc, orig) {
		t.Fatalf("replay: %d Location %q", resp.StatusCode, loc)
	}
	if v := s.view(t, strings.TrimPrefix(loc, "/ui/executions/"), "10s"); v.ReplayOf != orig || v.Status != "succeeded" {
		t.Errorf("the dashboard's replay: %+v", v)
	}

	resp, _ = b.do("POST", "/ui/signout", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want the sign-in redirect", resp.StatusCode)
	}
}

func TestDashboardScopedKey(t *testing.T) {
	s := replayServer(t, Options{Workers: 2})
	mine := s.start(t, "other", `{"value":"mine"}`)
	theirs := s.start(t, "async_echo", `{"value":"theirs"}`)
	s.view(t, mine, "10s")
	s.view(t, theirs, "10s")
	k, scoped, err := auth.CreateKey(context.Background(), s.store, []string{"other"}, 0, "scoped")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.url)
	b.signIn(scoped)
	_, page := b.do("GET", "/ui", nil)
	if !strings.Contains(page, mine) || strings.Contains(page, theirs) || strings.Contains(page, `value="async_echo"`) {
		t.Errorf("a scoped key's list shows another workflow:\n%s", page)
	}
	for _, path := range []string{"/ui/executions/" + theirs, "/ui/workflows/async_echo", "/ui?workflow=async_echo"} {
		if resp, _ := b.do("GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with a scoped key: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, page := b.do("GET", "/ui/workflows/other", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "curl -X POST &#39;"+s.url+"/api/endpoints/other&#39;") ||
		!strings.Contains(page, `id="calls-hour">1<`) || !strings.Contains(page, `id="calls-day">1<`) {
		t.Errorf("own workflow page: %d\n%s", resp.StatusCode, page)
	}
	// Revoking the key ends the session at once (within the key cache's TTL).
	if err := s.store.RevokeKey(context.Background(), k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(auth.DefaultCacheTTL + 5*time.Second)
	for {
		resp, _ := b.do("GET", "/ui", nil)
		if resp.StatusCode == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a revoked key's session still answers %d", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
