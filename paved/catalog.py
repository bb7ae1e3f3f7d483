"""Load, validate and resolve ``services_catalog.yaml``.

Validation reports every problem at once, each naming the file, line, column and field
(``services[orders].scaling.min``). Each team and service is validated on its own, so one
broken entry does not hide the problems of the next; rules across entries (unknown teams,
calls, topics) run on whatever could be read.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import typing
from decimal import Decimal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from paved.catalog_rules import (  # noqa: F401  (credential_kind: part of the catalog's API)
    SECRET_WORDS, credential_kind, egress_rules, repeated as _repeated)
from paved.errors import InputError, Issue
from paved.model import MAX_LIMIT_REQUEST_RATIO, CatalogDoc, Service, Team, relative_path_problem
from paved.naming import ALERT_RECEIVER_KINDS, SECRET_FILE_SUFFIX, TABLE_REGION_ENV, topic_env_name
from paved.quantity import cpu_cores, memory_bytes
from paved.resources import SERVICE_MAX_SURGE, RolloutNeed, memory_text, shown, surge_pods
from paved.yamlsrc import Located, Path, field_label, load_located, read_source

# Fields of a service that name a file of the repository.
FILE_FIELDS: tuple[Path, ...] = (("api", "definition"),)

_TEAM = TypeAdapter(Team)
_SERVICE = TypeAdapter(Service)


@dataclass(frozen=True)
class Catalog:
    """A validated catalog. ``for_environment`` gives the effective one for a stack."""

    file: str
    teams: tuple[Team, ...]
    services: tuple[Service, ...]
    environment: str | None = None

    def team(self, name: str) -> Team:
        """The team called ``name``."""
        return next(t for t in self.teams if t.name == name)

    def service(self, name: str) -> Service:
        """The service called ``name``; KeyError if there is none."""
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    def services_of(self, team: str) -> tuple[Service, ...]:
        """The services a team owns, in catalog order."""
        return tuple(s for s in self.services if s.team == team)

    def producers(self) -> dict[str, str]:
        """Topic name → the service that produces it."""
        return {t.name: s.name for s in self.services for t in s.kafka.produces}

    def callers_of(self, name: str) -> tuple[Service, ...]:
        """Services that declare a synchronous call to ``name`` (in catalog order)."""
        return self._callers.get(name, ())

    # Kept on the catalog (it is immutable; functools.cached_property writes past the frozen
    # dataclass): a process planning many team stacks of a large catalog works them out once.
    @functools.cached_property
    def _callers(self) -> dict[str, tuple[Service, ...]]:
        callers: dict[str, list[Service]] = {}
        for s in self.services:
            for callee in dict.fromkeys(s.calls):
                callers.setdefault(callee, []).append(s)
        return {k: tuple(v) for k, v in callers.items()}

    @functools.cached_property
    def _resolved(self) -> dict[str, Catalog]:
        return {}

    def for_environment(self, env: str) -> Catalog:
        """The catalog with ``env``'s overrides applied and every override block dropped (once per
        environment: see ``_resolved``)."""
        if env not in self._resolved:
            self._resolved[env] = Catalog(
                file=self.file,
                teams=self.teams,
                services=tuple(effective_service(s, env) for s in self.services),
                environment=env,
            )
        return self._resolved[env]


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = _merge(base.get(k), v) if k in base else v
        return out
    return override


def _effective_raw(raw: dict, env: str) -> dict:
    override = (raw.get("overrides") or {}).get(env) or {}
    base = {k: v for k, v in raw.items() if k != "overrides"}
    return _merge(base, override) if isinstance(override, dict) else base


def effective_service(service: Service, env: str) -> Service:
    """``service`` as it runs in ``env``: the override merged key by key onto the base."""
    raw = service.model_dump(by_alias=True, exclude_none=True)
    return Service.model_validate(_effective_raw(raw, env), strict=False)


# --- error translation -------------------------------------------------------------------


def _unwrap_models(annotation: Any) -> list[type[BaseModel]]:
    """Every model class reachable through Optional / tuple / dict / Annotated wrappers."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _unwrap_models(arg)
    return found


