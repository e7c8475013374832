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
# make bench's load test (scripts/loadbench): the closed loop with Debian's
# wrk (.ci/run installs it), the open loop with vegeta, installed from the Go
# module proxy (a pinned tool, not in go.mod), and the original Next.js
# route (testdata/nextjs-seed) beside routeapi: its npm packages pinned by its
# lockfile, its `next build` cached in its .next/ (git-ignored).
WRK           ?= wrk
VEGETA        := $(BIN)/vegeta
VEGETA_VERSION := v12.13.0
SEED_DIR      := testdata/nextjs-seed
SEED_STAMP    := $(SEED_DIR)/node_modules/.installed
SEED_BUILD    := $(SEED_DIR)/.next/BUILD_ID
SEED_SOURCES  := $(shell find $(SEED_DIR)/app $(SEED_DIR)/lib -type f) $(addprefix $(SEED_DIR)/,next.config.mjs tsconfig.json package.json package-lock.json)
BENCH_DURATION ?= 5s
BENCH_OPEN_DURATION ?= 8s
BENCH_RATES   ?= 1000,2000,4000
LOADBENCH     := $(GO) run ./scripts/loadbench -routeapi $(ROUTEAPI) -wrk $(WRK) -vegeta $(VEGETA) -seed $(SEED_DIR)
MINT_DIR      := testdata/mint
MINT_STAMP    := $(MINT_DIR)/node_modules/.installed
# The TypeScript client (clients/typescript) and the browser test (testdata/browser):
# npm packages pinned by their lockfiles, installed with `npm ci` when stale.
CLIENT_DIR    := clients/typescript
CLIENT_STAMP  := $(CLIENT_DIR)/node_modules/.installed
BROWSER_DIR   := testdata/browser
BROWSER_STAMP := $(BROWSER_DIR)/node_modules/.installed
# A Next.js app with its old route file in place, rewriting /api/route to routeapi (make test-nextjs).
NEXTJS_DIR    := testdata/nextjs
NEXTJS_STAMP  := $(NEXTJS_DIR)/node_modules/.installed
# The Node tests start these binaries (testdata/harness/harness.mjs).
NODE_TEST_ENV := ROUTEAPI_BIN=$(CURDIR)/$(ROUTEAPI) INNGEST_BIN=$(CURDIR)/$(INNGEST)
REDOCLY       := npx --yes @redocly/cli@2.77.0
GOLANGCI_LINT := $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
export REDOCLY_TELEMETRY := off

.PHONY: check-tidy sessions-corpus sessions-verdicts help generate build run run-deps check-ports inngest-stop inngest-start image test-image test test-deps test-unit test-e2e test-client test-recipe test-browser test-nextjs test-bench-smoke bench bench-overload contract test-contract check-generated lint lint-spec lint-go clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

generate: $(CLIENT_STAMP) ## Regenerate gen/ (oapi-codegen), the TS client's src/schema.ts (openapi-typescript) and src/inngest.ts (the catalogue's inngest triggers) from openapi.yaml
	$(GO) generate ./gen
	cd $(CLIENT_DIR) && node_modules/.bin/openapi-typescript ../../openapi.yaml -o src/schema.ts
	cd $(CLIENT_DIR) && node scripts/generate-inngest.mjs

# -buildvcs=auto: stamp the git revision (routeapi version) when building in a
# git checkout, whatever GOFLAGS says; a tarball builds without it.
build: ## Build bin/routeapi
	$(GO) build -buildvcs=auto -trimpath -o $(ROUTEAPI) ./cmd/routeapi

# The ports are checked before anything is built: a taken port fails at once,
# naming the variable to change (PORT or ROUTEAPI_ADDR, INNGEST_PORT).
# exec: make's SIGTERM reaches run-dev.sh itself, which stops both servers.
run: ## Run routeapi (dev mode, 127.0.0.1:8390; PORT=...) with a local Inngest dev server (INNGEST_PORT=8288); prints the docs URL and a cookie
	@scripts/run-dev.sh check-ports
	@$(MAKE) --no-print-directory run-deps
	@ROUTEAPI=$(ROUTEAPI) INNGEST=$(INNGEST) exec scripts/run-dev.sh

run-deps: build $(INNGEST)

check-ports: ## Fail if make run's ports (PORT or ROUTEAPI_ADDR, INNGEST_PORT) are taken, naming the variable to change
	@scripts/run-dev.sh check-ports

inngest-stop: ## Stop the Inngest dev server make run started, while routeapi keeps running (it spools)
	@scripts/run-dev.sh inngest-stop

inngest-start: $(INNGEST) ## Start the Inngest dev server again for make run (--no-discovery: never probes routeapi's port)
	@INNGEST=$(INNGEST) scripts/run-dev.sh inngest-start

test: test-deps check-tidy check-generated lint-spec contract test-contract lint-go test-unit test-e2e test-client test-recipe test-browser test-nextjs test-bench-smoke test-image ## Run every test and gate (what CI runs)
	@echo "make test: all passed"

