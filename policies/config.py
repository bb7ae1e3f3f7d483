"""The environment's policy config, ``policies/config/<env>.json``: loading, checking, and
the enforcement level and thresholds it gives each rule.

``paved check`` and ``policies.catalog_doc`` read configs through here; under ``pulumi
preview`` the Pulumi CLI reads the same file (``--policy-pack-config``) itself.
"""

from __future__ import annotations

import difflib
import functools
import json
from pathlib import Path
from typing import Any

import fastjsonschema

from paved.errors import InputError, Issue
from paved.stack import stack_name
from policies.framework import ENFORCEMENTS


def config_path(root: Path, env: str) -> Path:
    """``policies/config/<env>.json``."""
    return root / "policies" / "config" / f"{stack_name(env)}.json"


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@functools.cache
def _validator(schema_json: str) -> Any:
    return fastjsonschema.compile(json.loads(schema_json))


def setting_problem(schema: dict[str, Any], value: Any) -> str | None:
    """Why ``value`` does not satisfy a rule setting's JSON Schema, or None."""
    check = {k: v for k, v in schema.items() if k not in ("default", "description")}
    try:
        _validator(json.dumps(check, sort_keys=True))(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        return f"{exc.message.replace('data', 'the value', 1)} (got {json.dumps(value)[:80]})"
    return None


def load_config(root: Path, env: str, rules: tuple) -> dict[str, Any]:
    """The environment's policy config, checked against the rules it names and each setting
    against the rule's own JSON Schema for it."""
    path = config_path(root, env)
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.exists():
        raise InputError([Issue(display, 1, 1, "", "policy config file not found")])
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError([Issue(display, line, 1, "", f"not UTF-8 text (byte {data[exc.start]:#04x} at offset "
                                f"{exc.start})")]) from None
    try:
        config = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise InputError([Issue(display, exc.lineno, exc.colno, "", f"invalid JSON: {exc.msg}")]) from None
    except (ValueError, RecursionError) as exc:
        raise InputError([Issue(display, 1, 1, "", f"invalid JSON: {exc}")]) from None
    if not isinstance(config, dict):
        raise InputError([Issue(display, 1, 1, "", f"must be a JSON object of policy names (got {type(config).__name__})")])
    known = {r.policy_name: r for r in rules}
    issues = []
    lines = text.splitlines()

    def line_of(key: str, after: int = 0) -> int:
        needle = json.dumps(key)
        for i, line in enumerate(lines[after:], after + 1):
            if needle in line:
                return i
        return after or 1

    for key, value in config.items():
        at = line_of(key)
        if key == "all":
            if value not in ENFORCEMENTS:
                issues.append(Issue(display, at, 1, key, f"must be one of {', '.join(ENFORCEMENTS)}"))
            continue
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            issues.append(Issue(display, at, 1, key, f"no such policy{hint}"))
            continue
        if not isinstance(value, (str, dict)):
            issues.append(Issue(display, at, 1, key, f"must be an enforcement level ({', '.join(ENFORCEMENTS)}) or an "
                                f"object of settings (got {json.dumps(value)[:80]})"))
            continue
        level = value if isinstance(value, str) else value.get("enforcementLevel")
        if level is not None and level not in ENFORCEMENTS:
            issues.append(Issue(display, at, 1, key, f"enforcementLevel must be one of {', '.join(ENFORCEMENTS)}"))
        if isinstance(value, dict):
            for prop, setting in value.items():
                if prop == "enforcementLevel":
                    continue
                schema = known[key].config.get(prop)
                if schema is None:
                    issues.append(Issue(display, line_of(prop, at - 1), 1, f"{key}.{prop}",
                                        f"unknown setting; the rule takes: {', '.join(known[key].config) or 'none'}"))
                    continue
                problem = setting_problem(schema, setting)
                if problem:
                    issues.append(Issue(display, line_of(prop, at - 1), 1, f"{key}.{prop}", problem))
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
