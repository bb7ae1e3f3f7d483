"""``paved verify``: the deploy gate after ``pulumi up``.

Waits (watching Deployments) until every service of the stack is rolled out and healthy,
then compares the live objects with what ``paved render`` produces, for the fields paved
sets (drift). A drifted field names the field managers other than Pulumi's
(``pulumi-kubernetes``, or ``pulumi-kubernetes-<suffix>`` under server-side apply) that own
it in ``managedFields``: that is who changed it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from paved import status
from paved.errors import UsageError
from paved.quantity import parse_quantity

# The fields paved sets from the catalog and stack settings, per kind. Not compared: values the
# offline engine can only invent (env values holding cloud outputs such as Kafka bootstrap
# brokers; annotations holding ARNs), which would otherwise always read as drift.
DRIFT_FIELDS = {
    "Deployment": ("replicas", "template.spec.serviceAccountName", "template.spec.containers"),
    "Rollout": ("template.spec.serviceAccountName", "template.spec.containers"),  # Argo Rollouts (catalog rollout:)
    "StatefulSet": ("replicas", "template.spec.serviceAccountName", "template.spec.containers"),
    "DaemonSet": ("template.spec.serviceAccountName", "template.spec.containers"),
    "HorizontalPodAutoscaler": ("minReplicas", "maxReplicas", "metrics", "scaleTargetRef"),
    "PodDisruptionBudget": ("minAvailable", "maxUnavailable"),
    "Service": ("type", "ports"),
    "Ingress": ("ingressClassName", "rules"),
}
CONTAINER_FIELDS = ("name", "image", "resources", "ports", "securityContext")
DRIFT_KINDS = tuple(DRIFT_FIELDS)
PULUMI_MANAGER = "pulumi-kubernetes"


def add_parser(sub: Any, stack_arg: Any, catalog_arg: Any) -> None:
    """``paved verify``."""
    p = sub.add_parser("verify", help="deploy gate: wait until the stack is healthy, then check drift",
                       description="Wait until every catalog service is rolled out and healthy (or --wait passes), "
                                   "then compare the live objects with the rendered ones for the fields paved "
                                   "sets. Exit 0 only when healthy and without drift; 1 with each problem named.")
    stack_arg(p)
    catalog_arg(p)
    p.add_argument("--wait", default="0s", metavar="DURATION",
                   help="how long to wait for health, e.g. 90s, 10m (default: 0s, check once)")
    status.cluster_args(p)


def duration(value: str) -> int:
    """``10m``, ``90s``, ``1h`` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if value[-1] in units:
            return int(float(value[:-1]) * units[value[-1]])
        return int(value)
    except (ValueError, IndexError):
        raise UsageError(f"--wait {value!r}: give a duration like 90s, 10m or 1h") from None


def _same(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, (str, int, float)) and isinstance(have, (str, int, float)) and not isinstance(want, bool):
        try:  # the API server writes quantities canonically: 1000m → 1, 0.5 → 500m
            return parse_quantity(want) == parse_quantity(have)
        except (ValueError, ArithmeticError, TypeError):
            return False
    return False


