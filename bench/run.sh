#!/usr/bin/env bash
# bench/run.sh runs the comparisons of docs/performance.md, each in one run,
# and prints benchstat tables; make bench runs them all. Sections:
#
#   endpoint   the same endpoint in process: plain echo, careful, generated, huma, fuego
#   loopback   the same four-plus servers over 127.0.0.1: req/s and p99
#   sync       a sync endpoint with and without recording (SQLite)
#   async      accepted/s and completed/s, bifrost beside River alone, 1/8/64 callers
#              (SQLite; PostgreSQL too when BIFROST_TEST_POSTGRES_URL is set)
#   generator  bifrostgen generate/check, go vet, swag init on 1,000 workflows
#   size       the quickstart binary against echo + SQLite + River
#
# BENCHCOUNT (default 6) sets the runs of endpoint and loopback, SLOWCOUNT
# (default 3) of sync and async, GENCOUNT (default 1) of the
# generator. Raw results go to bin/bench/*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/bin/bench
mkdir -p "$out"
BENCHCOUNT=${BENCHCOUNT:-6}
SLOWCOUNT=${SLOWCOUNT:-3}
GENCOUNT=${GENCOUNT:-1}
benchstat() { go tool benchstat "$@"; }
pin() { if command -v taskset >/dev/null; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi; }

endpoint() {
	echo "== in process: the same endpoint, plain echo = baseline"
	(cd bench && go test -run '^$' -bench InProcess -benchmem -count "$BENCHCOUNT" ./endpoint) >"$out/endpoint.txt"
	benchstat -col /impl "$out/endpoint.txt"
}

loopback() {
	(cd bench && go test -c -o "$out/endpoint.test" ./endpoint)
	if command -v wrk >/dev/null; then
		echo "== loopback: server on CPU 0 (GOMAXPROCS=1), wrk on CPU 1, 32 connections, 3 s a run"
		pin 1 "$out/endpoint.test" -test.run '^$' -test.bench LoopbackWrk -test.benchtime 1x \
			-test.count "$BENCHCOUNT" >"$out/loopback.txt"
	else
		echo "== loopback: server on CPU 0 (GOMAXPROCS=1), Go's client on CPU 1, 32 connections (apt-get install wrk for a load generator that keeps the server busy)"
		pin 1 "$out/endpoint.test" -test.run '^$' -test.bench 'Loopback$' -test.benchtime 1s -test.cpu 1 \
			-test.count "$BENCHCOUNT" >"$out/loopback.txt"
	fi
	benchstat -col /impl "$out/loopback.txt"
}

sync_() {
	echo "== sync endpoint over loopback, SQLite: record=off is the baseline"
	go test ./runtime -run '^$' -bench 'SyncRecording' -benchtime 1s -count "$SLOWCOUNT" >"$out/sync.txt"
	benchstat -col /record "$out/sync.txt"
}

async() {
	stores=sqlite
	if [ -n "${BIFROST_TEST_POSTGRES_URL:-}" ]; then stores=sqlite,postgres; fi
	echo "== async ($stores): bifrost beside River alone (impl=river is the baseline)"
	BENCH_STORES=$stores go test ./runtime -run '^$' -bench 'StoreAsync' -benchtime 2000x \
		-count "$SLOWCOUNT" -timeout 30m >"$out/async.txt"
	benchstat -col /impl -filter '/phase:accept' "$out/async.txt"
	benchstat -col /impl -filter '/phase:complete' "$out/async.txt"
}

generator() {
	echo "== the generator on 1,000 workflows in 50 packages"
	go build -o "$out/bifrostgen" ./cmd/bifrostgen
	(cd bench && go build -o "$out/swag" github.com/swaggo/swag/cmd/swag &&
		go run ./gen1000 -dir "$out/synth" -root "$root" -bifrostgen "$out/bifrostgen" -swag "$out/swag" \
			-count "$GENCOUNT") >"$out/generator.txt"
	benchstat -col /tool "$out/generator.txt"
}

size() {
	echo "== binary size"
	go build -o "$out/quickstart" ./examples/quickstart/cmd/quickstart
	(cd bench && go build -o "$out/baseline" ./sizes/baseline)
	q=$(stat -c %s "$out/quickstart") b=$(stat -c %s "$out/baseline")
	awk -v q="$q" -v b="$b" 'BEGIN { printf "quickstart %.1f MiB, echo+SQLite+River %.1f MiB: %.2fx\n", q/1048576, b/1048576, q/b }'
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(endpoint loopback sync async generator size)
for s in "${sections[@]}"; do
	case $s in
	sync) sync_ ;;
	endpoint | loopback | async | generator | size) $s ;;
	*) echo "unknown section $s" >&2; exit 2 ;;
	esac
done
