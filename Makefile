# agentgym-nb: the two commands of the README, and the pieces they are made of.
# `make quickstart` installs and runs the main job on the embedded CPU default;
# `make test` installs and runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= default
STAMP := $(VENV)/.installed

.PHONY: install quickstart test export-check readme nbtest pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@# SciWorld's simulator runs on Java: install a runtime where there is none (as root), else say what to install.
	@command -v java >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
	  else echo "SciWorld needs a Java runtime (17 or newer): install one, e.g. 'sudo apt-get install default-jre-headless', then run make again"; exit 1; fi; }
	@# WebArena's env and the JupyterLab browser test drive Debian's chromium with playwright (no browser download is possible here).
	@command -v chromium >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "WebArena needs a Chromium browser: install one, e.g. 'sudo apt-get install chromium', then run make again"; exit 1; fi; }
	@# ALFWorld's engine compiles jericho and fast-downward at install (about 2.5 min): it needs gcc, g++, make, cmake.
	@for t in gcc g++ make cmake; do command -v $$t >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq build-essential cmake >/dev/null; break; \
	  else echo "ALFWorld's install compiles C/C++: install gcc, g++, make and cmake (e.g. 'sudo apt-get install build-essential cmake'), then run make again"; exit 1; fi; }; done
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# the venv's bin/ first on PATH: fast-downward's build runs `python build.py`
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	touch $(STAMP)

quickstart: install
	$(BIN)/agentgym-nb quickstart --preset $(PRESET)

# nbs/ is the source: exporting must leave agentgym_nb/ exactly as committed.
export-check: install
	$(BIN)/nbdev-export
	@if [ -n "$$(git status --porcelain -- agentgym_nb)" ]; then \
	  git status --porcelain -- agentgym_nb; \
	  echo "nbdev-export changed agentgym_nb/: the package and nbs/ disagree (nbs/ is the source)"; exit 1; fi
	$(BIN)/python .ci/render_readme.py --check

readme: install
	$(BIN)/python .ci/render_readme.py

# The course's tutorials share what they build (tutorial 3 trains the model tutorials 4 and 5 use): one at a time.
nbtest: install
	$(BIN)/nbdev-test --n-workers 2 --skip-folder-re '^tutorials$$'
	cd nbs/tutorials && rm -rf course-runs && ../../$(BIN)/nbdev-test --n-workers 1 .

# pytest's exit 5 means no test was selected: not a failure of the suite. Two workers (pytest-xdist): most tests keep
# one core busy, so on CI's 2 cores one worker left the other core idle; tests that share a Ray cluster or a
# JupyterLab are grouped onto one worker (xdist_group).
PYTEST_WORKERS ?= 2
pytest: install
	$(BIN)/python -m pytest tests/ -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup --durations=25; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests selected"; exit 0; fi; exit $$rc

test: export-check nbtest pytest

bench: install
	$(BIN)/agentgym-nb bench envs --env maze --sessions 1,64 --seconds 5 --json

clean:
	rm -rf $(VENV) _proc _docs