def _allowed_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed at ``loc`` (a path of aliases and indices) inside ``root``."""
    models = [root]
    for part in loc:
        if not isinstance(part, str):
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            for name, info in model.model_fields.items():
                if part in (info.alias, name):
                    nxt += _unwrap_models(info.annotation)
        if not nxt:  # a dict key such as an environment or variable name
            continue
        models = nxt
    return sorted({info.alias or n for m in models for n, info in m.model_fields.items()})


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _clean_loc(loc: tuple) -> tuple:
    # pydantic adds markers such as '[key]' or validator names for unions; they are not paths.
    return tuple(p for p in loc if not (isinstance(p, str) and (p.startswith("[") or p.startswith("function-"))))


def _message(err: dict, root: type[BaseModel], loc: tuple) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        return f"unknown field {loc[-1]!r}{_did_you_mean(str(loc[-1]), allowed)}"
    if kind == "missing":
        return "required field is missing"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    # YAML lists are tuples inside the model: say what the file has to hold.
    msg = msg.replace("a valid tuple", "a list").replace("Tuple should", "The list should")
    if kind.endswith("_type") or kind in ("int_from_float",):
        msg += f" (got {type(err.get('input')).__name__} {err.get('input')!r})"
    return msg


def _field_label(doc: Located, path: Path) -> str:
    """``('services', 2, 'scaling', 'min')`` → ``services[orders].scaling.min``."""
    return field_label(doc.data, path)


class _Collector:
    def __init__(self, doc: Located):
        self.doc = doc
        self.issues: set[Issue] = set()

    def add(self, path: Path, message: str, field_path: Path | None = None) -> None:
        self.issues.add(self.doc.issue(path, _field_label(self.doc, field_path or path), message))

    def pydantic(self, exc: ValidationError, prefix: Path, root: type[BaseModel]) -> list[tuple]:
        locs = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            self.add(prefix + loc, _message(err, root, loc))
            locs.append(loc)
        return locs


# --- rules over one service ----------------------------------------------------------------


def service_rules(svc: Service, settings: Any = None) -> list[tuple[Path, str]]:
    """Rules that relate several fields of one (effective) service: (path, message) pairs.

    ``settings`` (a StackSettings, or None for the base entry) adds the stack's replica
    floor and cap.
    """
    found: list[tuple[Path, str]] = []
    if svc.scaling.min > svc.scaling.max:
        found.append((("scaling", "min"), f"min ({svc.scaling.min}) is greater than max ({svc.scaling.max})"))
    if settings is not None and svc.scaling.max > settings.max_replicas:
        found.append((("scaling", "max"), f"max ({svc.scaling.max}) is above this stack's cap paved:maxReplicas ({settings.max_replicas})"))
    if settings is not None and svc.scaling.min < settings.min_replicas:
        found.append((("scaling", "min"), f"min ({svc.scaling.min}) is below this stack's floor paved:minReplicas ({settings.min_replicas})"))
    if svc.scaling.lag is not None and svc.scaling.lag.topic not in svc.kafka.consumes:
        found.append((("scaling", "lag", "topic"), f"topic {svc.scaling.lag.topic!r} is not one the service consumes; "
                      "scale on the lag of a topic listed in kafka.consumes"))
    req, lim = svc.resources.requests, svc.resources.limits
    for res, parse in (("cpu", cpu_cores), ("memory", memory_bytes)):
        r, l_ = parse(getattr(req, res)), parse(getattr(lim, res))
        if l_ < r:
            found.append((("resources", "limits", res), f"limit {getattr(lim, res)} is below the request {getattr(req, res)}"))
        elif r > 0 and l_ / r > MAX_LIMIT_REQUEST_RATIO[res]:
            found.append((
                ("resources", "limits", res),
                f"limit {getattr(lim, res)} is more than {MAX_LIMIT_REQUEST_RATIO[res]}x the request "
                f"{getattr(req, res)}; the namespace LimitRange would reject the pod",
            ))
    secret_files = {f"{s.env_name}{SECRET_FILE_SUFFIX}": s.name for s in svc.secrets}
    for var in svc.env:
        if var in secret_files:
            found.append((("env", var), f"{var} is set by paved: it tells the service where secret "
                          f"{secret_files[var]!r} is mounted"))
        elif SECRET_WORDS & set(var.upper().split("_")):
            found.append((("env", var), f"{var} looks like a credential; declare it under `secrets` so its value lives in Secrets Manager, not in the catalog"))
    if settings is not None and svc.public is not None and settings.ingress is None:
        found.append((("public",), "the service is public, but the stack sets no paved:ingress (certificateArn)"))
    if settings is not None and settings.secrets.rotation_lambda_arn is None:
        for i, secret in enumerate(svc.secrets):
            if secret.rotation == "managed":
                found.append((("secrets", i), f"secret {secret.name!r} is rotated by the stack, but paved:secrets.rotationLambdaArn "
                              "is not set; set it in the stack, or mark the secret `rotation: third-party`"))
    for var, value in svc.env.items():
        kind = credential_kind(value)
        if kind:
            found.append((("env", var), f"the value of {var} looks like {kind}; declare it under `secrets` so its "
                          "value lives in Secrets Manager, not in the catalog"))
    secret_vars = {s.env_name for s in svc.secrets}
    for var in svc.env:
        if var in secret_vars:
            found.append((("env", var), f"{var} is also the variable of a declared secret"))
    found += _repeated(("secrets",), [s.name for s in svc.secrets], "secret")
    found += _repeated(("kafka", "consumes"), list(svc.kafka.consumes), "topic")
    found += _repeated(("calls",), list(svc.calls), "service")
    found += egress_rules(svc, settings)
    found += _rollout_rules(svc)
    found += _auth_rules(svc)
    found += data_rules(svc, settings)
    found += _repeated(("formerNames",), list(svc.former_names), "name")
    found += _repeated(("formerTeams",), list(svc.former_teams), "team")
    for j, old in enumerate(svc.former_teams):
        if old == svc.team:
            found.append((("formerTeams", j), f"{old!r} is the service's current team; formerTeams lists only teams "
                          "it has left"))
    return found


def data_rules(svc: Service, settings: Any = None) -> list[tuple[Path, str]]:
    """The service's ``data`` against itself and (with ``settings``) the stack's paved:data."""
    data = svc.data
    if data is None:
        return []
    if data.empty:
        return [(("data",), "declares no datastore; give postgres, tables or cache, or drop `data`")]
    found: list[tuple[Path, str]] = []
    if TABLE_REGION_ENV in svc.env:
        # Every datastore's client signs for the region: DynamoDB requests, RDS and ElastiCache IAM tokens.
        found.append((("env", TABLE_REGION_ENV), f"{TABLE_REGION_ENV} is set by paved for a service with datastores "
                      "(the stack's region: its DynamoDB requests and RDS and ElastiCache IAM tokens are signed for "
                      "it, docs/data-contract.md); choose another name"))
    if settings is not None and not settings.data_allowed:
        why = "sets no paved:data" if settings.data is None else "sets paved:data.allowed: false"
        return [(("data",), f"the service declares datastores, but the stack {why}; datastores are not allowed there")]
    pg = data.postgres
    if pg is not None:
        if pg.max_storage_gb is not None and pg.max_storage_gb < pg.storage_gb:
            found.append((("data", "postgres", "maxStorageGb"), f"maxStorageGb ({pg.max_storage_gb}) is below storageGb "
                          f"({pg.storage_gb})"))
        if settings is not None and pg.instance_class not in settings.data.allowed_instance_classes:
            found.append((("data", "postgres", "instanceClass"), f"{pg.instance_class} is not in this stack's "
                          f"paved:data.allowedInstanceClasses ({', '.join(settings.data.allowed_instance_classes)})"))
    found += _repeated(("data", "tables"), [t.name for t in data.tables], "table")
    for i, table in enumerate(data.tables):
        where: Path = ("data", "tables", i)
        found += [(where + loc, msg) for loc, msg in _repeated(("gsis",), [g.name for g in table.gsis], "index")]
        types: dict[str, str] = {}
        keys = [(("hashKey",), table.hash_key), (("rangeKey",), table.range_key)]
        keys += [(("gsis", j, part), getattr(g, attr)) for j, g in enumerate(table.gsis)
                 for part, attr in (("hashKey", "hash_key"), ("rangeKey", "range_key"))]
        for loc, key in keys:
            if key is None:
                continue
            if types.setdefault(key.name, key.type) != key.type:
                found.append((where + loc + ("type",), f"attribute {key.name!r} is a key of type {types[key.name]} "
                              f"elsewhere in this table; an attribute has one type"))
        if table.range_key is not None and table.range_key.name == table.hash_key.name:
            found.append((where + ("rangeKey", "name"), "the sort key must differ from the partition key"))
        if settings is not None and table.capacity is not None:
            cap = settings.data.max_provisioned_capacity
            for unit in ("read", "write"):
                if getattr(table.capacity, unit) > cap:
                    found.append((where + ("capacity", unit), f"{getattr(table.capacity, unit)} {unit} capacity units "
                                  f"is above this stack's paved:data.maxProvisionedCapacity ({cap})"))
    return found


def _table_owners(c: _Collector, services_raw: list) -> None:
    """A table name belongs to one service: its physical name (<env>-<name>) has no service in it."""
    owners: dict[str, str] = {}
    for i, raw in enumerate(services_raw):
        data = raw.get("data") if isinstance(raw, dict) else None
        tables = data.get("tables") if isinstance(data, dict) else None
        for j, table in enumerate(tables if isinstance(tables, list) else []):
            tname = table.get("name") if isinstance(table, dict) else None
            if not isinstance(tname, str):
                continue
            other = owners.setdefault(tname, str(raw.get("name")))
            if other != raw.get("name"):
                c.add(("services", i, "data", "tables", j, "name"),
                      f"table {tname!r} is already claimed by service {other!r}; a table has one owning service")


def _auth_rules(svc: Service) -> list[tuple[Path, str]]:
    auth = svc.public.auth if svc.public is not None else None
    if auth is None:
        return []
    declared = {s.name: s for s in svc.secrets}
    where = ("public", "auth", "clientSecret")
    if auth.client_secret not in declared:
        return [(where, f"{auth.client_secret!r} is not one of the service's secrets; declare it under `secrets` "
                        "(rotation: third-party) and put {\"clientID\": ..., \"clientSecret\": ...} in it with "
                        "`paved secrets put`")]
    if declared[auth.client_secret].rotation != "third-party":
        return [(where, f"secret {auth.client_secret!r} is issued by the identity provider: mark it "
                        "`rotation: third-party` (a managed rotation would overwrite the client credentials)")]
    return []


def _rollout_rules(svc: Service) -> list[tuple[Path, str]]:
    r = svc.rollout
    if r is None:
        return []
    found: list[tuple[Path, str]] = []
    for i, step in enumerate(r.steps):
        if (step.set_weight is None) == (step.pause is None):
            found.append((("rollout", "steps", i), "a step is either `setWeight` or `pause`, exactly one of them"))
    if r.strategy == "canary" and not any(s.set_weight is not None for s in r.steps):
        found.append((("rollout", "steps"), "a canary needs at least one `setWeight` step, e.g. "
                      "[{setWeight: 20}, {pause: {duration: 5m}}]"))
    if r.strategy == "blueGreen" and r.steps:
        found.append((("rollout", "steps"), "blueGreen takes no steps: the preview gets every replica and is promoted "
                      "after its analysis"))
    weights = [s.set_weight for s in r.steps if s.set_weight is not None]
    if weights != sorted(weights):
        found.append((("rollout", "steps"), f"setWeight values must not decrease ({weights})"))
    return found


def release_strategy(svc: Service) -> tuple[str, str]:
    """(workload kind, strategy) a service is released with, as :func:`paved.resources.surge_pods` reads them."""
    return ("Rollout", svc.rollout.strategy) if svc.rollout is not None else ("Deployment", "RollingUpdate")


def surge_of(svc: Service) -> int:
    """Extra pods the service's release runs at maximum replicas (1, or every replica for blue-green)."""
    return surge_pods(*release_strategy(svc), SERVICE_MAX_SURGE, svc.scaling.max) or 0


