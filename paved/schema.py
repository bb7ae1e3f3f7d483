"""The catalog's JSON Schema, generated from the model (``paved schema``)."""

from __future__ import annotations

from typing import Any

from paved.model import CatalogDoc

SCHEMA_ID = "https://paved.dev/schemas/services_catalog.schema.json"


def catalog_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of ``services_catalog.yaml`` for editors and CI."""
    schema = CatalogDoc.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "paved services catalog",
        **{k: v for k, v in schema.items() if k != "title"},
    }
