"""SARIF 2.1.0 output of ``paved check``, for GitHub code scanning.

Each result points at the catalog entry of the service that owns the violating resource
(or its team, or the stack file for platform resources), so the annotation lands on the
line a reviewer would change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paved.check import Violation
from paved.yamlsrc import load_located

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "warning"}
SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}


def _catalog_lines(catalog: Path) -> dict[tuple[str, str], int]:
    doc = load_located(catalog.read_text(encoding="utf-8"), str(catalog))
    lines: dict[tuple[str, str], int] = {}
    data = doc.data if isinstance(doc.data, dict) else {}
    for key in ("teams", "services"):
        entries = data.get(key) or []
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                lines[(key, entry["name"])] = doc.position((key, i))[0]
    return lines


def report(violations: list[Violation], rules: tuple, catalog: Path, stack_file: Path, root: Path, version: str) -> dict[str, Any]:
    """The SARIF log: one run, every rule as a reporting descriptor, one result per violation."""
    lines = _catalog_lines(catalog) if catalog.exists() else {}

    def uri(path: Path) -> str:
        path = path.resolve()
        return str(path.relative_to(root.resolve())) if path.is_relative_to(root.resolve()) else path.as_uri()

    def location(v: Violation) -> dict[str, Any]:
        if v.service and ("services", v.service) in lines:
            where, line = uri(catalog), lines[("services", v.service)]
        elif v.team and ("teams", v.team) in lines:
            where, line = uri(catalog), lines[("teams", v.team)]
        else:
            where, line = uri(stack_file), 1
        return {"physicalLocation": {"artifactLocation": {"uri": where}, "region": {"startLine": line}}}

    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for v in violations:
        result: dict[str, Any] = {
            "ruleId": v.rule_id,
            "ruleIndex": index[v.rule_id],
            "level": LEVELS.get(v.enforcement, "note"),
            "message": {"text": f"{v.message} Fix: {v.remediation}"},
            "locations": [location(v)],
            "partialFingerprints": {"pavedViolation/v1": f"{v.rule_id}|{v.urn or 'stack'}|{v.message}"},
        }
        if v.urn:
            result["properties"] = {"urn": v.urn, "enforcement": v.enforcement}
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "paved",
                        "version": version,
                        "informationUri": "https://paved.dev",
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.name},
                                "fullDescription": {"text": rule.description},
                                "help": {"text": rule.remediation},
                                "defaultConfiguration": {"level": LEVELS.get(rule.enforcement, "note")},
                                "properties": {
                                    "tags": list(rule.anchors),
                                    "security-severity": SECURITY_SEVERITY[rule.severity],
                                },
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
