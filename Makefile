# newslake: `make demo` and `make test` set everything up themselves; `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-10)
export PYTHONPATH := $(CURDIR)

.PHONY: help setup preflight sysdeps jars up down status demo test check lint format bench-demo clean

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

jars: $(STAMP) ## Resolve the Spark jars (Delta, hadoop-aws) once into ~/.m2
	@$(PY) -m spark_jobs.jars

setup: preflight $(STAMP) sysdeps jars ## Create the venv, install packages and jars

up: setup ## Start the moto server on 127.0.0.1 and provision it (idempotent)
	@$(PY) -m newslake.local up

down: ## Stop the local platform
	@test -x $(PY) && $(PY) -m newslake.local down || true

status:
	@$(PY) -m newslake.local status

demo: up ## The whole slice on synthetic data, ending with real HTTP responses
	@$(PY) -m newslake.demo

bench-demo: up ## Wall time of the demo on a warm machine (last line: JSON)
	@$(PY) -m newslake.demo | tail -n 1

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
