package quickstart_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHandOff: the sync webhook answers at once with the id of the
// LongRunningTask execution it started with the generated
// StartLongRunningTask; the execution runs on a worker, with trigger
// "enqueue", and a redelivery (same X-Delivery-Id) starts nothing new.
func TestHandOff(t *testing.T) {
	ts := serve(t)
	call := func(delivery string) string {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/api/endpoints/hand_off", strings.NewReader(`{"items":3}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Bifrost-Key", testKey)
		req.Header.Set("X-Delivery-Id", delivery)
		var out struct {
			ExecutionID string `json:"execution_id"`
			StatusURL   string `json:"status_url"`
		}
		if status := getJSON(t, req, &out); status != 200 || out.ExecutionID == "" || out.StatusURL != "/api/executions/"+out.ExecutionID {
			t.Fatalf("hand_off: %d %+v", status, out)
		}
		return out.ExecutionID
	}
	id := call("d-1")
	req, _ := http.NewRequest("GET", ts.URL+"/api/executions/"+id+"?wait=10s", nil)
	req.Header.Set("X-Bifrost-Key", testKey)
	var e struct {
		Workflow, Status, Trigger, Mode string
		Input, Result                   json.RawMessage
	}
	if status := getJSON(t, req, &e); status != 200 || e.Workflow != "long_running_task" || e.Status != "succeeded" ||
		e.Trigger != "enqueue" || e.Mode != "async" || string(e.Result) != `{"done":true,"keys":1}` || string(e.Input) != `{"data":{"items":3}}` {
		t.Errorf("the started execution: %d %+v", status, e)
	}
	if again := call("d-1"); again != id {
		t.Errorf("a redelivery started %s, want the first execution %s", again, id)
	}
	if other := call("d-2"); other == id {
		t.Errorf("another delivery returned the first execution %s", id)
	}
}

func getJSON(t *testing.T, req *http.Request, v any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}
	return resp.StatusCode
}
