package quickstart_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/bifrost-go/bifrost/examples/quickstart"
	"github.com/bifrost-go/bifrost/openapi"
	"github.com/bifrost-go/bifrost/openapi/openapitest"
	"github.com/bifrost-go/bifrost/runtime"
)

// TestOpenAPIFile: the binary serves at /api/openapi.json the very bytes
// `bifrostgen generate --openapi openapi.json` wrote (go generate), so the
// committed document is the served one; both validators accept it, and its
// 3.0 form.
func TestOpenAPIFile(t *testing.T) {
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	ts := serve(t)
	resp, err := ts.Client().Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Fatalf("GET /api/openapi.json: %d; it differs from openapi.json (run go generate ./examples/quickstart)", resp.StatusCode)
	}
	openapitest.Validate(t, "openapi.json", got)
	doc30, err := runtime.OpenAPI(quickstart.Workflows(), openapi.V30, openapi.JSON)
	if err != nil {
		t.Fatal(err)
	}
	openapitest.Validate(t, "3.0", doc30)
}
