# fleetreg: `make run` serves the API on 127.0.0.1:8000, `make test` runs the whole suite.
# Both create .venv and install the package (with its test and lint tools) when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Rebuilt when pyproject.toml changes, so a pulled dependency change is installed by the next run.
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench client clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fleetreg needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# On a database with no data yet (a fresh clone), load the demo data and print its OAuth client first.
run: $(STAMP)
	$(BIN)/fleetreg demo --if-empty
	$(BIN)/fleetreg serve

# In parallel: one pytest-xdist worker per core (PYTEST_WORKERS=0 for one process), each with its own
# embedded PostgreSQL. --dist load, not loadscope/loadgroup: those key tests by node id, and
# Schemathesis gives all the operations of one test function the same node id under pytest 9, so
# they would run one operation per function. PYTHONDONTWRITEBYTECODE is cleared for the run: the
# suite starts a few hundred Python processes (the CLI, servers and their workers), which would
# otherwise each compile fleetreg (and pytest its plugins) again.
PYTEST_WORKERS ?= auto
# Each checkout's test files (embedded PostgreSQL servers among them) under a directory of its own:
# under pytest's default /tmp/pytest-of-<user>, a second test run of the same user (another clone)
# would prune the oldest runs' directories, servers included, while they are in use.
PYTEST_BASETEMP ?= $(CURDIR)/.pytest-tmp

test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist load --basetemp=$(PYTEST_BASETEMP) $(PYTEST_ARGS)

# The last step: redocly lint of /openapi.json (npm @redocly/cli, installed under .cache/ when missing).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m tests.support.redocly

# clients/python from /openapi.json with openapi-python-client (its own venv under .cache/); commit it.
client: $(STAMP)
	$(BIN)/python clients/generate.py

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