def diff_fields(want: Any, have: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Fields set in ``want`` whose live value differs: (path, rendered, live). Lists of named
    items pair by name (containers, ports, env), others by position; fields only the server
    sets (defaults, status) are not compared."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return [(path, want, have)]
        out = []
        for k, v in want.items():
            out += diff_fields(v, have.get(k), f"{path}.{k}" if path else k)
        return out
    if isinstance(want, list):
        if not isinstance(have, list):
            return [(path, want, have)]
        if all(isinstance(i, dict) and "name" in i for i in want):
            live = {i.get("name"): i for i in have if isinstance(i, dict)}
            return [d for i in want for d in diff_fields(i, live.get(i["name"]), f"{path}[{i['name']}]")]
        if len(want) != len(have):
            return [(path, want, have)]
        return [d for n, (a, b) in enumerate(zip(want, have)) for d in diff_fields(a, b, f"{path}[{n}]")]
    return [] if _same(want, have) else [(path, want, have)]


def field_keys(path: str) -> list[str]:
    """A drift path as managedFields (FieldsV1) keys: ``spec.template.spec.containers[orders].image`` →
    ``f:spec, f:template, f:spec, f:containers, k:{"name":"orders"}, f:image``; a positional item
    (``[0]``) has no key, so the walk stops at its list."""
    keys = []
    for part in path.split("."):
        name, _, item = part.partition("[")
        keys.append(f"f:{name}")
        if item:
            item = item.rstrip("]")
            if item.isdigit():
                return keys
            keys.append("k:" + json.dumps({"name": item}, separators=(",", ":")))
    return keys


def managers_of(obj: dict[str, Any], path: str) -> list[str]:
    """Field managers other than Pulumi's that own the field at ``path`` in managedFields."""
    keys = field_keys(path)
    found = set()
    for mf in obj.get("metadata", {}).get("managedFields") or []:
        manager = mf.get("manager", "")
        if manager.startswith(PULUMI_MANAGER):
            continue
        node = mf.get("fieldsV1") or {}
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            found.add(manager)
    return sorted(found)


def compared(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The part of a rendered ``spec`` that drift compares (DRIFT_FIELDS)."""
    out: dict[str, Any] = {}
    for path in DRIFT_FIELDS[kind]:
        node: Any = spec
        parts = path.split(".")
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        if parts[-1] == "containers":
            node = [{k: c[k] for k in CONTAINER_FIELDS if k in c} for c in node]
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = node
    return out


def drift(cluster: Any, exp: dict[str, Any]) -> list[dict[str, Any]]:
    """One problem per drifted field of the objects paved renders: the services', and the
    platform charts' workloads (service None)."""
    probs = []
    owned = [(e["service"], o) for e in exp["services"].values() for o in e["objects"]]
    owned += [(None, o) for objs in exp["platform"].values() for o in objs]
    for service, want in owned:
        kind = want.get("kind")
        if kind not in DRIFT_KINDS:
            continue
        meta = want["metadata"]
        live = cluster.read(kind, meta["name"], meta.get("namespace"), want.get("apiVersion"))
        if live is None:
            continue  # health reports it missing
        for path, rendered, actual in diff_fields(compared(kind, want.get("spec") or {}), live.get("spec", {}), "spec"):
            who = managers_of(live, path)
            by = f" (changed by {', '.join(who)})" if who else ""
            probs.append(status.problem(service, f"{kind}/{meta['name']}", "Drift",
                                        f"{path} is {_short(actual)}, paved renders {_short(rendered)}{by}"))
    return probs


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def run(args: Any, root: Any, catalog: Any) -> int:
    """``paved verify``: 0 only when every service is healthy and nothing drifted."""
    budget = duration(args.wait)
    cluster = status.connect(args, root)
    exp = status.expected(status.plan_for(args, root, catalog))
    deadline = time.monotonic() + budget
    while True:
        doc = status.collect(cluster, exp, args.stack)
        waiting = [s for s in doc["services"] if not s["healthy"]]
        left = deadline - time.monotonic()
        if doc["healthy"] or left <= 0:
            break
        names = ", ".join(f"{s['service']} ({s['rollout']['message'] or s['problems'][0]['reason']})"
                          for s in waiting) or "platform"
        print(f"waiting for {len(waiting)} service(s), {int(left)}s left: {names}", file=sys.stderr, flush=True)
        # Wake on the next Deployment change, or re-read after at most 15 s (pods and HPAs change too).
        started = time.monotonic()
        for _ in cluster.watch_deployments(int(min(left, 15))):
            break
        # Changes come in bursts (one per replica): re-read at most every 2 s.
        time.sleep(max(0.0, min(2.0 - (time.monotonic() - started), deadline - time.monotonic())))
    problems = [p for s in doc["services"] for p in s["problems"]] + doc["platform"]["problems"]
    problems += drift(cluster, exp)
    for p in problems:
        print(status.problem_line(p))
    if problems:
        print(f"paved verify: stack {args.stack} is not as deployed: {len(problems)} problem(s)")
        return 1
    print(f"paved verify: stack {args.stack}: {len(doc['services'])} services healthy, no drift")
    return 0
