# Steward: `make demo` serves a demo organisation, `make test` runs the suite, `make lint`
# checks style, types and the import contracts (docs/architecture.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DB ?= $(CURDIR)/demo.db

.PHONY: demo test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Steward needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(VENV)/.installed
	STEWARD_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/steward demo --host $(HOST) --port $(PORT)

# The suite runs in TEST_WORKERS processes (pytest-xdist, one per core by default), each
# test file whole in one of them; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/catalog.py

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo.db-lock demo.db.key test-output .pytest_cache
