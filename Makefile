# Two commands on a fresh machine: `make run` (site with demo content) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run setup install test lint format bench clean api-snapshot

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

run: setup
	@echo ""
	@echo "Serving the site at http://$(HOST):$(PORT)/ (admin at http://$(HOST):$(PORT)/admin/). Stop with Ctrl-C."
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

# The partner API's schema as served, committed as docs/openapi-v1.json (tests/api/test_api_versioning.py
# fails until it matches). Name anything it removes in docs/api-changelog.md first: the tests check that too.
api-snapshot: install
	$(PY) manage.py spectacular --api-version v1 --format openapi-json --validate --fail-on-warn --file docs/openapi-v1.json

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .hypothesis
