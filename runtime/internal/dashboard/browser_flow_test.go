package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// call calls a workflow with the environment key and waits for its
// execution to end; it returns the execution id.
func call(t *testing.T, base, workflow, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/endpoints/"+workflow, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+envKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shop-backend/1.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Bifrost-Execution-Id")
	req, _ = http.NewRequest("GET", base+"/api/executions/"+id+"?wait=10s", nil)
	req.Header.Set("Authorization", "Bearer "+envKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Status string }
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil || !(v.Status == "succeeded" || v.Status == "failed") {
		t.Fatalf("%s %s: %s", workflow, id, b)
	}
	return id
}

// TestBrowser drives the dashboard in headless Chromium as a person would:
// sign in, filter the list, open an execution, replay it, and watch the
// replay succeed on its page (which reloads until the execution ends).
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	base := serve(t)
	for i := range 3 {
		call(t, base, "quote", fmt.Sprintf(`{"order":%d}`, 4100+i))
	}
	call(t, base, "charge_card", `{"order":4098,"card":"declined"}`)
	for i := range 3 {
		call(t, base, "charge_card", fmt.Sprintf(`{"order":%d}`, 4101+i))
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.ProxyServer("direct://"))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	do(t, ctx, "sign in",
		chromedp.Navigate(base+"/ui"),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), envKey),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS("table.executions")),
	)
	do(t, ctx, "filter by workflow and status",
		chromedp.SetValue(chromedp.ID("filter-workflow"), "charge_card"),
		chromedp.SetValue(chromedp.ID("filter-status"), "succeeded"),
		chromedp.Click(chromedp.ID("filter")),
	)
	url := waitURL(t, ctx, "workflow=charge_card")
	do(t, ctx, "the filtered list", chromedp.WaitVisible(chromedp.CSS("table.executions")))
	rows := get(t, ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("table.executions tbody tr")].map(r => r.innerText)`))
	if !strings.Contains(url, "workflow=charge_card") || len(rows) != 3 {
		t.Fatalf("filtered list at %s: %q, want the 3 succeeded charge_card executions", url, rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "charge_card") || !strings.Contains(r, "succeeded") {
			t.Errorf("a filtered row: %q", r)
		}
	}
	do(t, ctx, "the whole list for the screenshot",
		chromedp.Navigate(base+"/ui"), chromedp.WaitVisible(chromedp.CSS("table.executions")))
	shoot(t, ctx, "list.png")

	do(t, ctx, "open an execution",
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("table.executions")),
		chromedp.Click(chromedp.CSS("table.executions tbody tr:first-child a.id")),
		chromedp.WaitVisible(chromedp.ID("replay")),
	)
	original := get(t, ctx, chromedp.Text(chromedp.CSS("h1 code.id")))
	if status := get(t, ctx, chromedp.Text(chromedp.ID("status"))); status != "succeeded" {
		t.Fatalf("execution %s: status %q", original, status)
	}
	shoot(t, ctx, "execution.png")

	do(t, ctx, "replay it", chromedp.Click(chromedp.ID("replay")), chromedp.WaitVisible(chromedp.ID("replay-of")))
	if replayOf := get(t, ctx, chromedp.Text(chromedp.ID("replay-of"))); replayOf != original {
		t.Fatalf("the replay's page links to %q, want the original %q", replayOf, original)
	}
	deadline := time.Now().Add(20 * time.Second)
	for status := ""; status != "succeeded"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the replay's page still says %q", status)
		}
		// The page reloads itself every second until the execution ends;
		// a read may fall in the middle of a reload.
		status, _ = chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	}
	do(t, ctx, "the original lists its replay",
		chromedp.Navigate(base+"/ui/executions/"+original), chromedp.WaitVisible(chromedp.CSS("table.replays")))
	if n := get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.replays tbody tr").length`)); n != 1 {
		t.Errorf("the original lists %d replays, want 1", n)
	}
}

// waitURL waits until the page's address contains part (a click's
// navigation has happened) and returns it.
func waitURL(t *testing.T, ctx context.Context, part string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		url := get(t, ctx, chromedp.Location())
		if strings.Contains(url, part) {
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page is still at %s, want an address with %s", url, part)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do runs the steps of one stage of the test.
func do(t *testing.T, ctx context.Context, stage string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
}

// get runs one action and returns what it read.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return v
}

// shoot writes a screenshot of the page into -screenshots, when given.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	png := get(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(*screenshots, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
