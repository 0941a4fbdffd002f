# newslake: `make demo` and `make test` set everything up themselves; `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
TERSER ?= npx --yes terser@5.51.4
TRACKER := ingestion/tracker/newslake-tracker
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-10)
export PYTHONPATH := $(CURDIR)

.PHONY: help setup preflight sysdeps chromium jars up down status gateway tracker retry-worker \
	redrive firehose stream maintain batch demo test check lint format bench-demo bench-ingest bench-stream clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

preflight:
	@$(PYTHON) -m newslake.preflight

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing Python packages into $(VENV) (pinned by requirements.lock)..."
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

sysdeps: ## Native BLAS/LAPACK for Spark's ALS (Debian, as root; skipped otherwise)
	@if ldconfig -p | grep -q 'libblas.so.3' && ldconfig -p | grep -q 'liblapack.so.3'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing OpenBLAS for ALS (apt-get)..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread >/dev/null) \
	    || echo "warning: OpenBLAS not installed; ALS falls back to slower Java loops"; \
	else echo "note: no libblas.so.3; ALS uses slower Java loops (install libopenblas0 to speed it up)"; fi

chromium: ## Headless Chromium for the tracker's browser tests (Debian, as root; skipped otherwise)
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium for the tracker's browser tests (apt-get)..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: Chromium not installed; the browser tests will skip (fail under CI=true)"; \
	else echo "note: no /usr/bin/chromium; the browser tests will skip (apt-get install chromium)"; fi

jars: $(STAMP) ## Resolve the Spark jars (Delta, hadoop-aws) once into ~/.m2
	@$(PY) -m spark_jobs.jars

setup: preflight $(STAMP) sysdeps chromium jars ## Create the venv, install packages and jars

up: setup ## Start the moto server on 127.0.0.1 and provision it (idempotent)
	@$(PY) -m newslake.local up

down: ## Stop the local platform
	@test -x $(PY) && $(PY) -m newslake.local down || true

status:
	@$(PY) -m newslake.local status

.PHONY: serve bench-serve
serve: up ## Serve the recommendation API on 127.0.0.1:8055 (uvicorn, JSON logs), foreground
	@$(PY) -m serving.main

gateway: up ## Serve POST /pageview on 127.0.0.1:8056 (local API Gateway -> handler), foreground
	@$(PY) -m ingestion.gateway

tracker: ## Minify the browser tracker into $(TRACKER).min.js (commit it with the source)
	@$(TERSER) $(TRACKER).js --compress --mangle --comments false \
	  --format "preamble='/*! newslake-tracker, minified from source sha256 $$(sha256sum $(TRACKER).js | cut -c1-64) */'" \
	  --output $(TRACKER).min.js
	@echo "$(TRACKER).min.js: $$(gzip -9c $(TRACKER).min.js | wc -c) bytes gzipped"

retry-worker: up ## Put what Kinesis refused back from the SQS retry queue (ONCE=1: drain, exit)
	@$(PY) -m ingestion.retry_worker $(if $(ONCE),--once)

redrive: up ## Move the dead-letter queue's messages back to the retry queue
	@$(PY) -m ingestion.retry_worker redrive

firehose: up ## Local Firehose stand-in: Kinesis -> S3 landing, continuous (ONCE=1: drain, exit)
	@$(PY) -m ingestion.local_firehose $(if $(ONCE),--once)

stream: up ## Streaming job (spark-submit): landing -> bronze -> silver + fresh signals, continuous
	@$(PY) -m spark_jobs.submit spark_jobs/streaming.py $(if $(ONCE),-- --available-now)

maintain: up ## Compact (OPTIMIZE) and vacuum (>= 7 days) every Delta table
	@$(PY) -m spark_jobs.submit spark_jobs/maintenance.py

batch: up ## The nightly chain (spark-submit): catch up, interactions, ALS, most-viewed, export
	@$(PY) -m spark_jobs.submit spark_jobs/nightly.py

demo: up ## The whole slice on synthetic data, ending with real HTTP responses
	@$(PY) -m newslake.demo

bench-demo: up ## Wall time of the demo on a warm machine (last line: JSON)
	@$(PY) -m newslake.demo | tail -n 1

bench-ingest: up ## POST /pageview over HTTP for 60 s: events/s, p50/p99, none lost (last line: JSON)
	@$(PY) -m benchmarks.bench_ingest $(BENCH_ARGS)

bench-serve: up ## Recommendation API under load on loopback, store and own overhead (last line: JSON)
	@$(PY) -m benchmarks.bench_serve $(BENCH_ARGS)

bench-stream: up ## Streaming freshness (continuous) and catch-up speed on G1 (last line: JSON)
	@$(PY) -m benchmarks.bench_stream $(BENCH_ARGS)

test: setup ## Every test (starts and stops its own local platform)
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

check: lint ## Lint, format check and type check
	@$(VENV)/bin/mypy

clean: down ## Remove the venv and local state (the jar cache in ~/.m2 stays)
	rm -rf $(VENV) .newslake
