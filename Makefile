# Two commands set up and check everything on a fresh machine with Python 3.11+:
#   make synth   synthesize the reference app into cdk.out/ (no AWS credentials needed)
#   make test    run the whole test suite
# Each installs what it needs: uv (from PyPI if missing), the locked venv with Node.js,
# and the pinned CDK CLI from package-lock.json.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
CDK_ARGS ?=
PYTEST_ARGS ?=

VENV := $(CURDIR)/.venv
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)

export PATH := $(VENV)/bin:$(PATH)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
# Importing aws_cdk without byte-code costs ~2 s per process.
export UV_COMPILE_BYTECODE := 1
export CDK_DISABLE_CLI_TELEMETRY := true
# No instance metadata service here: skip the CLI's credential probe instead of waiting on it.
export AWS_EC2_METADATA_DISABLED := true

CDK := $(CURDIR)/node_modules/.bin/cdk --no-notices

.PHONY: help install synth test lint snapshots diff deploy wheel clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMP) $(NODE_STAMP) ## create .venv and install the locked Python and CLI dependencies

synth: install ## synthesize the whole reference app into cdk.out/ with no AWS credentials
	@rm -rf cdk.out
	@started=$$(date +%s.%N); \
	$(CDK) synth --quiet $(CDK_ARGS); \
	python tools/synth_summary.py cdk.out --started "$$started"

test: $(STAMP) ## run the whole test suite (snapshots, assertions, cdk-nag, cfn-lint, handlers)
	@# One worker per core (-n auto): the suite is synth-bound, and a 2-core machine halves it.
	python -m pytest -n auto --cov=lambda --cov-report=term-missing:skip-covered \
		--cov-fail-under=90 $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (format + lint) and mypy --strict
	ruff format --check .
	ruff check .
	mypy
	@# Each handler folder is its own import root in Lambda (index.py imports its siblings).
	for dir in lambda/*/; do MYPYPATH=$$dir mypy --strict $$dir; done

snapshots: $(STAMP) ## update the template snapshots after an intended change
	python -m pytest --snapshot-update $$(grep -rlw SnapshotAssertion tests --include='test_*.py')

diff: install ## cdk diff against the deployed stacks (needs AWS credentials); CDK_ARGS='-c config=...'
	$(CDK) diff $(CDK_ARGS)

deploy: install ## cdk deploy (needs AWS credentials); CDK_ARGS='-c config=... --all'
	$(CDK) deploy $(CDK_ARGS)

wheel: $(STAMP) ## build the library wheel into dist/
	$(UV) build --wheel --out-dir dist

clean: ## remove build output (keeps .venv and node_modules)
	rm -rf cdk.out dist .pytest_cache .mypy_cache .ruff_cache
