package endpoint

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/go-fuego/fuego"
	"github.com/labstack/echo/v4"

	"github.com/bifrost-go/bifrost/examples/bench"
)

// humaInput is the request as huma declares it: every body member is
// required unless marked optional, and the body is validated against the
// schema huma derives from the type.
type humaInput struct {
	DryRun bool `query:"dry_run"`
	Body   struct {
		Name  string         `json:"name"`
		Count int            `json:"count"`
		Tags  []string       `json:"tags"`
		Meta  map[string]any `json:"meta"`
	}
}

type humaOutput struct {
	Body bench.Created
}

// Huma serves the endpoint with huma v2 on echo.
func Huma() http.Handler {
	e := echo.New()
	api := humaecho.New(e, huma.DefaultConfig("bench", "1.0.0"))
	huma.Register(api, huma.Operation{OperationID: "create-item", Method: http.MethodPost, Path: Path},
		func(ctx context.Context, in *humaInput) (*humaOutput, error) {
			b := in.Body
			out, err := bench.CreateItem(ctx, bench.Item{Name: b.Name, Count: b.Count, Tags: b.Tags, Meta: b.Meta}, in.DryRun)
			if err != nil {
				return nil, err
			}
			return &humaOutput{Body: out}, nil
		})
	return e
}

// fuegoItem is the body as fuego validates it (go-playground/validator
// tags; "required" on an int means non-zero, the closest it offers).
type fuegoItem struct {
	Name  string         `json:"name" validate:"required"`
	Count int            `json:"count" validate:"required"`
	Tags  []string       `json:"tags" validate:"required"`
	Meta  map[string]any `json:"meta" validate:"required"`
}

// Fuego serves the endpoint with fuego on net/http, without its request
// logger (every server here logs nothing).
func Fuego() http.Handler {
	s := fuego.NewServer(fuego.WithoutLogger(), fuego.WithoutStartupMessages(),
		fuego.WithEngineOptions(fuego.WithOpenAPIConfig(fuego.OpenAPIConfig{DisableLocalSave: true, DisableSwaggerUI: true})))
	fuego.Post(s, Path, func(c fuego.ContextWithBody[fuegoItem]) (bench.Created, error) {
		b, err := c.Body()
		if err != nil {
			return bench.Created{}, err
		}
		dryRun, err := c.QueryParamBoolErr("dry_run")
		if err != nil && c.QueryParam("dry_run") != "" {
			return bench.Created{}, fuego.BadRequestError{Detail: "dry_run must be a boolean"}
		}
		return bench.CreateItem(c, bench.Item{Name: b.Name, Count: b.Count, Tags: b.Tags, Meta: b.Meta}, dryRun)
	}, fuego.OptionQueryBool("dry_run", "a dry run"))
	return s.Mux
}
