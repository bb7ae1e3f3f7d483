"""Fast, strict validation of Kubernetes objects against the schemas kubernetes-validate ships.

``kubernetes_validate.validate(obj, version, strict=True)`` rebuilds a jsonschema validator
(and re-reads a 1+ MB ``_definitions.json``) on every call, which costs tens of milliseconds per
object. This module uses the very same schema files but compiles one fastjsonschema validator per
(schema directory, kind, apiVersion) once and caches it, so repeated validation is cheap.

Agreement with ``kubernetes_validate.validate(..., strict=True)``:

* Same schema file selection: the newest shipped version not newer than the requested minor
  version, ``<kind>-<group>-<version>.json`` in ``v<version>-local-strict``.
* The shipped schemas only use ``type``, ``properties``, ``additionalProperties``, ``required``,
  ``items``, ``enum`` (strings only), ``oneOf`` and ``$ref`` (whose siblings are annotations
  only), which fastjsonschema's draft 2019 generator implements like jsonschema's Draft 2020-12.
* ``format`` is not asserted, because kubernetes-validate creates its validator without a
  format checker (so e.g. ``int32`` ranges and ``date-time`` strings are not checked there either).
* Integral floats (``replicas: 3.0``, which is what Pulumi's runtime produces for every number)
  are integers for both: fastjsonschema follows the draft 6+ rule, so no normalisation is needed.
* Known divergence, irrelevant for data parsed from JSON/YAML: fastjsonschema also accepts tuples
  where an array is expected, jsonschema accepts only lists.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema

__all__ = ["validate_object", "supported_versions"]

_STRICT_DIR_RE = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")
# Same rewrite as kubernetes_validate.utils.validate: drop the group's domain, "/" -> "-".
_API_VERSION_RE = re.compile(r"^([^./]*)(?:\.[^/]*)?/")
# Kinds and api versions become file names: anything else cannot name a shipped schema.
_SAFE_KIND_RE = re.compile(r"^[A-Za-z0-9]+$")
_SAFE_SLUG_RE = re.compile(r"^[A-Za-z0-9-]+$")
_DEFS_REF_PREFIX = "/api/_definitions.json#/$defs/"
_LOCAL_DEFS_PREFIX = "#/$defs/"

_Validator = Callable[[Any], Any]


@functools.cache
def _schema_root() -> Path:
    """kubernetes-validate's schema directory, located without importing the package
    (importing it pulls in jsonschema, ~80 ms we do not need)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("kubernetes-validate is not installed; it ships the Kubernetes schemas")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


@functools.cache
def _shipped() -> dict[tuple[int, int], str]:
    """Map (major, minor) -> strict schema directory name, for every shipped version."""
    shipped = {}
    for entry in _schema_root().iterdir():
        match = _STRICT_DIR_RE.fullmatch(entry.name)
        if match:
            shipped[(int(match.group(1)), int(match.group(2)))] = entry.name
    return dict(sorted(shipped.items()))


def supported_versions() -> list[str]:
    """Return the Kubernetes minor versions with shipped strict schemas, oldest first.

    Example: ``["1.25", "1.26", ..., "1.37"]``.
    """
    return [f"{major}.{minor}" for major, minor in _shipped()]


@functools.lru_cache(maxsize=64)
def _resolve_version(k8s_version: str) -> tuple[str, str]:
    """Return (requested "major.minor", strict schema directory to use) for a version string."""
    match = _VERSION_RE.fullmatch(k8s_version.strip())
    if not match:
        raise ValueError(f"not a Kubernetes version: {k8s_version!r} (expected e.g. '1.31')")
    wanted = (int(match.group(1)), int(match.group(2)))
    # Compared as integer tuples: kubernetes-validate compares strings, which only works while
    # minors have two digits.
    candidates = [key for key in _shipped() if key <= wanted]
    shipped = supported_versions()
    if wanted > max(_shipped()) or not candidates:
        raise ValueError(
            f"Kubernetes {wanted[0]}.{wanted[1]} is not supported by the installed "
            f"kubernetes-validate schemas (supported: {shipped[0]} to {shipped[-1]})"
        )
    return f"{wanted[0]}.{wanted[1]}", _shipped()[candidates[-1]]


@functools.lru_cache(maxsize=None)
def _definitions(schema_dir: str) -> dict[str, Any]:
    """The ``$defs`` of a schema directory's ``_definitions.json`` (parsed once, shared)."""
    text = (_schema_root() / schema_dir / "_definitions.json").read_text(encoding="utf-8")
    return json.loads(text)["$defs"]


