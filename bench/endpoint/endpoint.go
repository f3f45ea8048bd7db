package endpoint

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/examples/bench"
	"github.com/bifrost-go/bifrost/runtime"
)

// Path is the endpoint's path on every server.
const Path = "/api/endpoints/create_item"

// Impls names the servers, in the order the benchmarks run them; plain
// first, since it is the baseline of every ratio.
var Impls = []string{"plain", "careful", "generated", "huma", "fuego"}

// Handler returns the server named impl and a function that releases it.
func Handler(impl string) (http.Handler, func(), error) {
	switch impl {
	case "plain":
		e := echo.New()
		e.POST(Path, Plain)
		return e, func() {}, nil
	case "careful":
		e := echo.New()
		e.POST(Path, bench.HandwrittenCreateItem)
		return e, func() {}, nil
	case "generated":
		srv, err := runtime.New(runtime.Options{Workflows: bench.Workflows(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, nil, err
		}
		return srv.Handler(), func() { _ = srv.Shutdown(context.Background()) }, nil
	case "huma":
		return Huma(), func() {}, nil
	case "fuego":
		return Fuego(), func() {}, nil
	}
	return nil, nil, &unknownError{impl}
}

type unknownError struct{ impl string }

func (e *unknownError) Error() string { return "unknown impl " + e.impl }
