# The two set-up commands: `make demo` and `make test`.  Each creates/updates .venv and installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Chromium for the browser tests comes from Debian (Playwright cannot download browsers here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup python-deps node-deps chromium pretrained test test-fast lint demo serve bench bench-quick reliability clean

setup: python-deps node-deps chromium pretrained

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[full,serve,dev]'
	touch $@

node-deps: web_demo/node_modules/.installed
web_demo/node_modules/.installed: web_demo/package.json $(wildcard web_demo/package-lock.json)
	# onnxruntime-node's install script fetches nothing extra (CUDA binaries) with this; an environment variable,
	# not a web_demo/.npmrc entry, which npm warns is an unknown config
	cd web_demo && export ONNXRUNTIME_NODE_INSTALL=skip && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund)
	touch $@

chromium:
	@[ -x $(CHROMIUM) ] || { echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

pretrained: python-deps
	$(PY) -m textgen_export fetch-pretrained

test: setup
	cd web_demo && npm test --silent
	# one worker per core, at most 4 (each loads TensorFlow); a file's tests stay on one worker, sharing its fixtures
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile --junitxml=test-artifacts/junit.xml  # its counts: make reliability JUNIT=test-artifacts/junit.xml

test-fast: python-deps
	$(PY) -m pytest -q -m "not slow and not browser and not node"

lint: python-deps
	$(VENV)/bin/ruff check textgen_export tests benchmarks examples
	$(VENV)/bin/ruff format --check textgen_export tests benchmarks examples

demo: setup
	$(PY) -m textgen_export demo --out demo_out

serve: setup
	$(PY) -m textgen_export serve demo_out/bundle

# The benchmark lab (benchmarks/, not in the wheel).  Users time their own bundle with `textgen-export bench BUNDLE`.
bench: setup
	$(PY) -m benchmarks --scenario all

bench-quick: setup
	$(PY) -m benchmarks --quick

# Test counts of the hostile-input, fuzzing and fault-injection suites → benchmarks/results/reliability.md.
# JUNIT=path counts an existing report (e.g. of a full `pytest --junitxml=...` run) instead of running them.
reliability: python-deps
	@if [ -z "$(JUNIT)" ]; then mkdir -p test-artifacts && \
	  $(PY) -m pytest -q --junitxml=test-artifacts/reliability.xml $$($(PY) -m benchmarks.reliability --list) || true; fi
	$(PY) -m benchmarks.reliability $(or $(JUNIT),test-artifacts/reliability.xml)

clean:
	rm -rf $(VENV) web_demo/node_modules demo_out test-artifacts