test-deps: $(MINT_STAMP) $(CLIENT_STAMP) $(BROWSER_STAMP) $(NEXTJS_STAMP) $(SEED_STAMP) $(INNGEST) ## Install what the tests need (npm packages, Inngest dev server)

test-unit: ## Go unit and handler tests
	$(GO) test -race -count=1 ./...

test-e2e: build $(INNGEST) $(MINT_STAMP) ## End-to-end tests: built binary, real Inngest dev server, real next-auth tokens
	cd e2e && ROUTEAPI_BIN=$(CURDIR)/$(ROUTEAPI) INNGEST_BIN=$(CURDIR)/$(INNGEST) $(GO) test -count=1 -timeout 10m ./...

bench: build $(VEGETA) $(MINT_STAMP) $(SEED_BUILD) ## Go benchmarks of the hot path, then the load test: routeapi, a no-op handler and the original Next.js route, closed loop (wrk, BENCH_DURATION) and open loop (vegeta, BENCH_RATES, BENCH_OPEN_DURATION)
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 1 ./internal/session ./internal/sessioncache ./internal/rawjson ./internal/events ./internal/inngest ./api
	$(LOADBENCH) -duration $(BENCH_DURATION) -open-duration $(BENCH_OPEN_DURATION) -rates $(BENCH_RATES)

bench-overload: build $(MINT_STAMP) ## Memory and answers under overload: 250 KB bodies from 64, 512 and 1,500 connections, 10 s each, against an instant Event API stand-in
	$(GO) run ./scripts/overload -routeapi $(ROUTEAPI) -steps 64,512,1500 -duration 10s

test-bench-smoke: build $(VEGETA) $(MINT_STAMP) $(SEED_BUILD) ## make bench's load test in short (1 s each): closed loop of the no-op, /api/route, /api/events ×10 and the original route, open loop at one rate (the harness works; no figures asserted)
	$(LOADBENCH) -duration 1s -open-duration 1s -warmup 1s -rates 1000 -quick

sessions-corpus: $(MINT_STAMP) ## Regenerate testdata/sessions/corpus.json (new tokens from the real libraries), then its verdicts
	cd $(MINT_DIR) && node differential.mjs generate > ../sessions/corpus.json
	$(MAKE) --no-print-directory sessions-verdicts

sessions-verdicts: $(MINT_STAMP) ## Recompute testdata/sessions/verdicts.json with the real next-auth and @auth/core (review the diff)
	cd $(MINT_DIR) && node differential.mjs verdicts < ../sessions/corpus.json > ../sessions/verdicts.json

# The container image: podman, offline (FROM scratch; see Containerfile).
# PODMAN_FLAGS are what these machines need; elsewhere `make image PODMAN_FLAGS=`.
IMAGE         ?= localhost/routeapi:dev
PODMAN        ?= podman
PODMAN_FLAGS  ?= --runtime /usr/sbin/runc --cgroup-manager=cgroupfs
export CONTAINERS_CONF ?= $(CURDIR)/scripts/podman/containers.conf

image: ## Build the container image $(IMAGE) with podman: static binary, CA certificates, non-root, no shell, FROM scratch
	IMAGE=$(IMAGE) GO=$(GO) PODMAN=$(PODMAN) PODMAN_FLAGS="$(PODMAN_FLAGS)" scripts/build-image.sh

test-image: image $(INNGEST) $(MINT_STAMP) ## Run the image (read-only root, spool volume, non-root): a minted session's request reaches the real Inngest dev server
	cd e2e && ROUTEAPI_IMAGE=$(IMAGE) PODMAN=$(PODMAN) PODMAN_FLAGS="$(PODMAN_FLAGS)" INNGEST_BIN=$(CURDIR)/$(INNGEST) \
	  $(GO) test -tags image -count=1 -timeout 5m -run '^TestImage$$' ./...

$(VEGETA):
	@mkdir -p $(BIN)
	GOBIN=$(CURDIR)/$(BIN) $(GO) install github.com/tsenart/vegeta/v12@$(VEGETA_VERSION)

# next build is slow: cached in .next/ until a source or the packages change.
$(SEED_BUILD): $(SEED_STAMP) $(SEED_SOURCES)
	rm -f $@
	cd $(SEED_DIR) && NEXT_TELEMETRY_DISABLED=1 node_modules/.bin/next build
	@test -s $@ && touch $@

