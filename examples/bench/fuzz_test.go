package bench

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime/bind"
)

// FuzzDecodeCreateItem feeds the generated decoder arbitrary bodies and
// queries: it never panics, every refusal is a 400 naming at least one field,
// and every JSON body it accepts holds all four required members.
func FuzzDecodeCreateItem(f *testing.F) {
	f.Add([]byte(`{"name":"a","count":1,"tags":[],"meta":{}}`), "dry_run=true", "application/json")
	f.Add([]byte(`{"name":1,"count":"x","tags":{},"meta":[]}`), "dry_run=maybe", "application/json")
	f.Add([]byte(`name=a&count=2&tags=x&tags=y`), "", "application/x-www-form-urlencoded")
	f.Add([]byte(`{"name":"a","count":1e400}`), "", "application/json")
	f.Add([]byte(`[1,2]`), "", "application/json")
	f.Fuzz(func(t *testing.T, body []byte, query, contentType string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		req := &bifrost.Request{Method: http.MethodPost, Header: http.Header{"Content-Type": {contentType}}, Query: q, Body: body}
		in, err := bind.NewInput(req)
		if err != nil {
			return
		}
		_, err = decodeCreateItem(in)
		if err != nil {
			var problem *bifrost.Error
			if !errors.As(err, &problem) || problem.Status != http.StatusBadRequest || len(problem.Errors) == 0 {
				t.Fatalf("refusal is not a 400 naming a field: %#v", err)
			}
			return
		}
		if in.Kind != bind.JSONBody {
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(body, &members); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %q", body)
		}
		present := map[string]bool{}
		for k, v := range members {
			for _, name := range []string{"name", "count", "tags", "meta"} {
				// encoding/json matches member names without regard to case.
				if strings.EqualFold(k, name) && string(v) != "null" {
					present[name] = true
				}
			}
		}
		if len(present) < 4 {
			t.Fatalf("accepted %q without all four members", body)
		}
	})
}
