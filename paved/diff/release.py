"""What a change to a progressively delivered service does when it is applied.

A Deployment rolls its pods when its pod template changes; an Argo ``Rollout`` (catalog
``rollout:``, components/rollout.py) starts a release instead: a canary that moves through its
steps while its analysis watches the SLO, or a blue-green preview that is promoted after its
analysis. The diff says so, so a reviewer reading "image 1.8.2 → 1.9.0" knows the release is
gradual and aborts by itself.
"""

from __future__ import annotations

from typing import Any

from paved.diff.properties import lookup
from paved.resources import ROLLOUT

TEMPLATE = "spec.template."


def _step_text(step: Any) -> str:
    if isinstance(step, dict) and "setWeight" in step:
        return f"{step['setWeight']}% of the pods"
    if isinstance(step, dict) and isinstance(step.get("pause"), dict):
        duration = step["pause"].get("duration")
        return f"pause {duration}" if duration else "pause until promoted by hand"
    return "a step"


def _image_change(change: Any) -> str:
    return f" (image {change.before} → {change.after})" if change.path.endswith(".image") else ""


def release_text(inputs: dict[str, Any]) -> str | None:
    """How a pod-template change of the Rollout with ``inputs`` is released, or None for other objects."""
    canary = lookup(inputs, "spec.strategy.canary")
    templates = [t.get("templateName") for t in (lookup(inputs, "spec.strategy.canary.analysis.templates") or [])
                 if isinstance(t, dict)] if isinstance(canary, dict) else []
    if isinstance(canary, dict):
        steps = ", ".join(_step_text(s) for s in canary.get("steps") or [])
        text = f"starts a canary: {steps}, then all pods" if steps else "starts a canary"
    elif isinstance(lookup(inputs, "spec.strategy.blueGreen"), dict):
        preview = lookup(inputs, "spec.strategy.blueGreen.previewService")
        templates = [t.get("templateName") for t in
                     (lookup(inputs, "spec.strategy.blueGreen.prePromotionAnalysis.templates") or []) if isinstance(t, dict)]
        text = f"starts a blue-green release: a full preview set behind Service {preview}, promoted when ready"
    else:
        return None
    if templates:
        text += (f"; AnalysisTemplate {', '.join(map(str, templates))} checks the SLO in Prometheus meanwhile and "
                 "aborts the release on failure (the stable version keeps serving)")
    return text


def release_hints(changes: list[Any], head: dict[str, Any]) -> list[str]:
    """One hint per updated Rollout whose pod template changes."""
    by_urn = {r["urn"]: r for r in head["resources"]}
    hints = []
    for rc in changes:
        if rc.type != ROLLOUT or rc.op != "update":
            continue
        template = [c for c in rc.changes if c.path.startswith(TEMPLATE)]
        text = release_text(by_urn.get(rc.urn, {}).get("inputs") or {}) if template else None
        if text is None:
            continue
        image = next((_image_change(c) for c in template if c.path.endswith(".image")), "")
        who = f"service {rc.service}" + (f" (team {rc.team})" if rc.team else "")
        hints.append(f"{who}: the pod template of Rollout {rc.name} changes{image}: applying it {text}")
    return hints