$(SEED_STAMP): $(SEED_DIR)/package.json $(SEED_DIR)/package-lock.json
	cd $(SEED_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# The three modules: the service, the e2e tests, the Inngest dev server's build.
TIDY_MODULES  := . e2e tools/inngestdev

check-tidy: ## Fail if go.mod or go.sum of any module is not what `go mod tidy` would write (go mod tidy -diff)
	@for m in $(TIDY_MODULES); do \
	  (cd $$m && $(GO) mod tidy -diff) || { echo "$$m: go.mod/go.sum are not tidy: run 'cd $$m && go mod tidy' and commit"; exit 1; }; \
	done

# generate is a prerequisite, not a recursive $(MAKE): GNU make passes no -o
# to a sub-make, so `make -o <npm stamp> check-generated` (node_modules
# shared through a symlink) would run npm ci there all the same.
check-generated: generate ## Fail if `make generate` changes gen/ or the TS client's generated files, or leaves untracked files there
	@git diff --exit-code --stat -- gen $(CLIENT_DIR)/src/schema.ts $(CLIENT_DIR)/src/inngest.ts || { echo "generated code is out of date: run 'make generate' and commit it"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- gen $(CLIENT_DIR)/src/schema.ts $(CLIENT_DIR)/src/inngest.ts); \
	  if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

contract: lint-spec ## Contract gate: Redocly lint, then oasdiff v1.37.0 breaking changes against the last release (newest v* tag, else contract/)
	GO=$(GO) scripts/contract.sh

test-contract: ## Prove the gate: it refuses testdata/contract/breaking.yaml, accepts additive.yaml, prefers a v* tag
	GO=$(GO) scripts/test-contract.sh

lint: lint-spec lint-go ## Lint the spec (Redocly) and the Go code (vet, golangci-lint)

lint-spec: ## Redocly lint of openapi.yaml
	$(REDOCLY) lint --format=stylish openapi.yaml

lint-go: ## go vet and golangci-lint (generated code excluded)
	$(GO) vet ./...
	cd e2e && $(GO) vet -tags image ./...
	$(GOLANGCI_LINT) run ./...
	cd e2e && $(GOLANGCI_LINT) run --build-tags image --config ../.golangci.yml ./...

$(INNGEST): tools/inngestdev/go.mod tools/inngestdev/go.sum
	@mkdir -p $(BIN)
	@GO=$(GO) scripts/build-inngest.sh $(CURDIR)/$(INNGEST) $(INNGEST_VERSION)

test-client: build $(INNGEST) $(CLIENT_STAMP) ## TS client: build it, run it against routeapi + Inngest dev (node --test), type tests (tsc)
	cd $(CLIENT_DIR) && node_modules/.bin/tsc -p tsconfig.json
	cd $(CLIENT_DIR) && $(NODE_TEST_ENV) node --test --test-concurrency=1 --test-timeout=180000 test/client.test.mjs test/unexpected.test.mjs test/inngest-function.test.mjs test/types.test.mjs

# A copy of the tree in a temporary directory (removed after), so nothing here changes.
test-recipe: $(INNGEST) $(MINT_STAMP) $(CLIENT_STAMP) ## Prove the README's "Adding an event" recipe on a throwaway event in a copy of the tree: make generate, go build, the binary with real Inngest and next-auth, tsc
	GO=$(GO) INNGEST=$(CURDIR)/$(INNGEST) scripts/recipe-test.sh

test-browser: build $(INNGEST) $(BROWSER_STAMP) ## Swagger UI in Debian's Chromium (playwright-core): Try it out gets a 200; screenshots in test-output/browser
	@test -x /usr/bin/chromium || { echo "test-browser needs Debian's chromium (apt-get install chromium; .ci/run does it)"; exit 1; }
	cd $(BROWSER_DIR) && $(NODE_TEST_ENV) TEST_OUTPUT_DIR=$(CURDIR)/test-output/browser \
	  node --test --test-concurrency=1 --test-timeout=180000 swagger-ui.test.mjs

test-nextjs: build $(INNGEST) $(NEXTJS_STAMP) ## A real Next.js 16 app (next build + start): which rewrites of /api/route reach routeapi, /api/events through its rewrite, and an Auth.js v5 secret rotation (next-auth 5.0.0-beta.32)
	cd $(NEXTJS_DIR) && $(NODE_TEST_ENV) node --test --test-concurrency=1 --test-timeout=900000 app.test.mjs

$(NEXTJS_STAMP): $(NEXTJS_DIR)/package.json $(NEXTJS_DIR)/package-lock.json
	cd $(NEXTJS_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	cd $(BROWSER_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(CLIENT_STAMP): $(CLIENT_DIR)/package.json $(CLIENT_DIR)/package-lock.json
	cd $(CLIENT_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(MINT_STAMP): $(MINT_DIR)/package.json $(MINT_DIR)/package-lock.json
	cd $(MINT_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

clean: ## Remove build output and installed test dependencies
	rm -rf $(BIN) $(MINT_DIR)/node_modules $(CLIENT_DIR)/node_modules $(CLIENT_DIR)/dist $(BROWSER_DIR)/node_modules $(NEXTJS_DIR)/node_modules $(NEXTJS_DIR)/.next $(SEED_DIR)/node_modules $(SEED_DIR)/.next test-output
