"""Property-by-property diff of two resources' inputs, with the paths a reviewer reads.

A path is rendered the way the JSON report writes it: ``spec.replicas``; a ``#`` enters a
JSON document held in a string input (``policy#Statement[Sid=ReadOwnSecrets].Resource``), so
a changed IAM statement shows as the one field that changed, not as two long strings.

Lists are compared by what identifies their items, the way the system that reads them does:

- Kubernetes lists by the merge keys of the Kubernetes schema (:mod:`paved.diff.list_keys`):
  ``containers[name=orders].env[name=DB_PASSWORD_FILE]``, so a removed variable is one
  removal; ``x-kubernetes-list-type: set`` lists as sets;
- IAM ``Statement`` lists by ``Sid`` (every statement paved writes has one), then by
  content; the scalar lists of a policy document (``Action``, ``Resource``) as sets, which
  is how IAM reads them;
- other lists of objects by aligning equal items (a removed item is one removal, the
  items after it are not shifted), the changed ones in between by position;
- scalar lists of a Kubernetes object without keys (``args``, ``command``) by position:
  their order is their meaning.

Why not deepdiff (with ``iterable_compare_func``): the decision for each list depends on
where it is (the schema node of the kind being walked, whether we are inside an IAM
document held in a string), which this walk carries down as it goes; deepdiff gives its
compare function only the two items and a level, so the schema lookup would be redone per
item pair from deepdiff's ``root['spec'][...]`` paths, which would then be translated back
into the paths the report, ``ignoreChanges`` and the replacement rules use. The walk is
small, needs no new dependency in an offline install, and stays in the report's terms.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from paved.diff.list_keys import Node, schema_tree
from paved.resources import is_kubernetes_object

# A value that is not there (an input added or removed), distinct from an explicit null.
MISSING = object()

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")
JSON_MARK = "#"  # a path enters a JSON document held in a string input: policy#Statement[0].Action


class _InJson:
    """Path part: the string before it holds a JSON document."""


IN_JSON = _InJson()


@dataclass(frozen=True)
class Item:
    """Path part: a list item named by its keys (``[name=DB_PASSWORD_FILE]``); ``index`` is
    its position (after the change, or before for a removed item), for ``ignoreChanges``."""

    keys: tuple[tuple[str, Any], ...]
    index: int

    def __str__(self) -> str:
        return "[" + ",".join(f"{k}={v}" for k, v in self.keys if v is not None) + "]"


def render_path(parts: tuple[Any, ...], positional: bool = False) -> str:
    """``("spec", "containers", 0, "image")`` → ``spec.containers[0].image``; odd keys quoted;
    keyed items as ``[name=x]`` (as their index when ``positional``)."""
    out = ""
    for part in parts:
        if part is IN_JSON:
            out += JSON_MARK
        elif isinstance(part, Item):
            out += f"[{part.index}]" if positional else str(part)
        elif isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out and not out.endswith(JSON_MARK) else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def lookup(value: Any, path: str) -> Any:
    """``value`` at a dotted ``path`` of dict keys, or :data:`MISSING`."""
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _json_document(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return MISSING
        return parsed if isinstance(parsed, (dict, list)) else MISSING
    return MISSING


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


_Out = list[tuple[tuple[Any, ...], Any, Any]]


@dataclass(frozen=True)
class _Where:
    """What the walk knows about the place it is at."""

    schema: Node | None = None  # the Kubernetes schema node, in a Kubernetes object
    kubernetes: bool = False
    in_json: bool = False  # inside a JSON document held in a string (an IAM policy)
    key: Any = None  # the field holding the current value

    def down(self, key: Any, schema: Node | None) -> _Where:
        return _Where(schema, self.kubernetes, self.in_json, key)


def _walk(before: Any, after: Any, parts: tuple[Any, ...], out: _Out, where: _Where) -> None:
    if before == after and type(before) is type(after):
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            sub = where.schema.child(key) if where.schema else None
            _walk(before.get(key, MISSING), after.get(key, MISSING), (*parts, key), out, where.down(key, sub))
        return
    if isinstance(before, list) and isinstance(after, list) and (before or after):
        _walk_list(before, after, parts, out, where)
        return
    old_doc, new_doc = _json_document(before), _json_document(after)
    if old_doc is not MISSING and new_doc is not MISSING:
        _walk(old_doc, new_doc, (*parts, IN_JSON), out, _Where(in_json=True))
        return
    out.append((parts, before, after))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _walk_list(before: list, after: list, parts: tuple[Any, ...], out: _Out, where: _Where) -> None:
    node = where.schema
    inner = where.down(None, node.items if node else None)
    objects = all(isinstance(v, dict) for v in (*before, *after))
    scalars = all(map(_scalar, (*before, *after)))
    if objects and node is not None and node.list_type == "map" and _by_keys(before, after, node.keys, parts, out, inner):
        return
    if objects and where.in_json and where.key == "Statement":
        _statements(before, after, parts, out, inner)
        return
    if scalars and (where.in_json or (node is not None and node.list_type == "set")
                    or (not where.kubernetes and len(before) != len(after))):
        _as_multiset(before, after, parts, out)
        return
    if objects:
        _aligned(list(enumerate(before)), list(enumerate(after)), parts, out, inner)
        return
    for i in range(max(len(before), len(after))):
        _walk(before[i] if i < len(before) else MISSING, after[i] if i < len(after) else MISSING, (*parts, i), out, inner)


def _by_keys(before: list, after: list, keys: tuple[str, ...], parts: tuple[Any, ...], out: _Out, inner: _Where) -> bool:
    """Pair items by their merge keys; False (nothing written) when a side repeats a key,
    which the API server would refuse, so that the caller falls back to aligning."""
    def index(items: list) -> dict[tuple, int] | None:
        found = {tuple(item.get(k) for k in keys): i for i, item in enumerate(items)}
        return found if len(found) == len(items) else None

    old, new = index(before), index(after)
    if old is None or new is None:
        return False
    for key, i in new.items():
        part = Item(tuple(zip(keys, key)), i)
        _walk(before[old[key]] if key in old else MISSING, after[i], (*parts, part), out, inner)
    for key, i in old.items():
        if key not in new:
            out.append(((*parts, Item(tuple(zip(keys, key)), i)), before[i], MISSING))
    return True


def _statements(before: list, after: list, parts: tuple[Any, ...], out: _Out, inner: _Where) -> None:
    """IAM statements: by ``Sid`` where both sides name them uniquely, the rest by content."""
    def sids(items: list) -> dict[str, int]:
        named = Counter(s.get("Sid") for s in items if isinstance(s.get("Sid"), str) and s.get("Sid"))
        return {s["Sid"]: i for i, s in enumerate(items) if named.get(s.get("Sid")) == 1}

    old, new = sids(before), sids(after)
    for sid, i in new.items():
        if sid in old:
            _walk(before[old[sid]], after[i], (*parts, Item((("Sid", sid),), i)), out, inner)
    rest_old = [(i, s) for i, s in enumerate(before) if s.get("Sid") not in new or i != old.get(s.get("Sid"))]
    rest_new = [(i, s) for i, s in enumerate(after) if s.get("Sid") not in old or i != new.get(s.get("Sid"))]
    _aligned(rest_old, rest_new, parts, out, inner, named=True)


def _aligned(before: list[tuple[int, Any]], after: list[tuple[int, Any]], parts: tuple[Any, ...], out: _Out,
             inner: _Where, named: bool = False) -> None:
    """Items matched by equal content (a removed one does not shift the rest); the changed
    ones between two matches are paired by position. ``named`` writes an item's ``Sid``."""
    def part(i: int, item: Any) -> Any:
        sid = item.get("Sid") if named and isinstance(item, dict) else None
        return Item((("Sid", sid),), i) if isinstance(sid, str) and sid else i

    matcher = difflib.SequenceMatcher(None, [_canon(v) for _, v in before], [_canon(v) for _, v in after],
                                      autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            continue
        pairs = min(a1 - a0, b1 - b0)
        for k in range(pairs):
            (_, old), (j, new) = before[a0 + k], after[b0 + k]
            _walk(old, new, (*parts, part(j, new)), out, inner)
        for i, old in before[a0 + pairs:a1]:
            out.append(((*parts, part(i, old)), old, MISSING))
        for j, new in after[b0 + pairs:b1]:
            out.append(((*parts, part(j, new)), MISSING, new))


def _as_multiset(before: list, after: list, parts: tuple[Any, ...], out: _Out) -> None:
    """Items that came or went, named at their index on their own side."""
    gone, came = Counter(map(_canon, before)), Counter(map(_canon, after))
    extra_old, extra_new = gone - came, came - gone
    for i, v in enumerate(before):
        if extra_old[_canon(v)] > 0:
            extra_old[_canon(v)] -= 1
            out.append(((*parts, i), v, MISSING))
    for i, v in enumerate(after):
        if extra_new[_canon(v)] > 0:
            extra_new[_canon(v)] -= 1
            out.append(((*parts, i), MISSING, v))


@dataclass(frozen=True)
class PropertyChange:
    """One input that differs: ``added`` (no before), ``removed`` (no after) or ``changed``."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        return "added" if self.before is MISSING else "removed" if self.after is MISSING else "changed"


def covers(outer: str, inner: str) -> bool:
    """Whether path ``inner`` is ``outer`` or lies under it."""
    return inner == outer or inner.startswith((outer + ".", outer + "[", outer + JSON_MARK))


def property_changes(before: dict, after: dict, ignore: list[str] | tuple[str, ...] = (), type_token: str = "",
                     k8s_version: str | None = None) -> list[PropertyChange]:
    """Every input path whose value differs, minus those under an ``ignoreChanges`` path;
    a Kubernetes object's lists compared by the keys of ``k8s_version``'s schema."""
    raw: _Out = []
    kubernetes = is_kubernetes_object(type_token) if type_token else False
    schema = schema_tree(type_token, k8s_version) if kubernetes else None
    _walk(before, after, (), raw, _Where(schema, kubernetes))
    ignored = [render_path(tuple(_split_ignore(i))) for i in ignore]
    changes = []
    for parts, old, new in raw:
        # ignoreChanges names list items by index, as Pulumi does.
        if any(covers(i, render_path(parts, positional=True)) for i in ignored):
            continue
        changes.append(PropertyChange(render_path(parts), old, new))
    return changes


def _split_ignore(path: str) -> list[Any]:
    parts: list[Any] = []
    for token in re.findall(r'[^.\[\]]+|\[\d+\]|\["[^"]*"\]', path):
        if token.startswith('["'):
            parts.append(json.loads(token[1:-1]))
        elif token.startswith("["):
            parts.append(int(token[1:-1]))
        else:
            parts.append(token)
    return parts
