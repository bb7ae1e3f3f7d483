"""How Kubernetes compares each list of an object: by merge key, as a set, or by position.

The API server merges a list by the keys its OpenAPI schema names: the strategic-merge
``x-kubernetes-patch-merge-key`` and server-side apply's ``x-kubernetes-list-map-keys``
(``containers``, ``env``, ``ports``, ``volumes``, ``volumeMounts`` by ``name``; a Service's
ports by ``port`` and ``protocol``), ``x-kubernetes-list-type: set`` for lists of unique
scalars, and nothing (or ``atomic``) for lists that really are ordered (``args``,
``command``). A diff that pairs items the same way shows a removed env variable as one
removal, not as every later variable renamed.

The keys come from the schemas kubernetes-validate ships (the very files
:mod:`paved.k8s_schema` validates against), for the stack's Kubernetes version, so a new
kind or a new keyed list needs no entry here. Each kind's schema is read once into a tree
of :class:`Node` (``$ref``s resolved, shared definitions built once, recursive ones such as
``JSONSchemaProps`` closed into cycles) and cached.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from paved import k8s_schema

_DEFS = "$defs/"


@dataclass(eq=False)
class Node:
    """What the schema says about one place in an object: its fields, list items, map values,
    and, for a list, how its items are identified."""

    props: dict[str, Node] = field(default_factory=dict)
    items: Node | None = None
    values: Node | None = None  # a map's values (labels, annotations, data)
    list_type: str | None = None  # map | set | atomic | None
    keys: tuple[str, ...] = ()  # the fields identifying a list item (list_type map)

    def child(self, key: str) -> Node | None:
        """The node of field ``key`` (or of any key, in a map)."""
        return self.props.get(key) or self.values


def _api_version(type_token: str) -> tuple[str, str] | None:
    """``kubernetes:apps/v1:Deployment`` → (``apps/v1``, ``Deployment``); ``core/v1`` → ``v1``."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    api = parts[1].removeprefix("core/")
    return api, parts[2]


class _Builder:
    """Turns one schema file into a :class:`Node` tree; definitions are shared by name."""

    def __init__(self, defs: dict[str, Any], built: dict[str, Node]):
        self.defs, self.built = defs, built

    def node(self, schema: Any) -> Node:
        if not isinstance(schema, dict):
            return Node()
        ref = schema.get("$ref")
        if isinstance(ref, str) and _DEFS in ref:
            name = ref.split(_DEFS, 1)[1]
            if name not in self.built:
                # Registered before it is filled, so a definition that contains itself
                # (JSONSchemaProps) points back at its own node instead of recursing forever.
                self.built[name] = Node()
                self._fill(self.built[name], self.defs.get(name, {}))
            target = self.built[name]
            if not any(k.startswith("x-kubernetes-list") or k == "x-kubernetes-patch-merge-key" for k in schema):
                return target
            own = Node(target.props, target.items, target.values, target.list_type, target.keys)
            _annotate(own, schema)
            return own
        out = Node()
        self._fill(out, schema)
        return out

    def _fill(self, out: Node, schema: dict[str, Any]) -> None:
        for key, sub in (schema.get("properties") or {}).items():
            out.props[key] = self.node(sub)
        if isinstance(schema.get("items"), dict):
            out.items = self.node(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            out.values = self.node(schema["additionalProperties"])
        for alternative in schema.get("oneOf") or schema.get("anyOf") or schema.get("allOf") or ():
            alt = self.node(alternative)
            out.props.update({k: v for k, v in alt.props.items() if k not in out.props})
            out.items, out.values = out.items or alt.items, out.values or alt.values
        _annotate(out, schema)


def _annotate(out: Node, schema: dict[str, Any]) -> None:
    keys = schema.get("x-kubernetes-list-map-keys")
    merge = schema.get("x-kubernetes-patch-merge-key")
    list_type = schema.get("x-kubernetes-list-type")
    # list-map-keys first: they are the whole identity (a Service port is port *and*
    # protocol); the older patch merge key names only the first of them.
    if isinstance(keys, list) and keys:
        out.list_type, out.keys = "map", tuple(keys)
    elif isinstance(merge, str) and merge:
        out.list_type, out.keys = "map", (merge,)
    elif list_type in ("set", "atomic"):
        out.list_type = list_type


@functools.lru_cache(maxsize=None)
def _built(schema_dir: str) -> dict[str, Node]:
    """The definition nodes built so far for one schema directory, shared by its kinds."""
    return {}


@functools.lru_cache(maxsize=None)
def _kind_node(schema_dir: str, kind: str, slug: str) -> Node | None:
    path = k8s_schema._schema_root() / schema_dir / f"{kind.lower()}-{slug}.json"
    if not kind.isalnum() or not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    return _Builder(k8s_schema._definitions(schema_dir), _built(schema_dir)).node(schema)


def schema_tree(type_token: str, k8s_version: str | None) -> Node | None:
    """The list rules of a Kubernetes type for ``k8s_version``; None for other types, kinds
    without a shipped schema (custom resources) or an unsupported version."""
    found = _api_version(type_token)
    if found is None or not k8s_version:
        return None
    api, kind = found
    try:
        _, schema_dir = k8s_schema._resolve_version(str(k8s_version))
    except ValueError:
        return None
    slug = k8s_schema._API_VERSION_RE.sub(r"\1-", api)
    return _kind_node(schema_dir, kind, slug)


def merge_keys(type_token: str, k8s_version: str | None, depth: int = 12) -> dict[str, tuple[str, ...] | str]:
    """{path: merge keys, or ``set`` / ``atomic``} of every list of a kind, paths written like
    ``spec.template.spec.containers[].env`` (``[]`` is any item, ``*`` any map key); for
    reading and for tests, the diff walks :func:`schema_tree` itself."""
    out: dict[str, tuple[str, ...] | str] = {}
    root = schema_tree(type_token, k8s_version)

    def walk(node: Node, path: str, seen: frozenset[int]) -> None:
        if id(node) in seen or path.count(".") > depth:
            return
        seen = seen | {id(node)}
        if node.list_type:
            out[path] = node.keys or node.list_type
        for key, sub in node.props.items():
            walk(sub, f"{path}.{key}" if path else key, seen)
        if node.items:
            walk(node.items, f"{path}[]", seen)
        if node.values:
            walk(node.values, f"{path}.*", seen)

    if root is not None:
        walk(root, "", frozenset())
    return out