def rollout_need(services: list[Service]) -> RolloutNeed:
    """What a team's quota must hold: every service at maximum replicas plus its rolling-update
    surge (the computation PAVED-DEP-008 makes on the plan)."""
    need = RolloutNeed()
    for svc in services:
        top = svc.scaling.max
        surge = surge_of(svc)
        need = need.plus(cpu_cores(svc.resources.requests.cpu), memory_bytes(svc.resources.requests.memory), top, surge)
    return need


def quota_shortfalls(team: Team, services: list[Service]) -> list[tuple[str, str]]:
    """(quota field, message) for each of cpu, memory and pods the team's quota is too small in."""
    need = rollout_need(services)
    found = []
    for res, hard, show in (("cpu", cpu_cores(team.quota.cpu), shown),
                            ("memory", Decimal(memory_bytes(team.quota.memory)), memory_text),
                            ("pods", Decimal(team.quota.pods), shown)):
        if hard < need.of(res):
            pods = ", ".join(f"{s.name} {s.scaling.max}+{surge_of(s)}" for s in services)
            found.append((res, f"quota {res} {show(hard)} cannot hold the team's services at maximum replicas plus one "
                               f"rolling-update surge pod each ({pods}), which need {show(need.of(res))}; raise "
                               f"quota.{res} or lower scaling.max or the requests"))
    return found


