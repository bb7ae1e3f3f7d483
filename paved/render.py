"""``paved render``: the plan's Kubernetes objects as YAML manifests, one file each.

The output folder is paved's own: it must be empty (or new) the first time, and a manifest
(``.paved-render.json``, the files written) lets the next run remove what it no longer produces
without touching anything it did not write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from paved.errors import UsageError
from paved.plan import is_kubernetes_object

MANIFEST = ".paved-render.json"
# The order kubectl, Helm and the Kubernetes docs write: identity first.
TOP_KEYS = ("apiVersion", "kind", "metadata")
METADATA_KEYS = ("name", "namespace", "labels", "annotations")


def manifests(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The Kubernetes API objects of a plan document, in plan order."""
    return [
        r["inputs"]
        for r in plan["resources"]
        if is_kubernetes_object(r["type"], r["custom"])
    ]


def file_name(obj: dict[str, Any]) -> str:
    """``<namespace>/<kind>-<name>.yaml``; cluster-scoped objects go under ``_cluster``."""
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace') or '_cluster'}/{obj['kind'].lower()}-{meta.get('name', 'unnamed')}.yaml"


def _first(mapping: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: mapping[k] for k in keys if k in mapping}
    out.update({k: v for k, v in mapping.items() if k not in out})
    return out


def ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with apiVersion, kind, metadata first, and name first in metadata."""
    out = _first(obj, TOP_KEYS)
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = _first(out["metadata"], METADATA_KEYS)
    return out


def previous_files(out: Path) -> list[str]:
    """The files the last render wrote into ``out`` (relative), or UsageError when ``out`` holds
    files paved render did not write. A missing or empty folder has none."""
    if not out.exists() or not any(out.iterdir()):
        return []
    manifest = out / MANIFEST
    if not manifest.is_file():
        raise UsageError(f"--output {out}: the folder is not empty and paved render did not write it (no {MANIFEST}); "
                         "give an empty or new folder")
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise UsageError(f"--output {out}: {MANIFEST} is not a render manifest; remove the folder's contents "
                         "or give another folder") from None
    return files


def write(plan: dict[str, Any], out: Path) -> list[Path]:
    """Write every manifest under ``out``, remove the files the previous render wrote that this one
    does not, and record what was written; returns the files written."""
    previous = previous_files(out)
    root = out.resolve()
    written: list[Path] = []
    for obj in manifests(plan):
        path = out / file_name(obj)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(ordered(obj), sort_keys=False), encoding="utf-8")
        written.append(path)
    now = {p.relative_to(out).as_posix() for p in written}
    for rel in previous:
        stale = out / rel
        # Only a file this command wrote, inside the folder (a hand-edited manifest naming
        # ../something is ignored).
        if rel not in now and stale.resolve().is_relative_to(root) and stale.is_file() and not stale.is_symlink():
            stale.unlink()
            parent = stale.parent
            while parent != out and parent.resolve().is_relative_to(root) and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
    (out / MANIFEST).write_text(json.dumps({"version": 1, "files": sorted(now)}, indent=2) + "\n", encoding="utf-8")
    return written
