"""The plan document (``paved plan --format json``) and its terminal table."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from pulumi_kubernetes.apiextensions import CustomResource

from paved import engine, k8s_schema, sdk_inputs
from paved.charts import KNOWN_GROUP_VERSIONS
from paved.crd_schema import CrdIndex
from paved.engine import ProgramError, RunResult, clean
from paved.resources import is_kubernetes_object

PLAN_VERSION = 1
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def _envelope_problems(obj: dict[str, Any]) -> list[str]:
    problems = [f"{key}: required" for key in ("apiVersion", "kind") if not isinstance(obj.get(key), str)]
    if not isinstance(obj.get("metadata"), dict) or not isinstance(obj["metadata"].get("name"), str):
        problems.append("metadata.name: required")
    return problems


def check(result: RunResult) -> None:
    """Schema-check every Kubernetes object and every input key; ProgramError lists failures."""
    problems: list[str] = []
    version = result.settings.kubernetes_version
    # Custom resources are checked against the CRDs the plan's charts install.
    crds = CrdIndex([clean(r.inputs) for r in result.resources if r.type == CRD_TYPE])
    for rec in result.resources:
        inputs = clean(rec.inputs, keep_shape=True)
        if not is_kubernetes_object(rec.type, rec.custom):
            pass
        elif crds.knows(inputs):
            problems += [f"{rec.urn}: {m}" for m in _envelope_problems(inputs) + crds.validate(inputs)]
        elif isinstance(rec.resource, CustomResource) or (
                rec.resource is None and inputs.get("apiVersion") not in KNOWN_GROUP_VERSIONS):
            # A custom kind whose CRD the plan does not install: the API server checks it at
            # apply; the envelope is checked here.
            problems += [f"{rec.urn}: {m}" for m in _envelope_problems(inputs)]
        else:
            problems += [f"{rec.urn}: {m}" for m in k8s_schema.validate_object(inputs, version)]
        if rec.custom and rec.resource is not None:
            problems += [f"{rec.urn}: {m}" for m in sdk_inputs.check_inputs(type(rec.resource), rec.inputs)]
    if problems:
        raise ProgramError(
            f"{len(problems)} resource(s) failed the Kubernetes {version} schema or provider input check:\n  "
            + "\n  ".join(problems)
        )


def build(stack: str, catalog_path: str | None = None, root=None,
          charts: bool | None = None) -> tuple[dict[str, Any], RunResult]:
    """Run the program offline, check it, and return the plan document (``charts``: see engine.run)."""
    result = engine.run(stack, catalog_path, root, charts=charts)
    check(result)
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


def text(plan: dict[str, Any]) -> str:
    """Per team and service, the resources by kind with totals; then the platform's by provider."""
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

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    sep = "  ".join("-" * w for w in widths)
    out = [
        f"Plan for stack {plan['stack']} (project {plan['project']}, Kubernetes {plan['kubernetesVersion']}): "
        f"{len(custom)} resources, {len(plan['resources']) - len(custom)} components",
        "",
        line(head), sep, *[line(r) for r in rows[:-1]], sep, line(rows[-1]),
    ]
    named = [f"{abbrev[k]} = {k}" for k in kinds if abbrev[k] != k]
    if named:
        out += _wrap("kinds: ", named)
    by_provider: dict[str, Counter] = defaultdict(Counter)
    for r in platform:
        package = "providers" if r["type"].startswith("pulumi:providers:") else r["type"].split(":")[0]
        module = r["type"].split(":")[1].split("/")[0]
        label = r["type"].rsplit(":", 1)[-1] if package == "providers" else (
            f"{module}/{short_type(r['type'])}" if package == "aws" else short_type(r["type"]))
        by_provider[package][label] += 1
    out += ["", f"Platform resources (no team): {len(platform)}"]
    for package in sorted(by_provider):
        out += _wrap(f"  {package}: ", [f"{k} {n}" for k, n in sorted(by_provider[package].items())])
    charts = [r for r in plan["resources"] if r["type"].startswith("kubernetes:helm.sh/")]
    if charts:
        out += _wrap("  charts: ", [f"{r['inputs'].get('chart')} {r['inputs'].get('version')}" for r in charts])
    return "\n".join(out) + "\n"
