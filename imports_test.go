package bifrost_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The shape of the module, as docs/architecture.md draws it: the generator
// links nothing of the server, the runtime nothing of the generator, and the
// packages workflow code imports know no server. A change that breaks one of
// these rules fails here, naming the chain of imports to cut.

// server is every package a served binary needs and a generator or a
// workflow package must not: the HTTP framework, the queue, the databases,
// the token library, tracing, and the runtime itself.
var server = []string{
	"github.com/labstack/echo",
	"github.com/riverqueue/river",
	"github.com/jackc/pgx",
	"modernc.org/sqlite",
	"github.com/golang-jwt/jwt",
	"go.opentelemetry.io",
	"github.com/bifrost-go/bifrost/runtime",
}

const module = "github.com/bifrost-go/bifrost"

func TestImportRules(t *testing.T) {
	rules := []struct {
		pkg       string
		forbidden []string
		stdOnly   bool // nothing outside the standard library but these allowed
		allowed   []string
	}{
		{pkg: "./cmd/bifrostgen", forbidden: server},
		{pkg: "./generator", forbidden: server},
		{pkg: "./openapi", forbidden: append(slices.Clone(server), module+"/generator")},
		{pkg: "./runtime/...", forbidden: []string{module + "/generator", module + "/cmd/bifrostgen", "golang.org/x/tools", "github.com/dave/jennifer"}},
		{pkg: ".", forbidden: server},
		{pkg: "./config", forbidden: server},
		{pkg: "./webhook", forbidden: server},
		{pkg: "./workflow", stdOnly: true},
		// bind is what generated decoders link: the standard library and the
		// JSON decoder (go-json-experiment/json, which encoding/json/v2 is
		// being made from: docs/architecture.md).
		{pkg: "./runtime/bind", stdOnly: true, allowed: []string{module, module + "/internal/execctx", module + "/runtime/jsonscan", "github.com/go-json-experiment/json/..."}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			for _, dep := range deps(t, r.pkg) {
				path, std := dep[0], dep[1] == "true"
				for _, bad := range r.forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s reaches %s: %s", r.pkg, path, why(t, r.pkg, path))
					}
				}
				if r.stdOnly && !std && !allowed(r.allowed, path) && path != module+strings.TrimPrefix(r.pkg, ".") {
					t.Errorf("%s reaches %s, outside the standard library: %s", r.pkg, path, why(t, r.pkg, path))
				}
			}
		})
	}
}

// allowed reports whether path is in list, where "p/..." stands for p and
// the packages under it.
func allowed(list []string, path string) bool {
	for _, a := range list {
		if tree, ok := strings.CutSuffix(a, "/..."); ok && (path == tree || strings.HasPrefix(path, tree+"/")) || path == a {
			return true
		}
	}
	return false
}

// deps lists the packages pattern links (tests excluded), each as its import
// path and whether it is in the standard library.
func deps(t *testing.T, pattern string) [][2]string {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", pattern).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pattern, err)
	}
	var list [][2]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, std, _ := strings.Cut(line, " ")
		list = append(list, [2]string{path, std})
	}
	return list
}

// why names the first package of pattern that imports target directly.
func why(t *testing.T, pattern, target string) string {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, pattern).Output()
	if err != nil {
		return err.Error()
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && slices.Contains(fields[1:], target) {
			return fields[0] + " imports it"
		}
	}
	return "imported indirectly"
}
