"""YAML loading that remembers where every value came from.

PyYAML's safe loader throws positions away and silently keeps the last of two duplicate
keys; both hide typos. Here the document is composed into nodes once and converted by
hand, recording the 1-based line and column of every key and value by path.

Input files are untrusted (a pull request edits the catalog), so reading is bounded: a size
cap, a nesting cap and a budget for what aliases may add (a "billion laughs" file is a few
hundred bytes that expand to gigabytes). Every refusal is an Issue with a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml

from paved.errors import InputError, Issue

Path = tuple[Any, ...]

# Far above any real catalog (1000 services is about 1 MB) and far below what exhausts a CI
# runner: parsing and validating cost about 40x the file size in memory.
MAX_FILE_BYTES = 10 * 1024 * 1024
# A catalog nests about 8 levels deep; the cap keeps every recursive step far from Python's
# recursion limit.
MAX_DEPTH = 64
# Nodes that aliases may add beyond the ones written in the file. Sharing a resources block
# between a few hundred services stays well inside it; exponential expansion does not.
MAX_ALIAS_NODES = 100_000
MERGE_TAG = "tag:yaml.org,2002:merge"


def read_source(path: str | FsPath, display: str | None = None) -> str:
    """The text of an input file, read within the size cap and decoded as UTF-8.

    Raises InputError (one located line) when the file is missing, unreadable, too large or
    not UTF-8. Reads at most ``MAX_FILE_BYTES + 1`` bytes, so a device or pipe is safe too.
    """
    path = FsPath(path)
    display = str(path) if display is None else display
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError([Issue(display, 1, 1, "", "file not found")]) from None
    except OSError as exc:
        raise InputError([Issue(display, 1, 1, "", f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError([Issue(display, 1, 1, "", f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; "
                                "split it or remove generated content")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError([Issue(display, line, col, "",
                                f"not UTF-8 text: {exc.reason} at byte {exc.start}; save the file as UTF-8")]) from None


class _Refused(Exception):
    """A node the loader will not convert: the message, located at the node."""

    def __init__(self, node: yaml.Node, message: str):
        super().__init__(message)
        self.node = node
        self.message = message


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
            # A name with a newline or other control character would break the one-line report.
            out += f"[{name}]" if isinstance(name, str) and name and name.isprintable() else f"[{part}]"
        else:
            text = str(part)
            out += ("." if out else "") + (text if text.isprintable() else repr(text))
    return out


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


_constructor = yaml.SafeLoader(stream="")
# libyaml's parser when PyYAML was built with it (about 8x faster on large catalogs); the
# nodes and their positions are the same.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Converter:
    """Nodes to Python data, within the depth cap and the alias budget.

    The composer hands back an alias as the very node it names, so a node seen before is an
    alias expansion; those count against the budget. A node met again on its own path is an
    alias inside its own anchor.
    """

    def __init__(self, doc: Located):
        self.doc = doc
        self.seen: set[int] = set()
        self.converted = 0
        self.open: set[int] = set()

    def convert(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(node, f"nesting deeper than {MAX_DEPTH} levels")
        key = id(node)
        if key in self.open:
            raise _Refused(node, "an alias refers to the node that contains it (recursive alias)")
        self.converted += 1
        self.seen.add(key)
        if self.converted - len(self.seen) > MAX_ALIAS_NODES:
            raise _Refused(node, f"aliases expand to more than {MAX_ALIAS_NODES} extra values; write the entries out")
        self.doc.positions.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            self.open.add(key)
            try:
                return self._mapping(node, path, depth)
            finally:
                self.open.discard(key)
        if isinstance(node, yaml.SequenceNode):
            self.open.add(key)
            try:
                return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
            finally:
                self.open.discard(key)
        try:
            return _constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            raise
        except (ValueError, OverflowError, TypeError) as exc:  # e.g. an int of 5000 digits, 2024-13-45
            raise _Refused(node, f"cannot read value: {str(exc).split(';')[0]}") from None

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[Any, Any]:
        doc = self.doc
        result: dict[Any, Any] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append(value_node)
                continue
            key = self.convert(key_node, path + ("<key>",), depth + 1)
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
            result[key] = self.convert(value_node, path + (key,), depth + 1)
        for value_node in merges:
            self._merge(result, value_node, path, depth)
        return result

    def _merge(self, result: dict[Any, Any], value_node: yaml.Node, path: Path, depth: int) -> None:
        """YAML merge keys (``<<: *base`` or ``<<: [*a, *b]``): keys written in the mapping
        win, then earlier sources over later ones, as the merge-key specification says."""
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise _Refused(source, "a merge key (<<) takes a mapping or a list of mappings")
            merged = self.convert(source, path + ("<merge>",), depth + 1)
            for stale in [p for p in self.doc.positions if p[:len(path) + 1] == path + ("<merge>",)]:
                where = self.doc.positions.pop(stale)
                rest = stale[len(path) + 1:]
                if rest and rest[0] not in result:
                    self.doc.positions.setdefault(path + rest, where)
            for k, v in merged.items():
                result.setdefault(k, v)


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
    if len(text) > MAX_FILE_BYTES:
        doc.issues.append(Issue(file, 1, 1, "", f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"))
        return doc
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or str(exc)
        doc.issues.append(Issue(file, line, col, "", f"YAML syntax error: {problem}"))
        return doc
    except yaml.reader.ReaderError as exc:  # a control character or other unreadable text
        line, col = _text_position(text, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        doc.issues.append(Issue(file, line, col, "", f"YAML error: unacceptable character #x{char:04x}: {exc.reason}"))
        return doc
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        doc.issues.append(Issue(file, 1, 1, "", f"YAML error: {exc}"))
        return doc
    except RecursionError:  # the composer recurses per level: locate the level that is too deep
        line, col = _too_deep(text)
        doc.issues.append(Issue(file, line, col, "", f"YAML error: nesting deeper than {MAX_DEPTH} levels"))
        return doc
    if node is None:
        return doc
    try:
        doc.data = _Converter(doc).convert(node, ())
    except _Refused as exc:
        line, col = _mark(exc.node)
        doc.issues.append(Issue(file, line, col, "", f"YAML error: {exc.message}"))
        doc.data = None
        return doc
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.issues.append(Issue(file, line, col, "", f"YAML error: {exc.problem}"))
        doc.data = None
        return doc
    for dup_path, line, col in doc.duplicates:
        key = dup_path[-1]
        doc.issues.append(Issue(file, line, col, field_label(doc.data, dup_path), f"duplicate key {key!r}"))
    return doc


def _text_position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _too_deep(text: str) -> tuple[int, int]:
    """Where the nesting first passes MAX_DEPTH, found from parser events (no recursion).

    The pure-Python parser: libyaml stops at 1000 flow levels with an error of its own.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return _mark(event)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return 1, 1
