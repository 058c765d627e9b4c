# aiobs developer tasks. `make` lists them.
GO ?= go
BIN := bin/aiobs
EXAMPLE_OUT := testdata/golden/example
FUZZTIME ?= 10s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/aiobs
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/aiobs

.PHONY: render
render: build ## render the bundled example into ./out
	$(BIN) render --decisions examples --out out

.PHONY: test
test: ## vet, every Go test with the race detector, the example end to end, LogQL through Grafana's parser
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) test -race ./...
	$(GO) run ./cmd/aiobs render --decisions examples --out out
	$(GO) run ./cmd/aiobs validate --decisions examples --out out
	tools/logqlcheck/run.sh out
	node --test tools/logqlcheck/

.PHONY: golden
golden: ## rewrite golden files from the current code
	AIOBS_UPDATE=1 $(GO) test ./...

.PHONY: lint
lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...
	$(GO) tool -modfile=tools/go.mod staticcheck ./...

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

BENCH_SIZES ?= 10 100 1000

.PHONY: bench
bench: ## whole-process timings at BENCH_SIZES workloads (default 10 100 1000), rule costs, and the Go benchmarks of every stage, as Markdown tables
	GOBENCH=1 scripts/bench.sh $(BENCH_SIZES)

.PHONY: check
check: lint test ## lint and test, then prove golden files and go.mod are current
	AIOBS_UPDATE=1 $(GO) test ./... >/dev/null
	git diff --exit-code -- testdata
	$(GO) mod tidy -diff
