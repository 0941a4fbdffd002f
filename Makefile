# newslake: `make demo` and `make test` set everything up themselves; `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
TERSER ?= npx --yes terser@5.51.4
TRACKER := ingestion/tracker/newslake-tracker
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-10)
# Airflow has a venv of its own: it pins FastAPI below what serving/ uses.
AIRFLOW_VENV  ?= .venv-airflow
AIRFLOW_REQS  := airflow_dags/requirements.in airflow_dags/requirements.txt
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed-$(shell cat $(AIRFLOW_REQS) | sha1sum | cut -c1-10)
AIRFLOW_PORT  ?= 8080
NEWSLAKE_AIRFLOW_HOME ?= $(CURDIR)/.newslake/airflow
# Airflow's tasks may run from another folder: the state folder (and the local lake under it,
# where the switch task records each portal's version) is named absolutely, as the checkout's.
AIRFLOW_ENV   := AIRFLOW_HOME=$(NEWSLAKE_AIRFLOW_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/airflow_dags \
	AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__PARALLELISM=4 \
	AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT=$(AIRFLOW_PORT) \
	AIRFLOW__API__BASE_URL=http://127.0.0.1:$(AIRFLOW_PORT) \
	AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:$(AIRFLOW_PORT)/execution/ \
	NEWSLAKE_STATE_DIR=$(abspath $(or $(NEWSLAKE_STATE_DIR),.newslake))
export PYTHONPATH := $(CURDIR)
# Each bench prints one JSON line last; it is also kept for `make report`.
BENCH_DIR := .newslake/bench
bench_keep = mkdir -p $(BENCH_DIR) && set -o pipefail && $(1) | tee $(BENCH_DIR)/$(2).out \
	&& tail -n 1 $(BENCH_DIR)/$(2).out > $(BENCH_DIR)/$(2).json

.PHONY: help setup preflight sysdeps chromium jars up down status gateway tracker retry-worker \
	redrive firehose stream maintain batch demo test check lint format bench-demo bench-ingest bench-stream \
	bench-fresh \
	bench-batch clean \
	airflow-setup airflow synth deploy

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

preflight: ## Check the machine first: Java 17+ for Spark, Maven for the jars
	@$(PYTHON) -m newslake.preflight

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing Python packages into $(VENV) (pinned by requirements.lock)..."
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c requirements.lock -e '.[dev,report,bench,local]'
	@rm -f $(VENV)/.installed-* && touch $@

$(AIRFLOW_STAMP): $(AIRFLOW_REQS)
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	@echo "installing Airflow into $(AIRFLOW_VENV) (pinned by airflow_dags/requirements.txt)..."
	@# Without PYTHONPATH (the checkout, exported above): pip would take newslake.egg-info for
	@# an installed package and report its pins as conflicts with Airflow's.
	@env -u PYTHONPATH $(AIRFLOW_VENV)/bin/python -m pip install -q --upgrade pip
	@env -u PYTHONPATH $(AIRFLOW_VENV)/bin/python -m pip install -q -r airflow_dags/requirements.in -c airflow_dags/requirements.txt
	@rm -f $(AIRFLOW_VENV)/.installed-* && touch $@

airflow-setup: preflight $(AIRFLOW_STAMP) ## Airflow 3 in its own venv (.venv-airflow), pinned by airflow_dags/requirements.txt

airflow: up airflow-setup ## Local Airflow (standalone, SQLite) on 127.0.0.1:8080 with newslake_nightly
	@mkdir -p $(NEWSLAKE_AIRFLOW_HOME)
	@$(AIRFLOW_ENV) $(AIRFLOW_VENV)/bin/airflow db migrate >/dev/null
	@echo "Airflow on http://127.0.0.1:$(AIRFLOW_PORT): user admin, password in $(NEWSLAKE_AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated"
	@PATH="$(CURDIR)/$(AIRFLOW_VENV)/bin:$$PATH" $(AIRFLOW_ENV) airflow standalone

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

up: setup ## Start the moto server on 127.0.0.1, provision it, fill an empty store from the lake, start the session-state poller (idempotent)
	@$(PY) -m newslake.local up
	@$(PY) -m spark_jobs.restore --if-empty
	@$(PY) -m ingestion.session_daemon start

# ---- the serving store filled from the lake (spark_jobs/restore.py); make up runs it when the store is empty
.PHONY: restore
restore: setup ## Fill the serving store from the lake again: active versions' lists, live lists, recent reads, hot counts
	@$(PY) -m newslake.local up
	@$(PY) -m spark_jobs.restore

down: ## Stop the local platform (the session-state poller, then the moto server); the lake on disk stays
	@test -x $(PY) && { $(PY) -m ingestion.session_daemon stop; $(PY) -m newslake.local down; } || true

status: ## Say whether the local platform is running (exit 3 when stopped)
	@$(PY) -m newslake.local status

.PHONY: serve bench-serve
serve: up ## Serve the recommendation API on 127.0.0.1:8055 (uvicorn, JSON logs), foreground
	@$(PY) -m serving.main

gateway: up ## Serve POST /pageview on 127.0.0.1:8056 (local API Gateway -> handler), foreground
	@$(PY) -m ingestion.gateway

tracker: ## Minify the browser tracker into ingestion/tracker/newslake-tracker.min.js (commit both)
	@$(TERSER) $(TRACKER).js --compress --mangle --comments false \
	  --format "preamble='/*! newslake-tracker, minified from source sha256 $$(sha256sum $(TRACKER).js | cut -c1-64) */'" \
	  --output $(TRACKER).min.js
	@echo "$(TRACKER).min.js: $$(gzip -9c $(TRACKER).min.js | wc -c) bytes gzipped"

retry-worker: up ## Put what Kinesis refused back from the SQS retry queue (ONCE=1: drain, exit)
	@$(PY) -m ingestion.retry_worker $(if $(ONCE),--once)

redrive: up ## Move the dead-letter queue's messages back to the retry queue
	@$(PY) -m ingestion.retry_worker redrive

.PHONY: session-state
session-state: setup ## Session-state poller in the foreground, instead of make up's (ONCE=1: catch up, exit)
	@$(PY) -m newslake.local up
	@$(PY) -m ingestion.session_daemon stop >/dev/null
	@$(PY) -m ingestion.session_poller $(if $(ONCE),--once)

firehose: up ## Local Firehose stand-in: Kinesis -> S3 landing, continuous (ONCE=1: drain, exit)
	@$(PY) -m ingestion.local_firehose $(if $(ONCE),--once)

.PHONY: impressions
impressions: up ## Local stand-in for the impressions' log subscription: service lines -> S3 landing (ONCE=1)
	@$(PY) -m ingestion.local_impressions $(if $(ONCE),--once)

stream: up ## Streaming job (spark-submit): landing -> bronze -> silver + fresh signals, continuous
	@$(PY) -m ingestion.local_impressions --once >/dev/null
	@$(PY) -m spark_jobs.submit spark_jobs/streaming.py $(if $(ONCE),-- --available-now)

maintain: up ## Compact (OPTIMIZE) and vacuum (>= 7 days) every Delta table
	@$(PY) -m spark_jobs.submit spark_jobs/maintenance.py

# ---- privacy: erasure requests (newslake/privacy_cli.py) ----
# USER must come from the command line: make's own $(USER) is the login, never a reader.
.PHONY: erase
erase: up ## Record a reader's erasure request: make erase PORTAL=g1 USER=<reader id> (one JSON line)
	@$(if $(filter command line,$(origin USER)),,$(error name the reader: make erase PORTAL=g1 USER=<reader id>))
	@$(PY) -m newslake.privacy_cli --portal '$(PORTAL)' --user '$(USER)'

# ---- privacy: the erasure's proof (spark_jobs/erasure_check.py; the stage: STAGE=erase) ----
.PHONY: erase-check bench-erase
erase-check: up ## Count a reader everywhere (tables and their history, landing, store): make erase-check PORTAL=g1 USER=<id>
	@$(if $(filter command line,$(origin USER)),,$(error name the reader: make erase-check PORTAL=g1 USER=<reader id>))
	@$(PY) -m spark_jobs.erasure_check --portal '$(PORTAL)' --user '$(USER)'

bench-erase: setup ## Erase 100 readers from a lake of G1 clicks: rows removed, seconds, found after (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_erase $(BENCH_ARGS),erase)

# ---- editorial controls: a newsroom's blocks and promotions (newslake/editorial_cli.py) ----
EDITORIAL = $(PY) -m newslake.editorial_cli
.PHONY: block unblock promote unpromote controls
block: up ## Take an article out of every list: make block PORTAL=g1 ARTICLE=<id> REASON="..." [UNTIL=<epoch s>]
	@$(EDITORIAL) block --portal '$(PORTAL)' --article '$(ARTICLE)' --reason '$(REASON)' --until '$(UNTIL)'
unblock: up ## End a block: make unblock PORTAL=g1 ARTICLE=<id>
	@$(EDITORIAL) unblock --portal '$(PORTAL)' --article '$(ARTICLE)'
promote: up ## Place an article: make promote PORTAL=g1 ARTICLE=<id> POSITION=1 (or SHARE=0.2) [UNTIL=<epoch s>] [SECTIONS=a,b]
	@$(EDITORIAL) promote --portal '$(PORTAL)' --article '$(ARTICLE)' --position '$(POSITION)' --share '$(SHARE)' --until '$(UNTIL)' --sections '$(SECTIONS)'
unpromote: up ## End a promotion: make unpromote PORTAL=g1 ARTICLE=<id>
	@$(EDITORIAL) unpromote --portal '$(PORTAL)' --article '$(ARTICLE)'
controls: up ## A portal's blocks and promotions: make controls PORTAL=g1 (one JSON line)
	@$(EDITORIAL) controls --portal '$(PORTAL)'
# the editorial audit: every portal's change log into silver.editorial_audit (also a nightly stage)
.PHONY: audit
audit: up ## Bring the lake's editorial audit (silver.editorial_audit) up to the change log
	@$(PY) -m spark_jobs.submit spark_jobs/editorial_audit.py

batch: up ## The nightly chain (spark-submit): catch up, erase, interactions, train, gate, export, switch
	@$(PY) -m ingestion.local_impressions --once >/dev/null
	@$(PY) -m spark_jobs.submit spark_jobs/nightly.py $(if $(STAGE),-- --stage $(STAGE))

demo: up ## The whole slice on synthetic data, ending with real HTTP responses
	@$(PY) -m demo

bench-demo: up ## Wall time of the demo on a warm machine (last line: JSON)
	@$(call bench_keep,$(PY) -m demo | tail -n 1,demo)

bench-ingest: up ## POST /pageview over HTTP for 60 s: events/s, p50/p99, none lost (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_ingest $(BENCH_ARGS),ingest)

bench-serve: up ## Recommendation API under load on loopback, store and own overhead (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_serve $(BENCH_ARGS),serve)

bench-fresh: setup ## A reader's own read in their next answer: freshness p50/p95 at 100 events/s (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_fresh $(BENCH_ARGS),fresh)

bench-stream: up ## Streaming freshness (continuous) and catch-up speed on G1 (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_stream $(BENCH_ARGS),stream)

bench-batch: setup ## Nightly batch on the G1 clicks: stage times, NDCG/HR, ALS vs implicit (last line: JSON)
	@$(PY) -c "import implicit" 2>/dev/null || $(PY) -m pip install -q -c requirements.lock -e '.[bench]'
	@$(call bench_keep,$(PY) -m benchmarks.bench_batch $(BENCH_ARGS),batch)

# ---- faults: the store stopped under load, the streaming job killed mid-batch ----
.PHONY: bench-faults
bench-faults: up ## Store stopped 30 s under load, streaming job SIGKILLed mid-batch: 5xx, lost, duplicated (last line: JSON)
	@$(call bench_keep,$(PY) -m benchmarks.bench_faults $(BENCH_ARGS),faults)

.PHONY: eval-g1 report replay
eval-g1: $(STAMP) ## Protocols 1 and 2 on G1 (EVAL_ARGS="--first-hour 1 --last-hour 311"); last line: JSON
	@$(PY) -c "import implicit" 2>/dev/null || $(PY) -m pip install -q -c requirements.lock -e '.[bench]'
	@$(PY) -m evaluation.g1 $(EVAL_ARGS)

report: $(STAMP) ## HTML report of evaluation and benches: .newslake/report/index.html, summary.md
	@$(PY) -c "import matplotlib" 2>/dev/null || $(PY) -m pip install -q -c requirements.lock -e '.[report]'
	@$(PY) -m spark_jobs.rec_report || echo "note: the served lists' CTR is left out of the report"
	@$(PY) -m evaluation.report

replay: up ## G1 clicks as pageviews (REPLAY_ARGS="api --last-hour 2 --speed-up 60", or "bulk ...")
	@$(PY) -m ingestion.replay $(REPLAY_ARGS)

# ---- make replay-ab: the reader-list experiment replayed on G1 readers (demo/replay_ab.py)
.PHONY: replay-ab
replay-ab: up ## Reset the platform, replay G1 readers in the reader-list experiment, print its result (REPLAY_AB_ARGS)
	@$(PY) -m demo.replay_ab $(REPLAY_AB_ARGS)

test: setup airflow-setup ## Every test (starts and stops its own local platform)
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## Lint and format check (ruff), changing nothing
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP) ## Format the code and apply ruff's safe fixes
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

check: lint ## Lint, format check and type check
	@$(VENV)/bin/mypy

# AWS (infra/, CDK v2): synth needs no account and no network; deploy wraps the pinned CLI.
CDK ?= npx --yes aws-cdk@2.1148.1
ENV ?= dev

synth: $(STAMP) ## Synthesize the AWS stacks into cdk.out, offline (ENV=dev; context: infra/README.md)
	@CDK_OUTDIR=cdk.out CDK_CONTEXT_JSON='{"env": "$(ENV)"}' $(PY) -m infra.app
	@echo "cdk.out: $$(ls cdk.out/*.template.json | wc -l) templates for ENV=$(ENV)"

deploy: $(STAMP) ## Deploy the AWS stacks for ENV=... (AWS credentials; CDK_ARGS='-c key=value ...')
	@$(PY) -m infra.layer build/lambda-layer >/dev/null
	@$(CDK) deploy --all --app "$(PY) -m infra.app" --output cdk.out \
	  -c env=$(ENV) -c lambda_layer_dir=build/lambda-layer $(CDK_ARGS)

clean: down ## Remove the venv and local state, the local lake included (the jar cache in ~/.m2 stays)
	rm -rf $(VENV) $(AIRFLOW_VENV) .newslake