def _get(raw: Any, loc: Path) -> Any:
    for part in loc:
        raw = raw.get(part) if isinstance(raw, dict) else None
    return raw


def repository_file_problem(root: FsPath, value: str) -> str | None:
    """Why ``value`` is not a file inside ``root`` (the catalog's folder), or None.

    Resolved with symlinks followed, so ``../`` segments, absolute paths and links that
    point elsewhere are all refused: `paved export backstage` reads these files.
    """
    try:
        top = root.resolve()
        target = (top / value).resolve()
        if not target.is_relative_to(top):
            return f"{value!r} resolves outside the catalog's folder ({target}); files must be inside the repository"
        if not target.is_file():
            return f"file {value!r} not found (paths are relative to the catalog)"
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop, a name too long
        return f"{value!r} is not a usable path: {exc}"
    return None


def _located_override(raw: dict, env: str, loc: Path) -> Path | None:
    """The override path for ``loc`` if the override sets it (or a parent of it)."""
    node: Any = ((raw.get("overrides") or {}).get(env))
    path: Path = ("overrides", env)
    if not isinstance(node, dict):
        return None
    for part in loc:
        if isinstance(node, dict) and part in node:
            node, path = node[part], path + (part,)
        else:
            return path if path != ("overrides", env) else None
    return path


