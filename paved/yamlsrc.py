"""YAML loading that remembers where every value came from.

PyYAML's safe loader throws positions away and silently keeps the last of two duplicate
keys; both hide typos. Here the document is composed into nodes once and converted by
hand, recording the 1-based line and column of every key and value by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from paved.errors import Issue

Path = tuple[Any, ...]


@dataclass
class Located:
    """A parsed YAML document plus the position of each path in it."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def position(self, path: Path) -> tuple[int, int]:
        """Position of ``path``, or of its nearest ancestor that exists in the file."""
        path = tuple(path)
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def issue(self, path: Path, field_name: str, message: str) -> Issue:
        """An Issue located at ``path`` in this file."""
        line, col = self.position(path)
        return Issue(self.file, line, col, field_name, message)


def field_label(data: Any, path: Path) -> str:
    """``('services', 2, 'scaling', 'min')`` → ``services[orders].scaling.min``."""
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            entry = data
            for p in path[:i + 1]:
                entry = entry[p] if isinstance(entry, (dict, list)) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            out += f"[{name}]" if isinstance(name, str) and name else f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_constructor = yaml.SafeLoader(stream="")
# libyaml's parser when PyYAML was built with it (about 8x faster on large catalogs); the
# nodes and their positions are the same.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _convert(node: yaml.Node, path: Path, doc: Located) -> Any:
    doc.positions.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _convert(key_node, path + ("<key>",), doc)
            doc.positions.pop(path + ("<key>",), None)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                doc.issues.append(doc.issue(path, "", "mapping keys must be plain scalars"))
                continue
            if key in result:
                line, col = _mark(key_node)
                doc.duplicates.append((path + (key,), line, col))
                # The later value wins: forget the earlier one's positions so errors in it
                # point at the lines that are actually used.
                for stale in [p for p in doc.positions if p[:len(path) + 1] == path + (key,)]:
                    del doc.positions[stale]
            # The key's own position is where a reader looks for an unknown or bad key.
            doc.positions[path + (key,)] = _mark(key_node)
            doc.positions[path + (key, "<value>")] = _mark(value_node)
            result[key] = _convert(value_node, path + (key,), doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), doc) for i, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        # The pure-Python parser words syntax errors better ("expected ',' or ']', but got
        # ':'"); it only runs on a broken file.
        return yaml.compose(text, Loader=yaml.SafeLoader)


def load_located(text: str, file: str) -> Located:
    """Parse ``text``; syntax errors become Issues on the returned document (data None)."""
    doc = Located(file=file, data=None)
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        doc.issues.append(Issue(file, line, col, "", f"YAML syntax error: {problem}"))
        return doc
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        doc.issues.append(Issue(file, 1, 1, "", f"YAML error: {exc}"))
        return doc
    if node is None:
        return doc
    try:
        doc.data = _convert(node, (), doc)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.issues.append(Issue(file, line, col, "", f"YAML error: {exc.problem}"))
        doc.data = None
        return doc
    except RecursionError:  # an alias inside its own anchor (`&a [*a]`), or absurd nesting
        doc.issues.append(Issue(file, 1, 1, "", "YAML error: recursive alias or nesting too deep"))
        doc.data = None
        return doc
    for dup_path, line, col in doc.duplicates:
        key = dup_path[-1]
        doc.issues.append(Issue(file, line, col, field_label(doc.data, dup_path), f"duplicate key {key!r}"))
    return doc
