// Command crashapp is a tiny Bifrost binary with hand-written workflows, for
// the durability tests in ../../durability_test.go: they run it as real
// processes, kill it with SIGKILL or SIGTERM, and start it again on the same
// store.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

func main() { runtime.Main(workflows()...) }

func workflows() []*runtime.Workflow {
	return []*runtime.Workflow{{
		Spec: workflow.Spec{
			Name:     "sleepy",
			Package:  "github.com/bifrost-go/bifrost/runtime/testdata/crashapp",
			Func:     "Sleepy",
			Summary:  "Sleep ms milliseconds, then answer the tag and the process that ran it",
			Endpoint: true,
			Methods:  []string{http.MethodPost},
			Public:   true,
			Mode:     workflow.Async,
			Timeout:  time.Minute,
			Body:     workflow.BodyDecoded,
		},
		Decode:  decodeSleepy,
		NewArgs: func() bind.Args { return new(sleepyArgs) },
	}, threeSteps()}
}

// sleepyArgs are the inputs of sleepy, as the execution stores them.
type sleepyArgs struct {
	MS  int    `json:"ms"`
	Tag string `json:"tag"`
}

// sleepyResult tells the test which process ran the execution and when.
type sleepyResult struct {
	Tag     string    `json:"tag"`
	MS      int       `json:"ms"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
}

func decodeSleepy(in *bind.Input) (bind.Args, error) {
	a := new(sleepyArgs)
	if in.Kind == bind.NoBody {
		return a, nil
	}
	if err := json.Unmarshal(in.Body(), a); err != nil {
		return nil, &bifrost.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
			Detail: "the body is not a sleepy request", Errors: []bifrost.FieldError{{Location: "body", Message: err.Error()}}}
	}
	if a.MS < 0 {
		return nil, &bifrost.Error{Status: http.StatusBadRequest, Title: http.StatusText(http.StatusBadRequest),
			Detail: "ms must not be negative", Errors: []bifrost.FieldError{{Location: "body.ms", Message: "expected a non-negative integer"}}}
	}
	return a, nil
}

// Invoke sleeps MS milliseconds, or until ctx ends.
func (a *sleepyArgs) Invoke(ctx context.Context) (bind.Result, error) {
	started := time.Now().UTC()
	bifrost.Logger(ctx).Info("sleeping", "ms", a.MS, "tag", a.Tag, "pid", os.Getpid())
	t := time.NewTimer(time.Duration(a.MS) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return bind.Result{}, context.Cause(ctx)
	}
	return bind.JSON(http.StatusOK, sleepyResult{Tag: a.Tag, MS: a.MS, PID: os.Getpid(), Started: started, Ended: time.Now().UTC()}), nil
}