# --- the whole document ------------------------------------------------------------------


def _check_entries(c: _Collector, raw: Any, key: str) -> list[dict]:
    if raw is None:
        c.add((key,), f"required field is missing (a list of {key})")
        return []
    if not isinstance(raw, list):
        c.add((key,), f"must be a list of {key} (got {type(raw).__name__})")
        return []
    return raw


def _check_duplicates(c: _Collector, key: str, entries: list) -> None:
    seen: dict[str, int] = {}
    for i, e in enumerate(entries):
        name = e.get("name") if isinstance(e, dict) else None
        if isinstance(name, str):
            if name in seen:
                c.add((key, i, "name"), f"duplicate name {name!r} (first defined as {key}[{seen[name]}])")
            else:
                seen[name] = i


def _route(c: _Collector, routes: dict, env: str | None, svc: Service, base: Path, raw: dict) -> None:
    """Refuse a public host and path that another service already has (in ``env``); a clash
    the base entries already have is reported once, not again per environment."""
    if svc.public is None:
        return
    route = (svc.public.host, svc.public.path.rstrip("/") or "/")
    other = routes.setdefault(env, {}).setdefault(route, svc.name)
    clash = (svc.name, route, other)
    if other == svc.name or clash in routes.setdefault("clashes", set()):
        return
    routes["clashes"].add(clash)
    where = (_located_override(raw, env, ("public",)) if env else None) or ("public",)
    suffix = f" (in environment {env})" if env else ""
    c.add(base + where, f"{svc.public.host}{svc.public.path} is already the public route of service {other!r}{suffix}")


