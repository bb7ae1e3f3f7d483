# Two entry points, both from a fresh clone with only Python 3.11 and make:
#   make plan   creates .venv, installs paved, and plans the dev stack offline
#   make test   creates .venv, installs paved with its test tools, and runs every test
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: plan test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

plan: $(STAMP)
	$(VENV)/bin/paved plan --stack dev

test: $(STAMP)
	$(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
