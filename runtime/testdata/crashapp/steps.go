package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bifrost-go/bifrost"
	"github.com/bifrost-go/bifrost/runtime"
	"github.com/bifrost-go/bifrost/runtime/bind"
	"github.com/bifrost-go/bifrost/workflow"
)

// threeSteps is a workflow of three durable steps for the steps kill tests
// (../../steps_test.go). Each step appends a line to a file of its name in
// Dir: the files count how often each step really ran. Step "two" waits for
// the file "release" in Dir, so a test can kill the process in its middle.
func threeSteps() *runtime.Workflow {
	return &runtime.Workflow{
		Spec: workflow.Spec{
			Name:     "three_steps",
			Package:  "github.com/bifrost-go/bifrost/runtime/testdata/crashapp",
			Func:     "ThreeSteps",
			Summary:  "Run three counted steps; the second waits for a release file",
			Endpoint: true,
			Methods:  []string{http.MethodPost},
			Mode:     workflow.Async,
			Timeout:  2 * time.Minute,
			Body:     workflow.BodyDecoded,
		},
		Decode: func(in *bind.Input) (bind.Args, error) {
			a := new(stepsArgs)
			if err := json.Unmarshal(in.Body(), a); err != nil || a.Dir == "" {
				return nil, bifrost.Errorf(http.StatusBadRequest, "expected {\"dir\": \"...\"}")
			}
			return a, nil
		},
		NewArgs: func() bind.Args { return new(stepsArgs) },
	}
}

type stepsArgs struct {
	Dir string `json:"dir"`
}

// stepsResult is what each step returned: step "one" its count of runs, as
// the first run recorded it.
type stepsResult struct {
	One   int    `json:"one"`
	Two   string `json:"two"`
	Three int    `json:"three"`
	PID   int    `json:"pid"`
}

func (a *stepsArgs) Invoke(ctx context.Context) (bind.Result, error) {
	var r stepsResult
	var err error
	if r.One, err = bifrost.Step(ctx, "one", func(context.Context) (int, error) { return a.count("one") }); err != nil {
		return bind.Result{}, err
	}
	if r.Two, err = bifrost.Step(ctx, "two", a.two); err != nil {
		return bind.Result{}, err
	}
	if r.Three, err = bifrost.Step(ctx, "three", func(context.Context) (int, error) { return a.count("three") }); err != nil {
		return bind.Result{}, err
	}
	r.PID = os.Getpid()
	return bind.JSON(http.StatusOK, r), nil
}

// two counts its run, then waits for the release file.
func (a *stepsArgs) two(ctx context.Context) (string, error) {
	n, err := a.count("two")
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(a.Dir, "release")); err == nil {
			return fmt.Sprintf("released on run %d", n), nil
		}
		select {
		case <-ctx.Done():
			return "", context.Cause(ctx)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// count appends this process's pid to the file name in Dir and returns
// how many lines it holds: how many times the step ran.
func (a *stepsArgs) count(name string) (int, error) {
	path := filepath.Join(a.Dir, name)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	_, err = fmt.Fprintf(f, "%d\n", os.Getpid())
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(path)
	return strings.Count(string(b), "\n"), err
}