def _check_alerts(c: _Collector, teams_raw: list, environments: Mapping[str, Any]) -> None:
    """Every team needs somewhere for its alerts to go in a protected stack (prod): Alertmanager
    would otherwise send them to the platform's default receiver, where nobody owns them."""
    protected = sorted(env for env, s in environments.items() if getattr(s, "protect_stateful", False))
    for i, raw in enumerate(teams_raw):
        if not isinstance(raw, dict):
            continue
        alerts = raw.get("alerts")
        if isinstance(alerts, dict) and not any(alerts.get(k) is not None for k in ALERT_RECEIVER_KINDS):
            c.add(("teams", i, "alerts"), f"declares no receiver; give at least one of {', '.join(ALERT_RECEIVER_KINDS)}")
        elif isinstance(alerts, dict) and alerts.get("email") is not None:
            no_relay = sorted(env for env, s in environments.items()
                              if s is not None and getattr(getattr(s, "observability", None), "smtp", False) is None)
            if no_relay:
                c.add(("teams", i, "alerts", "email"), f"e-mail needs an SMTP relay, and stack {', '.join(no_relay)} "
                                                       "has no paved:observability.smtp")
        elif alerts is None and protected:
            c.add(("teams", i), f"team has no alert receiver; declare `alerts` with at least one of "
                                f"{', '.join(ALERT_RECEIVER_KINDS)} (required in stack {', '.join(protected)}, "
                                "which sets paved:protectStateful)", ("teams", i, "alerts"))


