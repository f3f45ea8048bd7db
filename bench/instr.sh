#!/usr/bin/env bash
# bench/instr.sh TESTBINARY BENCHREGEXP [N]: instructions per operation of one
# benchmark, counted by valgrind's callgrind (repeatable whatever else loads
# the machine, unlike the wall clock): the difference between a run of 2N
# and a run of N operations, divided by N, so start-up cancels out.
# (Go's asynchronous preemption signals crash callgrind: they are turned off.)
set -euo pipefail
bin=$1 re=$2 n=${3:-5000}
count() {
	GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" -test.run '^$' -test.bench "$re" \
		-test.benchtime "${1}x" -test.cpu 1 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
a=$(count "$n") b=$(count $((2 * n)))
echo "$re $(((b - a) / n)) instructions/op"
