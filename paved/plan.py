"""The plan document (``paved plan --format json``) and its terminal table."""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from typing import Any

from pulumi_kubernetes.apiextensions import CustomResource

from paved import engine, k8s_schema, sdk_inputs
from paved.charts import KNOWN_GROUP_VERSIONS
from paved.crd_schema import CrdIndex
from paved.engine import ProgramError, RunResult, clean
from paved.errors import PavedError
from paved.resources import is_kubernetes_object

PLAN_VERSION = 1
PLAN_SCHEMA_ID = f"https://paved.dev/schemas/plan.v{PLAN_VERSION}.schema.json"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


class PlanDocumentError(PavedError):
    """A saved plan document that is not one this paved wrote (exit 1)."""


def _envelope_problems(obj: dict[str, Any]) -> list[str]:
    problems = [f"{key}: required" for key in ("apiVersion", "kind") if not isinstance(obj.get(key), str)]
    if not isinstance(obj.get("metadata"), dict) or not isinstance(obj["metadata"].get("name"), str):
        problems.append("metadata.name: required")
    return problems


def _object_problems(type_token: str, custom: bool, inputs: Any, crds: CrdIndex, version: str,
                     custom_resource: bool | None) -> list[str]:
    """Schema problems of one recorded resource's inputs (none when it is no Kubernetes object).

    ``custom_resource``: whether the program made it a CustomResource (None when not known,
    as for a chart's children or a saved document: then its apiVersion decides).
    """
    if not is_kubernetes_object(type_token, custom):
        return []
    if not isinstance(inputs, dict):
        return [f"inputs: must be an object (got {type(inputs).__name__})"]
    if crds.knows(inputs):
        return _envelope_problems(inputs) + crds.validate(inputs)
    if custom_resource or (custom_resource is None and inputs.get("apiVersion") not in KNOWN_GROUP_VERSIONS):
        # A custom kind whose CRD the plan does not install: the API server checks it at
        # apply; the envelope is checked here.
        return _envelope_problems(inputs)
    return k8s_schema.validate_object(inputs, version)


def crd_inputs(result: RunResult) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions a run installs (what custom resources are checked against)."""
    return [clean(r.inputs) for r in result.resources if r.type == CRD_TYPE]


def check(result: RunResult, lower_crds: list[dict[str, Any]] | None = None) -> None:
    """Schema-check every Kubernetes object and every input key; ProgramError lists failures.

    ``lower_crds``: the CRDs a lower layer's stack installs (a team stack's custom resources
    are checked against the platform stack's CRDs)."""
    problems: list[str] = []
    version = result.settings.kubernetes_version
    # Custom resources are checked against the CRDs the plan's charts install.
    crds = CrdIndex(crd_inputs(result) + list(lower_crds or []))
    for rec in result.resources:
        inputs = clean(rec.inputs, keep_shape=True)
        custom_resource = isinstance(rec.resource, CustomResource) if rec.resource is not None else None
        problems += [f"{rec.urn}: {m}" for m in _object_problems(rec.type, rec.custom, inputs, crds, version, custom_resource)]
        if rec.custom and rec.resource is not None:
            problems += [f"{rec.urn}: {m}" for m in sdk_inputs.check_inputs(type(rec.resource), rec.inputs)]
    if problems:
        raise ProgramError(
            f"{len(problems)} resource(s) failed the Kubernetes {version} schema or provider input check:\n  "
            + "\n  ".join(problems)
        )


def build(stack: str, catalog_path: str | None = None, root=None,
          charts: bool | None = None, jobs: int = 1, only: str | None = None,
          with_platform: bool = False, layout: str | None = None,
          teams: set[str] | None = None) -> tuple[dict[str, Any], RunResult | None]:
    """Run the program offline, check it, and return the plan document (``charts``: see engine.run).

    In an environment with ``paved:layout: layered`` the document is the environment's view: the
    platform stack and every team stack (``paved.layered``), planned in ``jobs`` processes;
    ``only`` (``platform`` or a team) plans one of them. The RunResult is None when other
    processes made the plan.
    """
    from paved import layered

    return layered.build(stack, catalog_path, root, charts=charts, jobs=jobs, only=only, with_platform=with_platform,
                         layout=layout, teams=teams)


def build_one(stack: str, catalog_path: str | None = None, root=None, charts: bool | None = None,
              references: dict[str, dict[str, Any]] | None = None,
              lower_crds: list[dict[str, Any]] | None = None,
              layout: str | None = None) -> tuple[dict[str, Any], RunResult]:
    """Plan one Pulumi stack: run the program offline for it, check it, and document it."""
    result = engine.run(stack, catalog_path, root, charts=charts, references=references, layout=layout)
    check(result, lower_crds)
    return document(result), result


