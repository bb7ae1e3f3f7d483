"""The rule table in ``docs/policies.md``, generated from the registry (a test keeps it current)."""

from __future__ import annotations

import json
from pathlib import Path

from policies.config import settings_for
from policies.registry import RULES

ENVIRONMENTS = ("dev", "staging", "prod")


def markdown(config_dir: Path) -> str:
    """Every rule with its severity, enforcement per environment, anchors and remediation."""
    configs = {env: json.loads((config_dir / f"{env}.json").read_text()) for env in ENVIRONMENTS}
    lines = [
        "# Policy rules",
        "",
        "The rules of the `policies/` pack, run by `pulumi preview --policy-pack policies` and by",
        "`paved check` (same rule objects). Enforcement and thresholds per environment come from",
        "`policies/config/<env>.json`. Generated from `policies/registry.py`; do not edit by hand.",
        "",
        "| id | name | severity | dev | staging | prod | anchors |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        levels = [settings_for(rule, configs[env])[0] for env in ENVIRONMENTS]
        anchors = ", ".join(rule.anchors)
        lines.append(f"| {rule.id} | `{rule.name}` | {rule.severity} | {' | '.join(levels)} | {anchors} |")
    lines += ["", "## What each rule checks and how to fix it", ""]
    for rule in RULES:
        lines += [f"### {rule.id} `{rule.name}`", "", rule.description, "", f"Fix: {rule.remediation}", ""]
        if rule.config:
            lines.append("Settings: " + ", ".join(
                f"`{k}` (default `{json.dumps(v.get('default'))}`)" for k, v in rule.config.items()) + ".")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - `python -m policies.catalog_doc > docs/policies.md`
    print(markdown(Path(__file__).resolve().parent / "config"), end="")
