"""The environment's policy config, ``policies/config/<env>.json``: loading, checking, and
the enforcement level and thresholds it gives each rule.

``paved check`` and ``policies.catalog_doc`` read configs through here; under ``pulumi
preview`` the Pulumi CLI reads the same file (``--policy-pack-config``) itself.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from paved.errors import InputError, Issue
from paved.stack import stack_name
from policies.framework import ENFORCEMENTS


def config_path(root: Path, env: str) -> Path:
    """``policies/config/<env>.json``."""
    return root / "policies" / "config" / f"{stack_name(env)}.json"


def load_config(root: Path, env: str, rules: tuple) -> dict[str, Any]:
    """The environment's policy config, checked against the rules it names."""
    path = config_path(root, env)
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.exists():
        raise InputError([Issue(display, 1, 1, "", "policy config file not found")])
    text = path.read_text(encoding="utf-8")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Issue(display, exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]) from None
    known = {r.policy_name: r for r in rules}
    issues = []

    def line_of(key: str) -> int:
        needle = f'"{key}"'
        for i, line in enumerate(text.splitlines(), 1):
            if needle in line:
                return i
        return 1

    for key, value in config.items():
        if key == "all":
            if value not in ENFORCEMENTS:
                issues.append(Issue(display, line_of(key), 1, key, f"must be one of {', '.join(ENFORCEMENTS)}"))
            continue
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.append(Issue(display, line_of(key), 1, key, f"no such policy{hint}"))
            continue
        level = value if isinstance(value, str) else (value.get("enforcementLevel") if isinstance(value, dict) else None)
        if level is not None and level not in ENFORCEMENTS:
            issues.append(Issue(display, line_of(key), 1, key, f"enforcementLevel must be one of {', '.join(ENFORCEMENTS)}"))
        if isinstance(value, dict):
            for prop in value:
                if prop != "enforcementLevel" and prop not in known[key].config:
                    issues.append(Issue(display, line_of(key), 1, f"{key}.{prop}", f"unknown setting; the rule takes: {', '.join(known[key].config) or 'none'}"))
    if issues:
        raise InputError(issues)
    return config


def settings_for(rule, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(enforcement level, thresholds) of a rule under an environment's config."""
    entry = config.get(rule.policy_name)
    level = config.get("all", rule.enforcement)
    props: dict[str, Any] = {}
    if isinstance(entry, str):
        level = entry
    elif isinstance(entry, dict):
        level = entry.get("enforcementLevel", level)
        props = {k: v for k, v in entry.items() if k != "enforcementLevel"}
    return level, {**rule.defaults(), **props}
