package dashboard

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost/workflow"
)

// How a workflow's options read on its page: as the directive wrote them.

func access(wf *workflow.Spec) string {
	switch {
	case !wf.Endpoint:
		return "– (no endpoint)"
	case wf.Public:
		return "public: no credential needed"
	case wf.DisableGlobalKey:
		return "keys scoped to this workflow only"
	}
	return "any key that may call it"
}

func rate(wf *workflow.Spec) string {
	if wf.Rate == nil {
		return "–"
	}
	per := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[wf.Rate.Per]
	if per == "" {
		per = wf.Rate.Per.String()
	}
	return fmt.Sprintf("%d/%s", wf.Rate.N, per)
}

func verify(wf *workflow.Spec) string {
	if wf.Verify == nil {
		return "–"
	}
	return wf.Verify.Kind + " (secret in config " + wf.Verify.Secret + ")"
}

// curl is a command line that calls the workflow on this server: POST
// when it takes it, a JSON body when it reads one, the key from
// $BIFROST_API_KEY unless it is public. "" without an endpoint.
func curl(wf *workflow.Spec, base string) string {
	if !wf.Endpoint || len(wf.Methods) == 0 {
		return ""
	}
	method := wf.Methods[0]
	if slices.Contains(wf.Methods, "POST") {
		method = "POST"
	}
	parts := []string{"curl"}
	if method != "GET" {
		parts = append(parts, "-X", method)
	}
	parts = append(parts, "'"+base+"/api/endpoints/"+wf.Name+"'")
	if !wf.Public {
		parts = append(parts, `-H "Authorization: Bearer $BIFROST_API_KEY"`)
	}
	if wf.Body != workflow.BodyIgnored && method != "GET" {
		parts = append(parts, "-H 'Content-Type: application/json'", "-d '{}'")
	}
	return strings.Join(parts, " ")
}
