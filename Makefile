# GridCore developer commands: `make run` starts the dashboard, `make check` is the quick loop
# while editing, `make test` checks everything.
# Needs only Python 3.11; the virtual environment, packages and database are made on first use.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Installed packages are refreshed only when a requirements file changes.
RUN_STAMP := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev
PORT ?= 8501
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Two test processes (pytest-xdist) on this two-core machine; tests that share a slow fixture
# (the browser's app, the demo street) stay together on one of them (tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS)
# What `make check` leaves to `make test` (markers: see tests/conftest.py).
CHECK_MARKERS := not browser and not demo and not pg

.PHONY: help run check check-pytest test lint typecheck pytest browser-deps cjk-font

help:
	@echo "make run    start GridCore at http://localhost:$(PORT) (demo street on first run)"
	@echo "make check  lint, type-check and the tests that need no browser, demo build or PostgreSQL"
	@echo "make test   lint, type-check and run every test, real-browser tests included"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

# server.py is app.py plus the routes that set the HttpOnly session cookie (README: Sessions).
# browser.serverAddress names the printed URL; without it a headless Streamlit asks an outside
# service for this machine's public address at every start.
run: $(RUN_STAMP) cjk-font
	$(PY) -m gridcore init --demo street
	$(PY) -m streamlit run server.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false --browser.serverAddress localhost

# Debian's Chromium (never a browser download), a Chinese font for the screenshots, and
# nginx for the two-server test (tests/browser/test_multi_server.py; README: More than one server).
browser-deps:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x /usr/sbin/nginx ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get install -y -q chromium fonts-wqy-zenhei nginx \
		|| { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium fonts-wqy-zenhei nginx; }; \
	fi

# A Chinese font for the briefing's PDF (README: Briefing); without one it is made in English.
cjk-font:
	@if ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		export DEBIAN_FRONTEND=noninteractive; \
		$(SUDO) apt-get install -y -q fontconfig fonts-wqy-zenhei \
		|| { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q fontconfig fonts-wqy-zenhei; }; \
	fi

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(DEV_STAMP)
	$(PY) -m mypy

pytest: $(DEV_STAMP) browser-deps
	$(PYTEST)

# The type check runs beside the tests: it needs one core for about 20 s, and the tests leave
# most of the second one idle while browsers and servers wait on each other.
check: lint
	@$(MAKE) --no-print-directory -j2 typecheck check-pytest

check-pytest: $(DEV_STAMP) cjk-font
	$(PYTEST) -m "$(CHECK_MARKERS)"

test: lint
	@$(MAKE) --no-print-directory -j2 typecheck pytest
