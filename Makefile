# Every target creates .venv on first use, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The demo runs with DEBUG on so it needs no SECRET_KEY; production sets its own environment.
DEMO_ENV := DEBUG=1

.PHONY: run test test-sqlite test-postgres lint bench clean

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

test-sqlite: $(VENV)/.installed
	$(PY) -m pytest

# Runs the suite again on a throwaway PostgreSQL database when a server is reachable.
test-postgres: $(VENV)/.installed
	$(PY) tests/run_postgres.py

bench: $(VENV)/.installed
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
