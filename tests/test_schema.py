"""The committed JSON Schema is current and accepts the sample catalog."""

from __future__ import annotations

import json

import copy

import jsonschema
import pytest
import yaml

from conftest import ROOT
from paved.schema import catalog_schema
from paved.stack import list_stacks

COMMITTED = ROOT / "schemas" / "services_catalog.schema.json"


def test_committed_schema_is_current():
    assert json.loads(COMMITTED.read_text()) == catalog_schema(list_stacks(ROOT)), (
        "schemas/services_catalog.schema.json is stale: run `paved schema > schemas/services_catalog.schema.json`"
    )


def test_sample_catalog_matches_schema():
    catalog = yaml.safe_load((ROOT / "services_catalog.yaml").read_text())
    jsonschema.Draft202012Validator(catalog_schema()).validate(catalog)


def test_schema_rejects_unknown_key():
    catalog = yaml.safe_load((ROOT / "services_catalog.yaml").read_text())
    catalog["services"][0]["scalling"] = {}
    errors = list(jsonschema.Draft202012Validator(catalog_schema()).iter_errors(catalog))
    assert any("scalling" in e.message for e in errors)


def test_catalog_points_editors_at_the_schema():
    first = (ROOT / "services_catalog.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schemas/services_catalog.schema.json"


# --- the schema is as strict as `paved validate` where JSON Schema can say it (issue 17) -------


def _sample() -> dict:
    return yaml.safe_load((ROOT / "services_catalog.yaml").read_text())


def _set(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


SCHEMA = catalog_schema(list_stacks(ROOT))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", 0, "name"), "orders\n"),
        (("services", 0, "name"), "9orders"),
        (("services", 0, "name"), "o" * 64),
        (("teams", 0, "name"), "checkout\n"),
        (("teams", 0, "costCenter"), "cc 1001"),
        (("services", 0, "image"), "registry.example.com/shop/orders:1.8.2\n"),
        (("services", 0, "image"), "registry.example.com/shop/orders"),
        (("services", 0, "image"), "registry.example.com/shop/orders:latest"),
        (("services", 0, "resources", "requests", "cpu"), "0"),
        (("services", 0, "resources", "requests", "cpu"), " 100m"),
        (("services", 0, "resources", "requests", "cpu"), "250m\n"),
        (("services", 0, "resources", "requests", "memory"), "１Gi"),
        (("services", 0, "resources", "requests", "memory"), 0),
        (("services", 0, "env"), {"PORT": "9999"}),
        (("services", 0, "env"), {"OTEL_SERVICE_NAME": "x"}),
        (("services", 0, "kafka", "consumes"), [".."]),
        (("services", 0, "public", "host"), "a..example.com"),
        (("services", 0, "public", "path"), "/orders\n"),
        (("services", 0, "api", "definition"), "/etc/passwd"),
        (("services", 0, "overrides"), {"qa": {}}),
        (("services", 0, "overrides", "dev", "scaling"), {"mni": 1}),
        (("services", 0, "overrides", "dev", "resources"), {"requests": {"cpuu": "1"}}),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_schema_refuses_what_validate_refuses(path, value):
    doc = _set(_sample(), path, value)
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc)), f"schema accepts {path} = {value!r}"


@pytest.mark.parametrize(
    ("path", "value"),
    [(("services", 0, "resources", "requests", "cpu"), ".5"), (("services", 0, "resources", "requests", "cpu"), 0.25),
     (("services", 0, "resources", "requests", "memory"), "1e8"), (("services", 0, "resources", "requests", "cpu"), "0.1")],
)
def test_schema_accepts_kubernetes_quantity_forms(path, value):
    jsonschema.Draft202012Validator(SCHEMA).validate(_set(_sample(), path, value))
