package bind

import (
	"context"
	"net/http"

	"github.com/bifrost-go/bifrost"
)

// Args are one workflow's decoded inputs. The generated type is JSON-tagged so
// an async execution can store them and a worker run them later.
type Args interface {
	// Invoke calls the workflow function with these inputs.
	Invoke(ctx context.Context) (Result, error)
}

// Result is what a workflow answered, before it is written.
type Result struct {
	Status   int
	Value    any               // the JSON body, unless Response is set or Status is 204
	Response *bifrost.Response // full control, from a (*bifrost.Response, error) workflow
}

// JSON is a result answered as JSON with the given status.
func JSON(status int, v any) Result { return Result{Status: status, Value: v} }

// NoContent is the result of a workflow that returns only an error.
func NoContent() Result { return Result{Status: http.StatusNoContent} }

// Raw is the result of a workflow that builds its own response. A nil
// response answers 204.
func Raw(r *bifrost.Response) Result {
	if r == nil {
		return NoContent()
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	return Result{Status: status, Response: r}
}
