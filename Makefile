# Every target creates .venv on first use, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The demo runs with DEBUG on so it needs no SECRET_KEY; production sets its own environment.
DEMO_ENV := DEBUG=1

.PHONY: run test test-sqlite test-postgres test-sdk-old lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	$(DEMO_ENV) $(PY) manage.py migrate --no-input
	$(DEMO_ENV) $(PY) manage.py load_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/"
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(VENV)/.installed lint
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	@if [ "$$REQUIRE_SERVICES" = "1" ]; then $(MAKE) test-sdk-old; else echo "Skipped test-sdk-old (the SDK tests with wandb $(SDK_OLD_VERSION)); run 'make test-sdk-old', as CI does with REQUIRE_SERVICES=1."; fi

# pytest runs one process per CPU core (pytest-xdist) and keeps each test file in one
# process, so a file's Celery worker or browser starts once. PYTEST_ARGS adds options, for
# example PYTEST_ARGS="-n 0 -x tests/registry" for one process that stops at a failure.
PYTEST_PARALLEL ?= -n auto --dist loadfile
PYTEST_ARGS ?=

test-sqlite: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# Runs the suite again on a throwaway PostgreSQL database when a server is reachable.
test-postgres: $(VENV)/.installed
	$(PY) tests/run_postgres.py $(PYTEST_PARALLEL) $(PYTEST_ARGS)

# The fetch, download and legacy-path tests of tests/sdk again, with an older wandb release
# (0.22.3, the last 0.22) installed in a virtualenv of its own, as migrated teams may run it.
SDK_OLD_VERSION := 0.22.3
SDK_OLD_VENV := .venv-sdk-old

$(SDK_OLD_VENV)/.installed-$(SDK_OLD_VERSION):
	rm -rf $(SDK_OLD_VENV)
	$(PYTHON) -m venv $(SDK_OLD_VENV)
	$(SDK_OLD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SDK_OLD_VENV)/bin/python -m pip install --quiet "wandb==$(SDK_OLD_VERSION)"
	touch $@

test-sdk-old: $(VENV)/.installed $(SDK_OLD_VENV)/.installed-$(SDK_OLD_VERSION)
	SDK_PYTHON=$(SDK_OLD_VENV)/bin/python $(PY) -m pytest -m sdk_old tests/sdk

# Each benchmark builds and drops its own throwaway database; bench/README.md has the figures.
bench: $(VENV)/.installed
	$(PY) bench/pages.py
	$(PY) bench/api.py
	$(PY) bench/migration.py

clean:
	rm -rf $(VENV) $(SDK_OLD_VENV) db.sqlite3 staticfiles
