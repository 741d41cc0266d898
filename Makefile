# Run `make help` for the list of targets.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     ?= bin/authserver
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable

.PHONY: help run build test test-pg compat soak lint docker clean

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## start the server with zero configuration (SQLite in ./data, port 8000)
	go run .

build: ## build the static binary into bin/
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) .

test: ## all Go tests with the race detector: SQLite always, Postgres too when TEST_DATABASE_URL is set
	@scripts/gotest.sh ./...

test-pg: ## the same tests with Postgres at PG_ADMIN_URL (each test creates and drops its own database)
	@TEST_DATABASE_URL="$(PG_ADMIN_URL)" scripts/gotest.sh ./...

.PHONY: fuzz
fuzz: ## every Go fuzz target for FUZZTIME each (default 10s), from the seeds in */testdata/fuzz
	@scripts/fuzz.sh

compat: ## run the compat suite: the real Better-Auth 1.7.25 against this server (needs Node and Postgres)
	cd compat && npm ci --no-audit --no-fund && npm test

.PHONY: bench bench-smoke
bench: ## benchmark against the real Better-Auth 1.7.25 (needs wrk, Node, Postgres; ~4 min; writes bench/results/latest.md)
	@test -d compat/node_modules || (cd compat && npm ci --no-audit --no-fund)
	go run ./bench

bench-smoke: ## the benchmark's short version for CI (~1 min; must run, not meet the targets)
	@test -d compat/node_modules || (cd compat && npm ci --no-audit --no-fund)
	go run ./bench -smoke

soak: ## mixed workload at a fixed rate for 3 minutes; fails on any 5xx or growing memory (SOAK_ARGS to change)
	go run ./bench/soak $(or $(SOAK_ARGS),-duration 3m -rate 60)

.PHONY: examples
examples: build ## the examples/ services (FastAPI, Node) verifying the binary's JWTs (needs Node and python3-fastapi, -jwt, -uvicorn; ~15 s)
	AUTHSERVER_BIN=$(BIN) examples/test.sh

.PHONY: web e2e
web: ## rebuild the web app (frontend/) into web/dist, which the binary embeds; commit the result
	cd frontend && npm ci --no-audit --no-fund && npm run build

e2e: ## browser tests of the web app in Debian's Chromium, on SQLite and Postgres (needs Node, chromium, Postgres)
	cd e2e && npm ci --no-audit --no-fund && npm test

lint: ## go vet and a gofmt check
	go vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo "gofmt: files above need formatting" && exit 1)

docker: ## build the container image authserver:<version> and authserver:latest (needs a Docker engine)
	docker build --build-arg VERSION=$(VERSION) -t authserver:$(VERSION) -t authserver:latest .

clean: ## remove build output
	rm -rf bin
