"""The committed JSON Schema is current and accepts the sample catalog."""

from __future__ import annotations

import json

import jsonschema
import yaml

from conftest import ROOT
from paved.schema import catalog_schema

COMMITTED = ROOT / "schemas" / "services_catalog.schema.json"


def test_committed_schema_is_current():
    assert json.loads(COMMITTED.read_text()) == catalog_schema(), (
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
