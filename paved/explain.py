"""``paved explain SERVICE``: effective settings per environment, side by side."""

from __future__ import annotations

from typing import Any

from paved.catalog import Catalog, effective_service
from paved.errors import UsageError


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return {prefix: ", ".join(str(v) for v in value) or "-"}
        out = {}
        for i, v in enumerate(value):
            name = v.get("name") if isinstance(v, dict) else None
            out.update(_flatten(v, f"{prefix}[{name if name else i}]"))
        return out
    return {prefix: str(value)}


JSON_VERSION = 1  # of the `paved explain --format json` document (docs/schemas/explain.schema.json)


def _settings(catalog: Catalog, name: str, environments: list[str]):
    """(service, flattened effective settings per env, override keys per env)."""
    try:
        base = catalog.service(name)
    except KeyError:
        names = ", ".join(s.name for s in catalog.services)
        raise UsageError(f"unknown service {name!r}; services are: {names}") from None
    columns = {}
    overridden: dict[str, set[str]] = {}
    for env in environments:
        eff = effective_service(base, env).model_dump(mode="json", by_alias=True, exclude={"overrides"}, exclude_none=True)
        columns[env] = _flatten(eff)
        override = base.overrides.get(env)
        overridden[env] = set(_flatten(override.model_dump(mode="json", by_alias=True, exclude_none=True))) if override else set()
    return base, columns, overridden


def _marked(key: str, overrides: set[str]) -> bool:
    return any(key == o or key.startswith(o + ".") or key.startswith(o + "[") for o in overrides)


def as_json(catalog: Catalog, name: str, environments: list[str]) -> dict[str, Any]:
    """``--format json``: per environment, each setting's effective value and whether the
    environment's override set it."""
    base, columns, overridden = _settings(catalog, name, environments)
    team = catalog.team(base.team)
    return {
        "version": JSON_VERSION, "service": base.name, "team": team.name, "namespace": team.namespace_name,
        "description": base.description,
        "environments": {env: {k: {"value": v, "overridden": _marked(k, overridden[env])} for k, v in columns[env].items()}
                         for env in environments},
    }


def table(catalog: Catalog, name: str, environments: list[str], term_width: int | None = None) -> str:
    """A text table: one row per setting, one column per environment; ``*`` marks overrides.
    With ``term_width`` long cells are cut so that each row fits it."""
    base, columns, overridden = _settings(catalog, name, environments)
    cap = 44 if term_width is None else max(12, min(44, (term_width - 2 * len(environments)) // (len(environments) + 1)))
    keys = list(dict.fromkeys(k for env in environments for k in columns[env]))

    def cell(env: str, key: str) -> str:
        value = columns[env].get(key, "-")
        return f"{value} *" if _marked(key, overridden[env]) else value

    head = ["setting", *environments]
    rows = [[k, *[cell(env, k) for env in environments]] for k in keys]
    widths = [min(cap, max(len(r[i]) for r in [head, *rows])) for i in range(len(head))]

    def line(row: list[str]) -> str:
        # Long values keep their end: an image's tag matters more than its registry.
        return "  ".join((c if len(c) <= w else "…" + c[-(w - 1):]).ljust(w) for c, w in zip(row, widths)).rstrip()

    team = catalog.team(base.team)
    out = [
        f"{base.name} (team {team.name}, namespace {team.namespace_name}): {base.description}",
        "",
        line(head),
        "  ".join("-" * w for w in widths),
        *[line(r) for r in rows],
        "",
        "* set by the environment's override in the catalog",
    ]
    return "\n".join(out) + "\n"
