// Package roundtrip calls a running quickstart server with the client
// oapi-codegen generated from its 3.0 document (into ./client, next to this
// file, by consumers_test.go). QUICKSTART_URL and QUICKSTART_KEY name the
// server and an API key.
package roundtrip

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"example.com/consumer/client"
)

func newClient(t *testing.T) *client.ClientWithResponses {
	t.Helper()
	base, key := os.Getenv("QUICKSTART_URL"), os.Getenv("QUICKSTART_KEY")
	if base == "" || key == "" {
		t.Fatal("QUICKSTART_URL and QUICKSTART_KEY must be set")
	}
	c, err := client.NewClientWithResponses(base, client.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// A sync workflow that chooses its status: 201 is the default response.
func TestCustomStatus(t *testing.T) {
	res, err := newClient(t).CustomStatusWithResponse(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != http.StatusCreated || res.JSONDefault == nil {
		t.Fatalf("status %d, body %s", res.StatusCode(), res.Body)
	}
	if (*res.JSONDefault)["created"] != true {
		t.Fatalf("result %v", *res.JSONDefault)
	}
	if res.HeadersDefault == nil || res.HeadersDefault.XBifrostExecutionId == nil || *res.HeadersDefault.XBifrostExecutionId == "" {
		t.Fatalf("no X-Bifrost-Execution-Id decoded: %+v", res.HeadersDefault)
	}
}

// A sync workflow with a typed result: the JSONResult component.
func TestJSONResponse(t *testing.T) {
	res, err := newClient(t).JsonResponseWithResponse(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != http.StatusOK || res.JSON200 == nil {
		t.Fatalf("status %d, body %s", res.StatusCode(), res.Body)
	}
	var want client.JSONResult
	want.Status = "success"
	want.Data.Id = 123
	if *res.JSON200 != want {
		t.Fatalf("result %+v, want %+v", *res.JSON200, want)
	}
}

// An async workflow: 202 with an execution id, then the executions API
// (GetExecution with wait) until it has succeeded.
func TestLongRunningTask(t *testing.T) {
	c, cx := newClient(t), ctx(t)
	res, err := c.LongRunningTaskWithResponse(cx, nil, client.LongRunningTaskJSONRequestBody{"a": 1, "b": "two"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != http.StatusAccepted || res.JSON202 == nil {
		t.Fatalf("status %d, body %s", res.StatusCode(), res.Body)
	}
	acc := *res.JSON202
	if acc.ExecutionId == "" || !strings.HasSuffix(acc.StatusUrl, acc.ExecutionId) {
		t.Fatalf("accepted %+v", acc)
	}
	wait := "10s"
	var exec client.Execution
	for i := 0; ; i++ {
		got, err := c.GetExecutionWithResponse(cx, acc.ExecutionId, &client.GetExecutionParams{Wait: &wait})
		if err != nil {
			t.Fatal(err)
		}
		if got.StatusCode() != http.StatusOK || got.JSON200 == nil {
			t.Fatalf("GetExecution: status %d, body %s", got.StatusCode(), got.Body)
		}
		exec = *got.JSON200
		if exec.Status != client.Pending && exec.Status != client.Running {
			break
		}
		if i == 5 {
			t.Fatalf("execution still %s", exec.Status)
		}
	}
	if exec.Status != client.Succeeded || exec.Id != acc.ExecutionId || exec.Workflow != "long_running_task" || exec.Mode != client.Async {
		t.Fatalf("execution %+v", exec)
	}
	result, ok := exec.Result.(map[string]any)
	if !ok || result["done"] != true {
		t.Fatalf("result %#v", exec.Result)
	}
	if exec.FinishedAt == nil || exec.DurationMs == nil || exec.Error != nil {
		t.Fatalf("execution %+v", exec)
	}
}

// A bad body: 400 decoded into the generated Problem, each error located.
func TestSlackCommandProblem(t *testing.T) {
	res, err := newClient(t).SlackCommandWithBodyWithResponse(ctx(t), "application/json", strings.NewReader(`{"command":5}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode() != http.StatusBadRequest || res.ApplicationproblemJSON400 == nil {
		t.Fatalf("status %d, body %s", res.StatusCode(), res.Body)
	}
	p := *res.ApplicationproblemJSON400
	if p.Status != 400 || p.Title == "" || p.Errors == nil {
		t.Fatalf("problem %+v", p)
	}
	locations := map[string]string{}
	for _, e := range *p.Errors {
		locations[e.Location] = e.Message
	}
	for _, loc := range []string{"body.command", "body.user_name"} {
		if locations[loc] == "" {
			t.Errorf("no error at %s in %s", loc, res.Body)
		}
	}
}
