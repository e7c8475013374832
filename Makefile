# routeapi: the front door. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
BIN           := bin
ROUTEAPI      := $(BIN)/routeapi
# The Inngest dev server, built from the Go module proxy (tools/inngestdev) and cached here.
INNGEST_VERSION := v1.0.0
INNGEST       := $(BIN)/inngest-$(INNGEST_VERSION)
# The load generator for make bench, installed from the Go module proxy (not in go.mod).
HEY           := $(BIN)/hey
HEY_VERSION   := v0.1.5
BENCH_DURATION ?= 5s
MINT_DIR      := testdata/mint
MINT_STAMP    := $(MINT_DIR)/node_modules/.installed
REDOCLY       := npx --yes @redocly/cli@2.77.0
GOLANGCI_LINT := $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
export REDOCLY_TELEMETRY := off

.PHONY: help generate build run test test-deps test-unit test-e2e test-bench-smoke bench check-generated lint lint-spec lint-go clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: ## Regenerate gen/ from openapi.yaml (oapi-codegen)
	$(GO) generate ./gen

build: ## Build bin/routeapi
	$(GO) build -trimpath -o $(ROUTEAPI) ./cmd/routeapi

run: build $(INNGEST) ## Run routeapi (dev mode) with a local Inngest dev server; prints the docs URL and a cookie
	ROUTEAPI=$(ROUTEAPI) INNGEST=$(INNGEST) scripts/run-dev.sh

test: test-deps check-generated lint-spec lint-go test-unit test-e2e test-bench-smoke ## Run every test and gate (what CI runs)
	@echo "make test: all passed"

test-deps: $(MINT_STAMP) $(INNGEST) ## Install what the tests need (npm packages, Inngest dev server)

test-unit: ## Go unit and handler tests
	$(GO) test -race -count=1 ./...

test-e2e: build $(INNGEST) $(MINT_STAMP) ## End-to-end tests: built binary, real Inngest dev server, real next-auth tokens
	cd e2e && ROUTEAPI_BIN=$(CURDIR)/$(ROUTEAPI) INNGEST_BIN=$(CURDIR)/$(INNGEST) $(GO) test -count=1 -timeout 10m ./...

bench: build $(HEY) $(MINT_STAMP) ## Go benchmarks of the hot path, then a bounded load test: routeapi vs a no-op handler (BENCH_DURATION per scenario)
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 1 ./internal/session ./internal/events ./api
	$(GO) run ./scripts/loadbench -routeapi $(ROUTEAPI) -hey $(HEY) -duration $(BENCH_DURATION)

test-bench-smoke: build $(HEY) $(MINT_STAMP) ## One short scenario of make bench's load test (the harness works; no figures asserted)
	$(GO) run ./scripts/loadbench -routeapi $(ROUTEAPI) -hey $(HEY) -duration 1s -quick

$(HEY):
	@mkdir -p $(BIN)
	GOBIN=$(CURDIR)/$(BIN) $(GO) install github.com/rakyll/hey@$(HEY_VERSION)

check-generated: ## Fail if `make generate` changes gen/ or leaves untracked files there
	$(MAKE) --no-print-directory generate
	@git diff --exit-code --stat -- gen || { echo "gen/ is out of date: run 'make generate' and commit it"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- gen); \
	  if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

lint: lint-spec lint-go ## Lint the spec (Redocly) and the Go code (vet, golangci-lint)

lint-spec: ## Redocly lint of openapi.yaml
	$(REDOCLY) lint --format=stylish openapi.yaml

lint-go: ## go vet and golangci-lint (generated code excluded)
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	cd e2e && $(GOLANGCI_LINT) run --config ../.golangci.yml ./...

$(INNGEST): tools/inngestdev/go.mod tools/inngestdev/go.sum
	@mkdir -p $(BIN)
	@echo "building the Inngest dev server $(INNGEST_VERSION) (cached in $(INNGEST); about 2 minutes the first time)"
	cd tools/inngestdev && $(GO) build -o $(CURDIR)/$(INNGEST) github.com/inngest/inngest/cmd

$(MINT_STAMP): $(MINT_DIR)/package.json $(MINT_DIR)/package-lock.json
	cd $(MINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

clean: ## Remove build output and installed test dependencies
	rm -rf $(BIN) $(MINT_DIR)/node_modules test-output
