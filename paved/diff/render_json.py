"""The diff report as JSON (``paved diff --format json``), a stable schema for tools.

``version`` 1; keys are never removed within a version::

    {
      "version": 1,
      "stack": "prod",
      "base": {"ref": "origin/main", "commit": "<sha>"},
      "head": {"ref": "working tree", "commit": "<sha or null>", "dirty": true},
      "summary": {
        "create": 0, "update": 0, "replace": 0, "delete": 0, "renamed": 0, "unchanged": 0,
        "dataLossRisks": 0, "warnings": 0, "policyIntroduced": 0, "policyFixed": 0,
        "cost": {"currency": "USD", "before": 1022.09, "after": 1030.0, "delta": 7.91,
                 "podsAtMax": {"before": 0.0, "after": 0.0, "delta": 0.0}}
                 // infrastructure (what AWS bills); podsAtMax: pod requests at maximum replicas,
                 // an allocation of node capacity; null when either side has no estimate
      },
      "groups": [                                       // services, then teams, then platform
        {"kind": "service" | "team" | "platform", "name": "orders-v2" | null, "team": "checkout",
         "status": "created" | "deleted" | "renamed" | "changed",
         "formerName": "orders" | null,
         "counts": {"create": 0, "update": 0, "replace": 0, "delete": 0, "renamed": 0},
         "resources": [<resource>, ...]}
      ],
      "dataLossRisks": [<resource>, ...],               // the same objects as in "groups"
      "warnings": ["<resource urn>: <text>", ...],      // changes the provider will refuse
      "policy": {"introduced": [<violation>], "fixed": [<violation>]},
                                                        // <violation>: `paved check --format json`
      "cost": {"before": <paved cost --format json> | null, "after": ... | null},
      "repeated": [{"path": "...", "kind": "changed", "before": <value>, "after": <value>,
                    "count": 6, "urns": ["..."]}],  // identical changes on several resources,
                                                    // also listed under each resource
      "hints": ["..."], "notes": ["..."]
    }

    <resource> = {
      "op": "create" | "update" | "replace" | "delete", "renamed": false,
      "urn": "<URN after the change; before it for a delete>",
      "oldUrn": "<URN before the change>" | null,  // set when matched through an alias
      "type": "aws:secretsmanager/secret:Secret", "name": "...", "oldName": "..." | null,
      "service": "orders" | null, "team": "checkout" | null,
      // a path's "#" enters a JSON document held in a string input; a list item is named by
      // its merge key where the list has one (policy#Statement[Sid=ReadOwnSecrets].Resource[2])
      "changes": [{"path": "spec.template.spec.containers[name=orders].image", "kind": "changed",
                   "before": <value>, "after": <value>, "forcesReplacement": false}],
                  // kind "added" has no "before", kind "removed" has no "after";
                  // a long value becomes the string "<elided: N chars, sha256 XXXXXXXX>"
      "replaceReasons": ["metadata.name", ...],
      "dataLoss": null | {"stateful": true, "protected": true, "retainOnDelete": true,
                          "message": "..."},
      "warnings": ["..."]
    }
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from paved.diff.properties import MISSING, PropertyChange
from paved.diff.report import OPS, Report, ResourceChange

DIFF_VERSION = 1


def _json_value(value: Any, limit: int = 200) -> Any:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) <= limit:
        return value
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"<elided: {len(text)} chars, sha256 {digest}>"


def _resource_json(r: ResourceChange) -> dict[str, Any]:
    changes = []
    for c in r.changes:
        d: dict[str, Any] = {"path": c.path, "kind": c.kind}
        if c.kind != "added":
            d["before"] = _json_value(c.before)
        if c.kind != "removed":
            d["after"] = _json_value(c.after)
        d["forcesReplacement"] = c.forces_replacement
        changes.append(d)
    return {
        "op": r.op, "renamed": r.renamed, "urn": r.urn, "oldUrn": r.old_urn, "type": r.type, "name": r.name,
        "oldName": r.old_name if r.renamed else None, "service": r.service, "team": r.team, "changes": changes,
        "replaceReasons": list(r.replace_reasons), "dataLoss": r.data_loss, "warnings": list(r.warnings),
    }


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (the schema in this module's docstring)."""
    return {
        "version": DIFF_VERSION,
        "stack": report.stack,
        "base": {"ref": report.base.ref, "commit": report.base.commit},
        "head": {"ref": report.head.ref, "commit": report.head.commit, "dirty": report.head.dirty},
        "summary": {
            **{op: report.count(op) for op in OPS}, "renamed": report.count("renamed"), "unchanged": report.unchanged,
            "dataLossRisks": len(report.data_loss), "warnings": len(report.warnings),
            "policyIntroduced": len(report.policy_introduced), "policyFixed": len(report.policy_fixed),
            "cost": report.cost,
        },
        "groups": [{
            "kind": g.kind, "name": g.name, "team": g.team, "status": g.status, "formerName": g.former_name,
            "counts": {op: g.count(op) for op in (*OPS, "renamed")},
            "resources": [_resource_json(r) for r in g.resources],
        } for g in report.groups],
        "dataLossRisks": [_resource_json(r) for r in report.data_loss],
        "warnings": report.warnings,
        "policy": {"introduced": report.policy_introduced, "fixed": report.policy_fixed},
        "cost": {"before": report.base.cost or None, "after": report.head.cost},
        "repeated": [{
            "path": g.path, "kind": PropertyChange(g.path, g.before, g.after).kind,
            **({} if g.before is MISSING else {"before": _json_value(g.before)}),
            **({} if g.after is MISSING else {"after": _json_value(g.after)}),
            "count": len(g.resources), "urns": [r.urn for r in g.resources],
        } for g in report.repeated],
        "hints": report.hints,
        "notes": report.notes,
    }
