package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// tool is one command measured on the module.
type tool struct {
	name string
	args []string
}

func tools(bifrostgen, swag, dir string) []tool {
	ts := []tool{
		{"generate", []string{bifrostgen, "generate", "./..."}},
		{"check", []string{bifrostgen, "check", "./..."}},
		{"vet", []string{"go", "vet", "./..."}},
	}
	if swag != "" {
		ts = append(ts, tool{"swag", []string{swag, "init", "--quiet", "-g", "main.go", "-o", filepath.Join(os.TempDir(), "gen1000-swag"), "--outputTypes", "json"}})
	}
	return ts
}

// measure generates the bindings once (main.go links them), then prints,
// for each tool, count runs with warm caches and count runs each right
// after an edit of every package (a comment appended: every package's
// build and vet results are then stale).
func measure(dir, bifrostgen, swag string, count, packages int) error {
	ts := tools(bifrostgen, swag, dir)
	// The bindings import the runtime: go.sum needs its modules before vet.
	if _, _, err := run(dir, ts[0]); err != nil {
		return err
	}
	if _, _, err := run(dir, tool{"tidy", []string{"go", "mod", "tidy"}}); err != nil {
		return err
	}
	// Edits differ from one run of gen1000 to the next: the build cache of
	// an earlier run must not hold the results of this one's edits.
	nonce := time.Now().UnixNano()
	edits := 0
	for range count {
		// The edits of the previous round left every cache stale: one run of
		// each tool, not measured, fills them again, so that warm is warm.
		for _, t := range ts {
			if _, _, err := run(dir, t); err != nil {
				return err
			}
		}
		for _, t := range ts {
			if err := report(dir, t, "warm"); err != nil {
				return err
			}
		}
		for _, t := range ts {
			edits++
			if err := touch(dir, packages, fmt.Sprintf("%d-%d", nonce, edits)); err != nil {
				return err
			}
			if err := report(dir, t, "edited"); err != nil {
				return err
			}
		}
	}
	return nil
}

func report(dir string, t tool, cache string) error {
	wall, rss, err := run(dir, t)
	if err != nil {
		return err
	}
	fmt.Printf("BenchmarkGenerator/cache=%s/tool=%s 1 %d ns/op %.1f peak-MiB\n", cache, t.name, wall.Nanoseconds(), float64(rss)/1024)
	return nil
}

// run runs t in dir and returns its wall time and peak resident set (KiB,
// the largest of the process and the children it waited for).
func run(dir string, t tool) (time.Duration, int64, error) {
	cmd := exec.Command(t.args[0], t.args[1:]...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	start := time.Now()
	out, err := cmd.Output()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v\n%s", t.name, err, out)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return wall, 0, nil
	}
	return wall, ru.Maxrss, nil
}

// touch appends a distinct comment, edit, to every package's source.
func touch(dir string, packages int, edit string) error {
	for p := range packages {
		f, err := os.OpenFile(filepath.Join(dir, pkgName(p), "workflows.go"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f, "\n// edit %s\n", edit)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
