"""Strict validation of custom resources against the CRDs the plan installs.

kubernetes-validate ships no schema for a custom kind; the plan's charts render the
CustomResourceDefinitions the cluster will serve, so a custom resource is checked against its
version's ``openAPIV3Schema``, read the way the API server reads a structural schema:

* ``nullable: true`` admits null; ``x-kubernetes-int-or-string`` admits an integer or a string;
* an object with ``properties`` and no ``x-kubernetes-preserve-unknown-fields`` admits no other
  field (the API server rejects unknown fields under strict field validation, which is what
  ``kubectl`` and server-side apply use), like kubernetes-validate's strict schemas;
* ``apiVersion``, ``kind`` and ``metadata`` are always allowed at the root (and
  ``x-kubernetes-embedded-resource`` objects);
* formats and CEL rules (``x-kubernetes-validations``) are not checked, as for built-in kinds.
"""

from __future__ import annotations

from typing import Any

_ENVELOPE = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
_SCHEMA_KEYS = ("properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "not")


def structural(node: Any, root: bool = False) -> Any:
    """A CRD's openAPIV3Schema as JSON Schema with the API server's rules."""
    if not isinstance(node, dict):
        return node
    out = {k: v for k, v in node.items() if not k.startswith("x-kubernetes-") and k not in _SCHEMA_KEYS
           and k not in ("nullable", "type", "default", "description", "example", "externalDocs")}
    if "type" in node:
        out["type"] = [node["type"], "null"] if node.get("nullable") else node["type"]
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}] + ([{"type": "null"}] if node.get("nullable") else [])
    props = {k: structural(v) for k, v in (node.get("properties") or {}).items()}
    if root or node.get("x-kubernetes-embedded-resource"):
        props = {**_ENVELOPE, **props}
    if props or "properties" in node:
        out["properties"] = props
    if "additionalProperties" in node:
        extra = node["additionalProperties"]
        out["additionalProperties"] = structural(extra) if isinstance(extra, dict) else extra
    elif props and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = structural(node["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            # Value validations only: in a structural schema these may not add fields or types.
            out.setdefault("allOf", []).append({key: [_value_only(structural(n)) for n in node[key]]})
    if "not" in node:
        out["not"] = _value_only(structural(node["not"]))
    return out


def _value_only(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _value_only(v) for k, v in node.items() if k != "additionalProperties"}
    return node


class CrdIndex:
    """The plan's CRDs by (group, version, kind), each validator built on first use."""

    def __init__(self, objects: list[dict[str, Any]]):
        self.schemas: dict[tuple[str, str, str], Any] = {}
        self._validators: dict[tuple[str, str, str], Any] = {}
        for obj in objects:
            if obj.get("kind") != "CustomResourceDefinition" or not str(obj.get("apiVersion", "")).startswith("apiextensions.k8s.io/"):
                continue
            spec = obj.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            for v in spec.get("versions") or []:
                if v.get("served", True):
                    schema = ((v.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object",
                                                                                    "x-kubernetes-preserve-unknown-fields": True}
                    self.schemas[(spec.get("group"), v.get("name"), kind)] = schema

    def knows(self, obj: dict[str, Any]) -> bool:
        """Whether the plan installs a CRD serving this object's group, version and kind."""
        return self._key(obj) in self.schemas

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        return group, version, str(obj.get("kind", ""))

    def validate(self, obj: dict[str, Any]) -> list[str]:
        """Problems of ``obj`` against its CRD's schema, as ``path: message``; [] when valid."""
        import jsonschema

        key = self._key(obj)
        if key not in self._validators:
            self._validators[key] = jsonschema.Draft7Validator(structural(self.schemas[key], root=True))
        problems = []
        for err in sorted(self._validators[key].iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
            path = ".".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(f"{path}: {err.message}")
        return problems[:5]
