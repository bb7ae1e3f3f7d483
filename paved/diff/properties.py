"""Property-by-property diff of two resources' inputs, with the paths a reviewer reads.

A path is rendered the way the JSON report writes it: ``spec.containers[0].image``; a
``#`` enters a JSON document held in a string input (``policy#Statement[0].Action``), so a
changed IAM statement shows as the one field that changed, not as two long strings.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

# A value that is not there (an input added or removed), distinct from an explicit null.
MISSING = object()

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")
JSON_MARK = "#"  # a path enters a JSON document held in a string input: policy#Statement[0].Action


class _InJson:
    """Path part: the string before it holds a JSON document."""


IN_JSON = _InJson()


def render_path(parts: tuple[Any, ...]) -> str:
    """``("spec", "containers", 0, "image")`` → ``spec.containers[0].image``; odd keys quoted."""
    out = ""
    for part in parts:
        if part is IN_JSON:
            out += JSON_MARK
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


def _walk(before: Any, after: Any, parts: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any, Any]]) -> None:
    if before == after and type(before) is type(after):
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            _walk(before.get(key, MISSING), after.get(key, MISSING), (*parts, key), out)
        return
    if isinstance(before, list) and isinstance(after, list) and before and after:
        if all(isinstance(v, dict) for v in (*before, *after)) or len(before) == len(after):
            for i in range(max(len(before), len(after))):
                _walk(before[i] if i < len(before) else MISSING, after[i] if i < len(after) else MISSING, (*parts, i), out)
            return
        if all(isinstance(v, (str, int, float, bool)) for v in (*before, *after)):
            # Items came or went: name them, at their index on their own side.
            gone, came = Counter(map(json.dumps, before)), Counter(map(json.dumps, after))
            for i, v in enumerate(before):
                if gone[json.dumps(v)] > came[json.dumps(v)]:
                    gone[json.dumps(v)] -= 1
                    out.append(((*parts, i), v, MISSING))
            gone, came = Counter(map(json.dumps, before)), Counter(map(json.dumps, after))
            for i, v in enumerate(after):
                if came[json.dumps(v)] > gone[json.dumps(v)]:
                    came[json.dumps(v)] -= 1
                    out.append(((*parts, i), MISSING, v))
            return
    old_doc, new_doc = _json_document(before), _json_document(after)
    if old_doc is not MISSING and new_doc is not MISSING:
        _walk(old_doc, new_doc, (*parts, IN_JSON), out)
        return
    out.append((parts, before, after))


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


def property_changes(before: dict, after: dict, ignore: list[str] | tuple[str, ...] = ()) -> list[PropertyChange]:
    """Every input path whose value differs, minus those under an ``ignoreChanges`` path."""
    raw: list[tuple[tuple[Any, ...], Any, Any]] = []
    _walk(before, after, (), raw)
    changes = []
    for parts, old, new in raw:
        path = render_path(parts)
        if any(covers(render_path(tuple(_split_ignore(i))), path) for i in ignore):
            continue
        changes.append(PropertyChange(path, old, new))
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
