# The two commands that matter on a fresh machine: `make demo` and `make test`.
GO ?= go
FUZZTIME ?= 10s
BENCHCOUNT ?= 6

.PHONY: demo test test-short fuzz check generate bench bench-micro docs-viewer screenshots

## demo: build the quickstart example and serve it on 127.0.0.1:8080 (PORT=9090, or
## ADDR=0.0.0.0:8080), printing curl lines to try with an API key kept in bin/demo.key
demo:
	PORT="$(PORT)" ADDR="$(ADDR)" ./examples/quickstart/demo.sh

## docs-viewer: re-fetch the API reference viewer embedded for /api/docs from the npm
## registry (runtime/internal/docsui); VERSION=x.y.z moves to another version of it
docs-viewer:
	./runtime/internal/docsui/update.sh $(VERSION)

## screenshots: retake the dashboard's screenshots in docs/img (list.png, execution.png)
## with the browser test, in headless Chromium
screenshots:
	$(GO) test -count=1 ./runtime/internal/dashboard -run '^TestBrowser$$' -screenshots "$(CURDIR)/docs/img"

## test: a short run of each fuzz target, then every test with the race detector.
## The PostgreSQL tests run when BIFROST_TEST_POSTGRES_URL names a role that may
## create databases (postgres://USER:PASSWORD@127.0.0.1:5432/postgres); .ci/run sets it.
test:
	$(MAKE) fuzz FUZZTIME=20000x
	@$(MAKE) --no-print-directory postgres-note
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory postgres-note

.PHONY: postgres-note
postgres-note:
	@if [ -n "$$BIFROST_TEST_POSTGRES_URL" ]; then \
		echo "PostgreSQL tests: ON (BIFROST_TEST_POSTGRES_URL is set)"; \
	else \
		echo "PostgreSQL tests: SKIPPED - set BIFROST_TEST_POSTGRES_URL=postgres://USER:PASSWORD@127.0.0.1:5432/postgres to run them (.ci/run does)"; \
	fi

## fuzz: run each fuzz target for FUZZTIME (a duration, or Nx executions: make test
## uses a count, since a time limit can end a short run with a spurious
## "context deadline exceeded" from the fuzzing engine)
fuzz:
	$(GO) test ./generator -run '^$$' -fuzz '^FuzzParseDirective$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/jsonscan -run '^$$' -fuzz '^FuzzWalk$$' -fuzztime $(FUZZTIME)
	$(GO) test ./examples/bench -run '^$$' -fuzz '^FuzzDecodeCreateItem$$' -fuzztime $(FUZZTIME)
	for f in FuzzGitHub FuzzStripe FuzzSlack FuzzStandard FuzzHMAC; do \
		$(GO) test ./webhook -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

## check: formatting, vet, staticcheck, and generated code up to date
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool bifrostgen check ./...

## generate: regenerate every bifrost_gen.go
generate:
	$(GO) generate ./...

## bench: every comparison of docs/performance.md, each in one run, as benchstat
## tables (bench/run.sh; about 10 minutes): the endpoint against plain echo, huma and
## fuego in process and over loopback, sync recording, async beside River alone
## (PostgreSQL too when BIFROST_TEST_POSTGRES_URL is set), the generator against go vet
## and swag on 1,000 workflows, the binary size. BENCHCOUNT=6 runs of the fast parts,
## SLOWCOUNT=3 of sync and async; BENCH="endpoint async" picks sections.
bench:
	BENCHCOUNT=$(BENCHCOUNT) ./bench/run.sh $(BENCH)

## bench-micro: the runtime's and examples/bench's own micro-benchmarks
bench-micro:
	$(GO) test -run '^$$' -bench 'CreateItem|Endpoint|HandWritten' -benchmem -count $(BENCHCOUNT) ./examples/bench ./runtime | tee bench.out
	$(GO) tool benchstat bench.out
