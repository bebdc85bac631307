# Keel: every workflow is a target here. The first two are all a fresh machine needs.
SHELL := /bin/bash
VENV  ?= .venv
PY    := $(VENV)/bin/python
PORT  ?= 3000
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: dev test lint layering typecheck template-lint unit integration e2e bench build openapi fuzz fuzz-ci bootstrap clean

$(VENV)/.installed: requirements/dev.txt layers/keel/requirements.txt layers/providers/requirements.txt
	@test -x $(PY) || $$(infra/bin/find-python) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	@touch $@

## make dev: the whole backend on this machine (moto, HTTP API on 127.0.0.1:$(PORT), workers, schedules), seeded
dev: $(VENV)/.installed
	$(PY) -m infra.local --port $(PORT)

## make test: linters, template lint, spec drift, and the whole suite
test: $(VENV)/.installed lint typecheck template-lint
	$(PY) -m pytest -n 2 -q

lint: $(VENV)/.installed layering
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## make layering: import-linter contracts of pyproject.toml (core -> store -> areas -> http -> functions)
layering: $(VENV)/.installed
	PYTHONPATH=layers/keel $(VENV)/bin/lint-imports --no-cache

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

template-lint: $(VENV)/.installed
	PATH=$(VENV)/bin:$$PATH sam validate --lint --region us-east-1 --template template.yaml
	$(VENV)/bin/cfn-lint template.yaml

unit integration e2e: $(VENV)/.installed
	$(PY) -m pytest -q tests/$@

## make bench: cold imports, DynamoDB calls per request, warm latency
bench: $(VENV)/.installed
	$(PY) -m infra.bench

## make fuzz: schemathesis over the local stack, every operation, as super admin and tenant admin
fuzz: $(VENV)/.installed
	$(PY) -m infra.fuzz $(if $(EXAMPLES),--max-examples $(EXAMPLES)) $(if $(SEED),--seed $(SEED))

## make fuzz-ci: the bounded pass CI runs (a few minutes)
fuzz-ci: $(VENV)/.installed
	$(PY) -m infra.fuzz --max-examples 5 --coverage-as none

## make build: sam build without a container (needs the runtime's Python, which the venv has)
build: $(VENV)/.installed
	PATH=$(abspath $(VENV))/bin:$$PATH sam build --template template.yaml

## make openapi: regenerate the committed spec from the routes
openapi: $(VENV)/.installed
	$(PY) -m infra.openapi --write

## make bootstrap EMAIL=... : create the first super admin in a deployed stack (TABLE_NAME in env)
bootstrap: $(VENV)/.installed
	$(PY) -m infra.bootstrap --email "$(EMAIL)"

clean:
	rm -rf $(VENV) .aws-sam .keel .pytest_cache .mypy_cache .ruff_cache
