# OMS: `make run` installs and starts the whole system on the embedded default;
# `make test` installs, runs lint (ruff, format, mypy, import-linter) and every test tier.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Tests use the machine's PostgreSQL when it answers, otherwise an embedded one.
PG_LOCAL := $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql://postgres@127.0.0.1:5432/postgres)
export OMS_TEST_POSTGRES_URL ?= $(PG_LOCAL)
PYTEST := $(PY) -m pytest -p no:cacheprovider

.PHONY: install system-packages browser-packages run test test-unit test-contract test-integration test-e2e bench bench-channels bench-warehouse bench-stock bench-search bench-restart bench-catchup chaos lint schemas screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# Fonts the PDFs print other scripts with (README, "Scripts on the papers"): Debian packages,
# installed when missing and apt-get is there (as root, else with sudo); without them those
# characters print as '?' and the document tests say so.
SYSTEM_PACKAGES := fonts-dejavu-core fonts-noto-core fonts-wqy-zenhei

system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "warning: no apt-get; install DejaVu Sans and Noto Sans Thai (README)"; exit 0; fi; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	echo "installing $$missing"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	|| echo "warning: could not install $$missing"

install: system-packages $(STAMP)

# The console's browser tests drive Debian's Chromium (Playwright's own browser download cannot
# work offline): installed with apt for the tests, not for `make run`.
browser-packages:
	@if command -v chromium >/dev/null; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "no chromium and no apt-get: install Chromium and set OMS_CHROMIUM to its binary"; exit 1; fi; \
	sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	echo "installing chromium"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends chromium >/dev/null

run: install
	$(VENV)/bin/oms up

test: install lint test-unit test-contract test-integration test-e2e

test-unit: install
	$(PYTEST) tests/unit -q

test-contract: install
	$(PYTEST) tests/contract -q

test-integration: install
	$(PYTEST) tests/integration -q

test-e2e: install browser-packages
	$(PYTEST) tests/e2e -q

bench: install
	$(VENV)/bin/oms bench
	$(MAKE) bench-catchup
	$(MAKE) bench-warehouse
	$(MAKE) bench-stock
	$(MAKE) bench-search

# Order search (GET /v1/orders) at 100,000 orders beside a primary-key read
# (BENCH_SEARCH_ARGS="--orders 20000 --runs 50"); not part of `make test`.
BENCH_SEARCH_ARGS ?= --orders 100000
bench-search: install
	$(PY) -m shared.cli.bench_search $(BENCH_SEARCH_ARGS)

# Stock-sync lag (stock change -> channel holds it) and ATP reads under load, beside baselines.
bench-stock: install
	$(PY) -m shared.cli.bench_stock

# Labels per second (PDF and ZPL) and a 500-line pick list, on the fulfillment service alone.
bench-warehouse: install
	$(PY) -m shared.cli.bench_warehouse

# Webhooks accepted per second and intake latency at the channel gateway (signatures on).
bench-channels: install
	$(PY) -m shared.cli.bench_channels

# What a restart of `oms up` costs with the broker's log in memory and on s3, side by side
# (BENCH_RESTART_ARGS="--events 20000 --storages s3"); not part of `make test`.
BENCH_RESTART_ARGS ?= --events 100000
bench-restart: install
	$(PY) -m shared.cli.bench_restart $(BENCH_RESTART_ARGS)

# Events/s a restarted consumer applies: one service paused while orders pile up, killed, restarted.
bench-catchup: install
	$(PY) -m shared.cli.bench_catchup

# Faults under traffic, then every invariant checked (CHAOS_ARGS="--orders 10000 --faults-per-kind 20").
CHAOS_ARGS ?= --orders 1000 --faults-per-kind 5
# The harness again with every service as three processes (`oms up --instances 3`).
CHAOS_SCALE_ARGS ?= --orders 1000 --faults-per-kind 5 --instances 3
# Long fault runs: oms up killing and healing its own PostgreSQL and broker, then the harness.
chaos: install
	$(PYTEST) tests/faults -q
	$(PY) -m shared.cli.chaos $(CHAOS_ARGS)
	$(PY) -m shared.cli.chaos $(CHAOS_SCALE_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy services shared

# The README's pictures of the console, taken by its browser tests against a fresh system.
screenshots: install browser-packages
	OMS_SCREENSHOT_DIR=docs/images $(PYTEST) tests/e2e/test_console_browser.py -q

schemas: install
	$(PY) -m shared.events

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
