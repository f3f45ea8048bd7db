package endpoint

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkLoopbackWrk is BenchmarkLoopback with wrk as the load generator,
// when wrk is installed (apt-get install wrk): a C load generator on one
// core keeps the server's core busy, so req/s measures the server rather
// than Go's HTTP client. Each benchmark run is one wrk run of
// BENCH_WRK_SECONDS (default 3) after a 1-second warm-up: run it with
// -benchtime 1x and compare with benchstat -col /impl.
func BenchmarkLoopbackWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed")
	}
	seconds := 3
	if v, err := strconv.Atoi(os.Getenv("BENCH_WRK_SECONDS")); err == nil && v > 0 {
		seconds = v
	}
	script := filepath.Join(b.TempDir(), "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", validBody)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, impl := range Impls {
		b.Run("impl="+impl, func(b *testing.B) {
			base, pid := startChild(b, impl)
			url := base + Path + "?dry_run=true"
			load := func(d int) (string, error) {
				out, err := exec.Command(wrk, "-t1", fmt.Sprintf("-c%d", loopbackConns), fmt.Sprintf("-d%ds", d),
					"--latency", "-s", script, url).CombinedOutput()
				return string(out), err
			}
			if out, err := load(1); err != nil {
				b.Fatalf("wrk: %v\n%s", err, out)
			}
			b.ResetTimer()
			cpu0, ok0 := childCPU(pid)
			out, err := load(seconds)
			cpu1, ok1 := childCPU(pid)
			b.StopTimer()
			if err != nil {
				b.Fatalf("wrk: %v\n%s", err, out)
			}
			requests, rate, p99, err := parseWrk(out)
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
			b.ReportMetric(rate, "req/s")
			b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
			if ok0 && ok1 && requests > 0 {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(requests), "server-cpu-µs/req")
			}
		})
	}
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkP99      = regexp.MustCompile(`\s99%\s+([\d.]+)(us|ms|s)`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

// parseWrk reads the request count, the rate and the 99th percentile
// latency off wrk's report; any answer but a 2xx is an error.
func parseWrk(out string) (requests int, rate float64, p99 time.Duration, err error) {
	if m := wrkErrors.FindStringSubmatch(out); m != nil {
		return 0, 0, 0, fmt.Errorf("wrk: %s answers were not 2xx", m[1])
	}
	m1, m2, m3 := wrkRequests.FindStringSubmatch(out), wrkRate.FindStringSubmatch(out), wrkP99.FindStringSubmatch(out)
	if m1 == nil || m2 == nil || m3 == nil {
		return 0, 0, 0, fmt.Errorf("wrk: unexpected report")
	}
	requests, _ = strconv.Atoi(m1[1])
	rate, _ = strconv.ParseFloat(m2[1], 64)
	p99, err = time.ParseDuration(strings.TrimSpace(m3[1]) + m3[2])
	return requests, rate, p99, err
}
