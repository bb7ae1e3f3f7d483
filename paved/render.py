"""``paved render``: the plan's Kubernetes objects as YAML manifests, one file each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from paved.plan import is_kubernetes_object


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


def write(plan: dict[str, Any], out: Path) -> list[Path]:
    """Write every manifest under ``out``; returns the files written."""
    written = []
    for obj in manifests(plan):
        path = out / file_name(obj)
        path.parent.mkdir(parents=True, exist_ok=True)
        ordered = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
        ordered.update({k: v for k, v in obj.items() if k not in ordered})
        path.write_text(yaml.safe_dump(ordered, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
