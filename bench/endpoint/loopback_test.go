package endpoint

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The loopback benchmark runs each server in a child process (this test
// binary again, told by serveEnv what to serve) pinned to CPU 0 with
// GOMAXPROCS=1 when taskset exists, while this process, the load generator,
// runs on the other CPU (make bench starts it with taskset -c 1). Both talk
// over 127.0.0.1 only.
const serveEnv = "BIFROST_BENCH_SERVE"

func TestMain(m *testing.M) {
	if impl := os.Getenv(serveEnv); impl != "" {
		os.Exit(serveChild(impl))
	}
	os.Exit(m.Run())
}

// serveChild serves impl on a loopback port, prints the address, and
// serves until its standard input closes (the parent ended).
func serveChild(impl string) int {
	h, release, err := Handler(impl)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer release()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println(ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = srv.Close()
	return 0
}

// startChild starts the server child for impl and returns its base URL and
// its process id.
func startChild(b *testing.B, impl string) (string, int) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	args := []string{exe, "-test.run=^$"}
	if ts, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{ts, "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), serveEnv+"="+impl, "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("%s: no address: %v", impl, err)
	}
	return "http://" + strings.TrimSpace(addr), cmd.Process.Pid // taskset execs the server: the same process
}

// childCPU is the CPU time process pid has used, from /proc (Linux only).
func childCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command (field 2) may hold spaces: count fields after its ")".
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / 100, true // USER_HZ is 100 on Linux
}

// loopbackConns is the number of concurrent keep-alive connections.
const loopbackConns = 32

// BenchmarkLoopback loads each server over loopback HTTP with
// loopbackConns concurrent callers for -benchtime (1s..3s keeps it
// bounded), reporting requests/s and the 99th percentile latency. Compare
// with benchstat -col /impl.
func BenchmarkLoopback(b *testing.B) {
	for _, impl := range Impls {
		b.Run("impl="+impl, func(b *testing.B) {
			base, pid := startChild(b, impl)
			url := base + Path + "?dry_run=true"
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loopbackConns, MaxConnsPerHost: loopbackConns}}
			defer client.CloseIdleConnections()
			call := func() error {
				resp, err := client.Post(url, "application/json", strings.NewReader(validBody))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				return nil
			}
			for range loopbackConns { // open the connections before timing
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
			var mu sync.Mutex
			var all []time.Duration
			b.SetParallelism(max(1, loopbackConns/max(1, runtimeProcs())))
			b.ResetTimer()
			cpu0, cpuOK := childCPU(pid)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				lat := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					if err := call(); err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Since(t0))
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			cpu1, cpuOK1 := childCPU(pid)
			b.StopTimer()
			// The server's CPU per request: its cost even when the load
			// generator, alone on the other core, is what limits req/s.
			if cpuOK && cpuOK1 {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "server-cpu-µs/req")
			}
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
		})
	}
}
