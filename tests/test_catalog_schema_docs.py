"""Issue 17, the catalog's JSON Schema: every field described with examples that the schema
itself accepts, readable titles (not "Formernames"), and strictness where the validator is strict."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from conftest import ROOT
from paved.schema import catalog_schema

STACKS = ["dev", "staging", "prod"]
SCHEMA = catalog_schema(STACKS)


def _properties():
    yield "catalog", "teams", SCHEMA["properties"]["teams"]
    yield "catalog", "services", SCHEMA["properties"]["services"]
    for def_name, node in SCHEMA["$defs"].items():
        for prop, sub in node.get("properties", {}).items():
            yield def_name, prop, sub


@pytest.mark.parametrize(("owner", "prop", "sub"), list(_properties()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_property_is_described_with_examples_the_schema_accepts(owner, prop, sub):
    assert sub.get("description", "").strip(), f"{owner}.{prop} has no description"
    assert sub.get("examples"), f"{owner}.{prop} has no examples"
    validator = jsonschema.Draft202012Validator({"$defs": SCHEMA["$defs"], **sub})
    for example in sub["examples"]:
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, (owner, prop, example, errors)


def test_titles_are_words_not_run_together_names():
    titles = [sub["title"] for _, _, sub in _properties()] + [d["title"] for d in SCHEMA["$defs"].values()]
    assert "Former names" in titles and "Latency p99 ms" in titles
    for title in titles:
        assert title[0].isupper() and not re.search(r"[a-z][A-Z]", title), title
        assert title not in ("Formernames", "Costcenter", "Initialdelayseconds"), title


def test_the_committed_schema_is_the_generated_one():
    committed = json.loads((ROOT / "schemas" / "services_catalog.schema.json").read_text())
    assert committed == catalog_schema(STACKS), "run `paved schema > schemas/services_catalog.schema.json`"


@pytest.mark.parametrize(("path", "bad"), [
    (("CpuMemory", "cpu"), "0"), (("CpuMemory", "cpu"), " 100m"), (("CpuMemory", "memory"), "１Gi"),
    (("CpuMemory", "memory"), "1Gi\n"), (("Service", "name"), "1orders"), (("Service", "name"), "zz\n"),
    (("Service", "image"), "shop/orders:latest"), (("Service", "image"), "Shop/Orders:1"),
])
def test_strict_patterns_refuse_what_the_validator_refuses(path, bad):
    sub = SCHEMA["$defs"][path[0]]["properties"][path[1]]
    assert list(jsonschema.Draft202012Validator({"$defs": SCHEMA["$defs"], **sub}).iter_errors(bad)), (path, bad)


def test_overrides_only_for_existing_stacks_and_no_unknown_keys():
    overrides = SCHEMA["$defs"]["Service"]["properties"]["overrides"]
    validator = jsonschema.Draft202012Validator({"$defs": SCHEMA["$defs"], **overrides})
    assert not list(validator.iter_errors({"prod": {"scaling": {"min": 3}}}))
    assert list(validator.iter_errors({"qa": {"scaling": {"min": 3}}}))
    assert list(validator.iter_errors({"prod": {"replicas": 3}}))


def test_api_definition_is_relative_to_the_catalog():
    definition = SCHEMA["$defs"]["Api"]["properties"]["definition"]
    assert "relative to the catalog" in definition["description"]
    validator = jsonschema.Draft202012Validator(definition)
    assert not list(validator.iter_errors("sample_services/orders/openapi.yaml"))
    assert list(validator.iter_errors("/etc/passwd"))