def _localise_refs(node: Any, found: set[str]) -> None:
    """Rewrite refs into _definitions.json to local ``#/$defs/...`` refs, in place.

    Collects the referenced definition names in ``found``. Any other non-local ref is refused:
    fastjsonschema would otherwise try to fetch it over the network.
    """
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(_DEFS_REF_PREFIX):
                ref = node["$ref"] = _LOCAL_DEFS_PREFIX + ref[len(_DEFS_REF_PREFIX):]
            if not ref.startswith(_LOCAL_DEFS_PREFIX):
                raise ValueError(f"unexpected $ref {ref!r} in kubernetes-validate schema")
            found.add(ref[len(_LOCAL_DEFS_PREFIX):])
        for value in node.values():
            _localise_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _localise_refs(value, found)


def _reachable_definitions(defs: dict[str, Any], roots: set[str]) -> dict[str, Any]:
    """The subset of ``defs`` reachable from ``roots``, so the compiler walks ~100 defs, not ~700."""
    reachable: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in reachable:
            continue
        reachable[name] = defs[name]
        found: set[str] = set()
        # Refs inside _definitions.json are already local, so this only collects names.
        _localise_refs(defs[name], found)
        pending.extend(found - reachable.keys())
    return reachable


@functools.lru_cache(maxsize=None)
def _validator(schema_dir: str, kind: str, api_version_slug: str) -> _Validator | None:
    """Compile (once) the validator for one kind, or None if no such schema is shipped."""
    if not (_SAFE_KIND_RE.fullmatch(kind) and _SAFE_SLUG_RE.fullmatch(api_version_slug)):
        return None
    schema_file = _schema_root() / schema_dir / f"{kind.lower()}-{api_version_slug}.json"
    if not schema_file.is_file():
        return None
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    roots: set[str] = set()
    _localise_refs(schema, roots)
    # Without $id every ref resolves inside this one document; without the 2020-12 $schema
    # fastjsonschema picks its newest generator (draft 2019), which covers the keywords used.
    schema.pop("$id", None)
    schema.pop("$schema", None)
    schema["$defs"] = _reachable_definitions(_definitions(schema_dir), roots)
    return fastjsonschema.compile(
        schema,
        handlers={},
        use_default=False,  # never mutate the caller's object
        use_formats=False,  # kubernetes-validate asserts no formats either
    )


def _path_of(exc: fastjsonschema.JsonSchemaValueException) -> str:
    """Turn fastjsonschema's ``data.spec.containers[0]`` into ``spec.containers[0]``."""
    name = exc.name or "data"
    return name[len("data"):].lstrip(".") if name.startswith("data") else name


def _messages(exc: fastjsonschema.JsonSchemaValueException) -> list[str]:
    path = _path_of(exc)
    if exc.rule == "additionalProperties" and isinstance(exc.value, dict):
        allowed = (exc.definition or {}).get("properties", {})
        extra = sorted((str(key) for key in exc.value if key not in allowed), key=str)
        if extra:
            prefix = f"{path}." if path else ""
            return [f"{prefix}{key}: additional property not allowed" for key in extra]
    detail = exc.message
    # fastjsonschema messages start with the variable name ("data.spec.replicas must be ...").
    if exc.name and detail.startswith(exc.name):
        detail = detail[len(exc.name):].lstrip()
    if exc.rule == "type":
        detail += f" (got {type(exc.value).__name__} {exc.value!r})"
    return [f"{path or '(root)'}: {detail}"]


def validate_object(obj: dict, k8s_version: str) -> list[str]:
    """Validate one Kubernetes object strictly against the schema for ``k8s_version``.

    Uses the same schema files and strictness as
    ``kubernetes_validate.validate(obj, k8s_version, strict=True)`` (unknown fields are errors),
    but with a cached, compiled validator.

    Args:
        obj: The object as a JSON-like dict (``apiVersion``, ``kind``, ``metadata``, ...).
        k8s_version: Kubernetes version such as ``"1.31"``, ``"1.31.4"`` or ``"v1.31"``; the
            newest shipped schema version not newer than its minor version is used.

    Returns:
        ``[]`` if the object is valid, else human-readable messages such as
        ``"spec.template.spec.containers[0].bogus: additional property not allowed"``.
        Validation stops at the first violation, so at most one problem is reported (several
        messages when one object has several unknown fields). An apiVersion/kind without a
        schema in that version yields ``"no schema for kind Foo (apiVersion x/v1) in
        Kubernetes 1.31"``.

    Raises:
        ValueError: if ``k8s_version`` is malformed or outside the shipped range.
    """
    wanted, schema_dir = _resolve_version(k8s_version)
    if not isinstance(obj, dict):
        return [f"(root): must be an object, got {type(obj).__name__}"]
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    missing = [field for field, value in (("apiVersion", api_version), ("kind", kind))
               if not isinstance(value, str) or not value]
    if missing:
        return [f"{field}: required string field missing" for field in missing]
    validator = _validator(schema_dir, kind, _API_VERSION_RE.sub(r"\1-", api_version))
    if validator is None:
        return [f"no schema for kind {kind} (apiVersion {api_version}) in Kubernetes {wanted}"]
    try:
        validator(obj)
    except fastjsonschema.JsonSchemaValueException as exc:
        return _messages(exc)
    return []
