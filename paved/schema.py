"""The catalog's JSON Schema, generated from the model (``paved schema``)."""

from __future__ import annotations

from typing import Any

from paved.model import CatalogDoc

SCHEMA_ID = "https://paved.dev/schemas/services_catalog.schema.json"
# JSON Schema patterns are ECMA-262, where `$` is the end of the text; many validators
# (Python's jsonschema among them) use their host's regex, where `$` also matches before a
# final newline. `(?!\n)` after it means the same in both.
END_OF_TEXT = "$(?!\\n)"


def _end(pattern: str) -> str:
    return pattern[:-1] + END_OF_TEXT if pattern.endswith("$") else pattern


def _strict(node: Any) -> Any:
    """Full-string patterns everywhere, and mappings keyed by a pattern (``env``) take no
    other keys, as the model's key validator refuses them."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "pattern" and isinstance(v, str):
            out[k] = _end(v)
        elif k == "patternProperties" and isinstance(v, dict):
            out[k] = {_end(p): _strict(sub) for p, sub in v.items()}
            out.setdefault("additionalProperties", False)
        else:
            out[k] = _strict(v)
    return out


def catalog_schema(stacks: list[str] | None = None) -> dict[str, Any]:
    """JSON Schema (2020-12) of ``services_catalog.yaml`` for editors and CI.

    With ``stacks`` (the project's stack names), ``overrides`` may only name those, as
    `paved validate` requires.
    """
    schema = CatalogDoc.model_json_schema(by_alias=True, mode="validation")
    if stacks is not None:
        schema["$defs"]["Service"]["properties"]["overrides"]["propertyNames"] = {"enum": list(stacks)}
    schema = _strict(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "paved services catalog",
        **{k: v for k, v in schema.items() if k != "title"},
    }