def document(result: RunResult) -> dict[str, Any]:
    """The plan document described in DESIGN.md, from one offline run."""
    resources = []
    for rec in result.resources:
        resources.append({
            "urn": rec.urn,
            "type": rec.type,
            "name": rec.name,
            "parent": rec.parent,
            "provider": rec.provider,
            "custom": rec.custom,
            "service": rec.service,
            "team": rec.team,
            "stack": result.stack,
            "inputs": clean(rec.inputs),
            "options": rec.options,
        })
    doc = {
        "version": PLAN_VERSION,
        "project": engine.PROJECT,
        "stack": result.stack,
        "kubernetesVersion": result.settings.kubernetes_version,
        "resources": resources,
        "outputs": result.outputs,
    }
    if not result.charts_expanded:
        doc["chartContents"] = False  # --no-charts: what the charts install is not in this plan
    return doc


_NULLABLE_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": {"type": "string"}}


def plan_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the plan document, version ``PLAN_VERSION``: what `check` and
    `cost --plan` require of a saved plan before reading it. Each Kubernetes object's inputs
    are checked further against the Kubernetes schemas (``read_document``)."""
    resource = {
        "type": "object",
        "additionalProperties": False,
        "required": ["urn", "type", "name", "parent", "provider", "custom", "service", "team", "inputs", "options"],
        "properties": {
            "urn": {"type": "string", "pattern": "^urn:pulumi:"},
            "type": {"type": "string", "minLength": 1},
            "name": {"type": "string"},
            "parent": _NULLABLE_STRING,
            "provider": _NULLABLE_STRING,
            "custom": {"type": "boolean"},
            "service": _NULLABLE_STRING,
            "team": _NULLABLE_STRING,
            "stack": {"type": "string", "description": "The Pulumi stack that holds the resource (ENV or ENV.TEAM)."},
            "inputs": {"type": "object"},
            "options": {
                "type": "object",
                "additionalProperties": False,
                "required": ["protect", "retainOnDelete", "ignoreChanges", "aliases", "dependsOn"],
                "properties": {
                    "protect": {"type": "boolean"},
                    "retainOnDelete": {"type": "boolean"},
                    "ignoreChanges": _STRINGS,
                    "aliases": {"type": "array"},
                    "dependsOn": _STRINGS,
                    "version": {"type": "string", "description": "Provider plugin version the plan was checked against."},
                    "read": {"type": "boolean", "description": "Read, not managed (a StackReference)."},
                },
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PLAN_SCHEMA_ID,
        "title": f"paved plan document, version {PLAN_VERSION}",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "project", "stack", "kubernetesVersion", "resources", "outputs"],
        "properties": {
            "version": {"const": PLAN_VERSION},
            "project": {"type": "string"},
            "stack": {"type": "string"},
            "kubernetesVersion": {"type": "string", "pattern": "^1\\.[0-9]+$"},
            "chartContents": {"type": "boolean"},
            "layout": {"enum": ["single", "layered"]},
            "partial": {"type": "array", "items": {"type": "string"},
                        "description": "Planned only these team stacks (with the platform): paved diff's incremental plan."},
            "stacks": {
                "type": "array",
                "description": "With the layered layout: each stack of the environment, the platform first.",
                "items": {"type": "object", "required": ["name", "layer", "resources", "outputs"],
                          "properties": {"name": {"type": "string"}, "layer": {"enum": ["platform", "team"]},
                                         "team": _NULLABLE_STRING, "resources": {"type": "integer"},
                                         "outputs": {"type": "object"}}}},
            "resources": {"type": "array", "items": resource},
            "outputs": {"type": "object"},
        },
    }


def _where(path: str) -> str:
    # fastjsonschema names the value "data.resources[3].inputs"; the report says "resources[3].inputs".
    return path.removeprefix("data").lstrip(".") or "(document)"


def read_document(text: str, display: str) -> dict[str, Any]:
    """A saved plan document, checked: its structure against ``plan_schema()``, then every
    Kubernetes object's inputs against the Kubernetes (or the plan's CRD) schemas. Raises
    PlanDocumentError naming the file and what is wrong, so a hand-edited plan is never
    checked or priced as if it were sound."""
    import fastjsonschema

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanDocumentError(f"{display}:{exc.lineno}:{exc.colno}: not a plan document: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise PlanDocumentError(f"{display}: not a plan document: {exc}") from None
    if isinstance(doc, dict) and doc.get("version") not in (None, PLAN_VERSION) and isinstance(doc.get("version"), int):
        raise PlanDocumentError(f"{display}: a plan document of version {doc['version']}; this paved reads version "
                                f"{PLAN_VERSION} (make the plan again with this paved)")
    try:
        _plan_validator()(doc)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise PlanDocumentError(f"{display}: {_where(exc.name)}: {exc.message.split(' ', 1)[-1]} "
                                f"(schema {PLAN_SCHEMA_ID})") from None
    crds = CrdIndex([r["inputs"] for r in doc["resources"] if r["type"] == CRD_TYPE])
    problems = []
    for i, r in enumerate(doc["resources"]):
        problems += [f"resources[{i}] ({r['urn']}): {m}"
                     for m in _object_problems(r["type"], r["custom"], r["inputs"], crds, doc["kubernetesVersion"], None)]
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise PlanDocumentError(f"{display}: {len(problems)} resource(s) fail the Kubernetes "
                                f"{doc['kubernetesVersion']} schema:\n  " + "\n  ".join(shown))
    return doc


@functools.cache
def _plan_validator() -> Any:
    import fastjsonschema

    return fastjsonschema.compile(plan_schema())


def short_type(type_token: str) -> str:
    """``kubernetes:apps/v1:Deployment`` → ``Deployment``."""
    if type_token.startswith("pulumi:providers:"):
        return "Provider"
    return type_token.rsplit(":", 1)[-1]


# Column headings for the terminal table; other kinds keep their name, cut to 12 characters.
ABBREVIATIONS = {
    "Deployment": "Deploy", "HorizontalPodAutoscaler": "HPA", "PodDisruptionBudget": "PDB",
    "NetworkPolicy": "NetPol", "ServiceAccount": "SA", "ResourceQuota": "Quota", "LimitRange": "Limits",
    "Namespace": "NS", "Service": "Svc", "ExternalSecret": "ExtSecret", "PodIdentityAssociation": "PodIdentity",
    "RolePolicy": "RolePol", "SecretRotation": "Rotation",
}


def _wrap(prefix: str, parts: list[str], width: int = 100) -> list[str]:
    lines, current = [], prefix
    for part in parts:
        if len(current) + len(part) + 2 > width and current.strip():
            lines.append(current.rstrip(", "))
            current = " " * len(prefix)
        current += part + ", "
    lines.append(current.rstrip(", "))
    return lines


def text(plan: dict[str, Any], term_width: int | None = None) -> str:
    """Per team and service, the resources by kind with totals; then the platform's by provider.
    With ``term_width`` the table is cut into blocks of columns that fit it."""
    from paved.term import fit_columns

    wrap = min(100, term_width or 100)

    custom = [r for r in plan["resources"] if r.get("custom", True)]
    owned = [r for r in custom if r["team"]]
    platform = [r for r in custom if not r["team"]]
    groups: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in owned:
        groups[(r["team"], r["service"] or "(namespace)")][short_type(r["type"])] += 1
    kinds = sorted({k for c in groups.values() for k in c}, key=lambda k: (k not in ABBREVIATIONS, k))
    abbrev = {k: ABBREVIATIONS.get(k, k[:12]) for k in kinds}
    head = ["team", "service", *[abbrev[k] for k in kinds], "total"]
    rows = [[team, svc, *[str(counts.get(k, "")) for k in kinds], str(sum(counts.values()))]
            for (team, svc), counts in sorted(groups.items())]
    totals: Counter = Counter()
    for c in groups.values():
        totals.update(c)
    services = len({s for (_, s) in groups if s != "(namespace)"})
    rows.append(["total", f"{services} services", *[str(totals[k]) for k in kinds], str(sum(totals.values()))])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

    def block(cols: list[int]) -> list[str]:
        def line(row: list[str]) -> str:
            return "  ".join(row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i]) for i in cols).rstrip()

        sep = "  ".join("-" * widths[i] for i in cols)
        return [line(head), sep, *[line(r) for r in rows[:-1]], sep, line(rows[-1])]

    out = [
        f"Plan for stack {plan['stack']} (project {plan['project']}, Kubernetes {plan['kubernetesVersion']}): "
        f"{len(custom)} resources, {len(plan['resources']) - len(custom)} components",
    ]
    # Wider than the terminal: the kinds in several blocks, each with the team and service columns.
    for cols in fit_columns(head, rows, 2, term_width, block):
        out += ["", *block(cols)]
    named = [f"{abbrev[k]} = {k}" for k in kinds if abbrev[k] != k]
    if named:
        out += _wrap("kinds: ", named, wrap)
    by_provider: dict[str, Counter] = defaultdict(Counter)
    for r in platform:
        package = "providers" if r["type"].startswith("pulumi:providers:") else r["type"].split(":")[0]
        module = r["type"].split(":")[1].split("/")[0]
        label = r["type"].rsplit(":", 1)[-1] if package == "providers" else (
            f"{module}/{short_type(r['type'])}" if package == "aws" else short_type(r["type"]))
        by_provider[package][label] += 1
    out += ["", f"Platform resources (no team): {len(platform)}"]
    for package in sorted(by_provider):
        out += _wrap(f"  {package}: ", [f"{k} {n}" for k, n in sorted(by_provider[package].items())], wrap)
    charts = [r for r in plan["resources"] if r["type"].startswith("kubernetes:helm.sh/")]
    if charts:
        out += _wrap("  charts: ", [f"{r['inputs'].get('chart')} {r['inputs'].get('version')}" for r in charts], wrap)
    return "\n".join(out) + "\n"