def validate_document(doc: Located, environments: Mapping[str, Any]) -> tuple[list[Issue], CatalogDoc | None]:
    """All problems of a parsed catalog, and the model when there are none.

    ``environments`` maps each stack name to its StackSettings (or None to skip the
    stack's caps); overrides for other names are errors.
    """
    c = _Collector(doc)
    c.issues.update(doc.issues)
    data = doc.data
    if doc.issues and data is None:
        return sorted(c.issues), None
    if not isinstance(data, dict):
        c.add((), f"the catalog must be a mapping with `teams` and `services` (got {type(data).__name__})")
        return sorted(c.issues), None
    for k in data:
        if k not in ("teams", "services"):
            c.add((k,), f"unknown field {k!r}{_did_you_mean(str(k), ['services', 'teams'])}")
    teams_raw = _check_entries(c, data.get("teams"), "teams")
    services_raw = _check_entries(c, data.get("services"), "services")

    teams: dict[str, tuple[int, Team]] = {}
    for i, raw in enumerate(teams_raw):
        try:
            team_model = _TEAM.validate_python(raw)
        except ValidationError as exc:
            c.pydantic(exc, ("teams", i), Team)
        else:
            teams.setdefault(team_model.name, (i, team_model))
    _check_duplicates(c, "teams", teams_raw)
    _check_alerts(c, teams_raw, environments)
    _check_duplicates(c, "services", services_raw)
    namespaces: dict[str, str] = {}
    for i, raw in enumerate(teams_raw):
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            ns = raw.get("namespace") or raw["name"]
            if isinstance(ns, str) and ns in namespaces and namespaces[ns] != raw["name"]:
                c.add(("teams", i, "namespace"), f"namespace {ns!r} is already used by team {namespaces[ns]!r}")
            namespaces.setdefault(ns, raw["name"])

    team_names = list(dict.fromkeys(t["name"] for t in teams_raw if isinstance(t, dict) and isinstance(t.get("name"), str)))
    # Judge teams only against a list that could be read (`teams: []` has no teams at all).
    teams_given = isinstance(data.get("teams"), list) and (bool(team_names) or not data["teams"])
    service_names = [s["name"] for s in services_raw if isinstance(s, dict) and isinstance(s.get("name"), str)]
    producers: dict[str, tuple[str, int, int]] = {}
    folded_topics: dict[str, tuple[str, str]] = {}
    # Per environment (None: the base entries), each public host and path → its service;
    # under "clashes", the clashes already reported.
    routes: dict[Any, Any] = {}
    env_names = sorted(environments)
    # Per environment (None: the base entries when there are no stacks), each team's services
    # as they run there, for the quota check.
    running: dict[str | None, dict[str, list[Service]]] = {}

    for i, raw in enumerate(services_raw):
        base: Path = ("services", i)
        if not isinstance(raw, dict):
            c.add(base, f"each service must be a mapping (got {type(raw).__name__})")
            continue
        svc = None
        try:
            svc = _SERVICE.validate_python(raw)
        except ValidationError as exc:
            c.pydantic(exc, base, Service)
        name = raw.get("name")
        team = raw.get("team")
        if isinstance(team, str) and teams_given and team not in team_names:
            c.add(base + ("team",), f"unknown team {team!r}{_did_you_mean(team, team_names)}; teams are: {', '.join(team_names) or '(none)'}")
        for loc in FILE_FIELDS:
            value = _get(raw, loc)
            if isinstance(value, str) and doc.file and relative_path_problem(value) is None:
                problem = repository_file_problem(FsPath(doc.file).parent, value)
                if problem:
                    c.add(base + loc, problem)
        former = raw.get("formerNames")
        for j, old in enumerate(former if isinstance(former, list) else []):
            if isinstance(old, str) and old in service_names:
                c.add(base + ("formerNames", j), f"{old!r} is the name of a current service; a former name must be free")
        calls = raw.get("calls")
        for j, callee in enumerate(calls if isinstance(calls, list) else []):
            if not isinstance(callee, str):
                continue
            if callee == name:
                c.add(base + ("calls", j), "a service cannot declare a call to itself")
            elif callee not in service_names:
                c.add(base + ("calls", j), f"unknown service {callee!r}{_did_you_mean(callee, service_names)}")
        kafka = raw.get("kafka") if isinstance(raw.get("kafka"), dict) else {}
        for j, topic in enumerate(kafka.get("produces") or []):
            tname = topic.get("name") if isinstance(topic, dict) else None
            if not isinstance(tname, str):
                continue
            folded = topic_env_name(tname)
            if tname in producers:
                other, oi, oj = producers[tname]
                c.add(base + ("kafka", "produces", j, "name"),
                      f"topic {tname!r} is listed twice (first at produces[{oj}])" if oi == i else
                      f"topic {tname!r} is already produced by service {other!r}; a topic has exactly one producer")
            elif folded in folded_topics:
                other_topic, other = folded_topics[folded]
                c.add(base + ("kafka", "produces", j, "name"),
                      f"topic {tname!r} collides with topic {other_topic!r} (service {other!r}): they differ only by "
                      f"'.', '_', '-' or case, which Kafka's metric names and the {folded} variable do not tell apart")
            else:
                producers[tname] = (str(name), i, j)
                folded_topics[folded] = (tname, str(name))
        overrides = raw.get("overrides")
        if isinstance(overrides, dict):
            for env in overrides:
                if env not in environments:
                    hint = _did_you_mean(str(env), env_names)
                    c.add(base + ("overrides", env),
                          f"no stack {env!r} (stacks/Pulumi.{env}.yaml does not exist){hint}; stacks are: {', '.join(env_names)}")
        if svc is None:
            continue
        if not environments:
            running.setdefault(None, {}).setdefault(svc.team, []).append(svc)
        base_rules = set(service_rules(svc))
        for loc, msg in base_rules:
            c.add(base + loc, msg)
        _route(c, routes, None, svc, base, raw)
        for env, settings in environments.items():
            try:
                eff = _SERVICE.validate_python(_effective_raw(raw, env))
            except ValidationError as exc:
                for err in exc.errors():
                    loc = _clean_loc(err["loc"])
                    where = _located_override(raw, env, loc) or loc
                    c.add(base + where, f"{_message(err, Service, loc)} (in environment {env})")
                continue
            _route(c, routes, env, eff, base, raw)
            running.setdefault(env, {}).setdefault(eff.team, []).append(eff)
            for loc, msg in service_rules(eff, settings):
                if (loc, msg) in base_rules:
                    continue
                where = _located_override(raw, env, loc) or loc
                c.add(base + where, f"{msg} (in environment {env})")

    for i, raw in enumerate(services_raw):
        kafka = raw.get("kafka") if isinstance(raw, dict) and isinstance(raw.get("kafka"), dict) else {}
        consumes = kafka.get("consumes")
        for j, topic in enumerate(consumes if isinstance(consumes, list) else []):
            if isinstance(topic, str) and topic not in producers:
                c.add(("services", i, "kafka", "consumes", j),
                      f"topic {topic!r} is produced by no service{_did_you_mean(topic, sorted(producers))}")

    _table_owners(c, services_raw)

    for env, by_team in running.items():
        for team_name, services in by_team.items():
            if team_name in teams:
                i, team = teams[team_name]
                for res, msg in quota_shortfalls(team, services):
                    c.add(("teams", i, "quota", res), msg + (f" (in environment {env})" if env else ""))

    if c.issues:
        return sorted(c.issues), None
    return [], CatalogDoc.model_validate(data)


def load_catalog(path: str | FsPath, environments: Mapping[str, Any]) -> Catalog:
    """Read and validate the catalog at ``path``; raise InputError listing every problem."""
    path = FsPath(path)
    display = str(path)
    text = read_source(path, display)
    key = (str(path.resolve()), hashlib.sha256(text.encode()).hexdigest(), frozenset(environments))
    cached = _VALIDATED.get(key)
    if cached is not None and _covers(cached[0], environments):
        return cached[1]
    issues, model = validate_document(load_located(text, display), environments)
    if issues or model is None:
        raise InputError(issues)
    catalog = Catalog(file=display, teams=model.teams, services=model.services)
    _VALIDATED[key] = (dict(environments), catalog)
    return catalog


# Catalogs validated in this process. `paved plan` validates the catalog before running the
# program (to report problems with their lines) and the program loads it again: the second
# load is a lookup. A hit needs the same file content and stack names, and settings at least
# as complete as the caller's (None means "this stack's caps were not checked").
_VALIDATED: dict[tuple, tuple[dict[str, Any], Catalog]] = {}


def _covers(checked: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(settings is None or checked.get(env) == settings for env, settings in wanted.items())

