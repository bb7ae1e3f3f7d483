"""``paved status``: per catalog service, what the live cluster says after ``pulumi up``.

The plan (the program run offline, as ``paved render`` runs it) says which objects paved
manages; the ``kubernetes`` client reads them back (paved/kube.py). Health is judged the way
``kubectl rollout status`` judges a Deployment, plus the pods' container states, the HPA's
metrics, the ExternalSecret's ``Ready`` condition and warning events.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from paved.errors import PavedError

SCHEMA_VERSION = 1
# Container states worst first; anything else waiting counts after these.
WORST_STATES = ("CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                "CreateContainerError", "InvalidImageName", "RunContainerError")
RECENT_EVENTS = 3
RUNBOOKS = "docs/runbooks"
# Problem reason → where the runbooks say what to do.
HINTS = {
    "CrashLoopBackOff": f"{RUNBOOKS}/pod-restarts.md: `kubectl logs --previous`, roll back with `kubectl rollout undo`",
    "OOMKilled": f"{RUNBOOKS}/pod-restarts.md: raise resources.limits.memory (and requests) in the catalog",
    "ImagePullBackOff": f"{RUNBOOKS}/rollout.md: the image tag must exist in ECR and the node role may pull it",
    "ErrImagePull": f"{RUNBOOKS}/rollout.md: the image tag must exist in ECR and the node role may pull it",
    "CreateContainerConfigError": f"{RUNBOOKS}/rollout.md: a Secret or ConfigMap the pod reads is missing "
                                  "(check the ExternalSecret)",
    "CreateContainerError": f"{RUNBOOKS}/rollout.md: `kubectl describe pod`: the runtime could not create the container",
    "InvalidImageName": f"{RUNBOOKS}/rollout.md: fix the service's `image` in the catalog",
    "RunContainerError": f"{RUNBOOKS}/rollout.md: `kubectl describe pod`: the container's command failed to start",
    "ProgressDeadlineExceeded": f"{RUNBOOKS}/rollout.md: the rollout stalled; see the pods' states and events",
    "RolloutDegraded": f"{RUNBOOKS}/rollout.md: the canary or blue-green release was aborted (its SLO analysis "
                       "failed or it stalled); the stable version serves",
    "RolloutInProgress": f"{RUNBOOKS}/rollout.md: wait (`paved verify --wait 10m`) or look at the new pods",
    "NoMetrics": f"{RUNBOOKS}/autoscaler-at-max.md: metrics-server must be running (platform section) and "
                 "the pods must set CPU requests",
    "SecretNotSynced": f"{RUNBOOKS}/pod-restarts.md step 5: `kubectl describe externalsecret`; the Secrets Manager "
                       "entry needs a value (`paved secrets status --require-values`)",
    "NoTargets": f"{RUNBOOKS}/metrics-down.md: the ServiceMonitor selects no Service port with ready endpoints, "
                 "so Prometheus scrapes nothing",
    "Missing": f"{RUNBOOKS}/rollout.md: run `pulumi up` for the stack; the object is not in the cluster",
    "Drift": f"{RUNBOOKS}/rollout.md: someone changed it outside Pulumi; `pulumi up` restores it "
             "(or put the change in the catalog)",
    "NotReady": f"{RUNBOOKS}/rollout.md: a platform chart's workload is not ready",
    "CrdMissing": f"{RUNBOOKS}/rollout.md: the chart that installs this CRD did not deploy",
}


def add_parser(sub: Any, stack_arg: Any, catalog_arg: Any) -> None:
    """``paved status``."""
    p = sub.add_parser("status", help="live state of every catalog service on the stack's cluster",
                       description="Read the live cluster (kubernetes client) and show, per catalog service: "
                                   "replicas and rollout, HPA metrics, ExternalSecret Ready, PDB, container "
                                   "states and restarts, warning events, Ingress address; then the platform "
                                   "charts' workloads and the CRDs paved relies on. Exit 0 when healthy, 1 when not.")
    stack_arg(p)
    catalog_arg(p)
    p.add_argument("--team", metavar="T", help="only this team's services (and no platform section)")
    p.add_argument("--service", metavar="S", help="only this service (and no platform section)")
    p.add_argument("--format", choices=["text", "json"], default="text",
                   help="text for people (default, colour only on a terminal), or the versioned JSON document")
    cluster_args(p)


def cluster_args(p: argparse.ArgumentParser) -> None:
    """``--context`` and ``--kubeconfig``, shared with ``paved verify``."""
    p.add_argument("--context", metavar="C", help="kubeconfig context (default: the one `aws eks update-kubeconfig` "
                                                    "writes for the stack's clusterName and region)")
    p.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")


# -- what paved manages, from the plan ------------------------------------------------------------

def expected(plan: dict[str, Any], team: str | None = None, service: str | None = None) -> dict[str, Any]:
    """The plan's objects per service, the platform charts' workloads and the CRDs in use."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    services: dict[str, dict[str, Any]] = {}
    platform: dict[str, list[dict[str, Any]]] = {}
    used_groups = set()
    crds = []
    for r in plan["resources"]:
        if not r.get("custom", True) or not r["type"].startswith("kubernetes:") or not isinstance(r["inputs"], dict):
            continue
        obj = r["inputs"]
        kind = obj.get("kind")
        if not kind:
            continue
        used_groups.add((str(obj.get("apiVersion", "")).rpartition("/")[0], kind))
        if kind == "CustomResourceDefinition":
            crds.append(obj)
        if r.get("service"):
            if (team and r.get("team") != team) or (service and r["service"] != service):
                continue
            entry = services.setdefault(r["service"], {"service": r["service"], "team": r.get("team"), "objects": []})
            entry["objects"].append(obj)
        elif kind in ("Deployment", "StatefulSet", "DaemonSet"):
            platform.setdefault(_chart_of(r, by_urn), []).append(obj)
    relied = sorted(c["metadata"]["name"] for c in crds
                    if (c["spec"]["group"], c["spec"]["names"]["kind"]) in used_groups)
    return {"services": dict(sorted(services.items())), "platform": dict(sorted(platform.items())), "crds": relied}


def _chart_of(r: dict[str, Any], by_urn: dict[str, Any]) -> str:
    node = r
    while node is not None:
        if "helm.sh" in node["type"]:
            return node["name"]
        node = by_urn.get(node.get("parent"))
    return r["name"]


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The first object of ``kind`` (a service has at most one of each kind paved reads)."""
    return next((o for o in objects if o.get("kind") == kind), None)


# -- reading and judging the live objects ----------------------------------------------------------

# A service's workload: its Deployment, or its Argo Rollout (catalog ``rollout:``).
WORKLOAD_KINDS = ("Deployment", "Rollout")


def _argo_rollout(dep: dict[str, Any]) -> tuple[str, str] | None:
    # Argo Rollouts reports a phase (Healthy, Progressing, Paused, Degraded) with a message.
    st = dep.get("status", {})
    phase, message = st.get("phase"), st.get("message") or ""
    if phase == "Degraded":
        return "failed", f"degraded: {message}".strip(" :")
    if phase == "Paused":
        return "progressing", f"paused at canary step {st.get('currentStepIndex', '?')}: {message}".strip(" :")
    if phase == "Progressing":
        return "progressing", message or "the release is progressing"
    return None if phase == "Healthy" else ("progressing", "waiting for the controller to report a phase")


def rollout(dep: dict[str, Any] | None) -> tuple[str, str]:
    """(state, message) of a Deployment as ``kubectl rollout status`` decides: complete,
    progressing or failed (``ProgressDeadlineExceeded``); of an Argo Rollout from its phase."""
    if dep is None:
        return "missing", "the Deployment is not in the cluster"
    if dep.get("kind") == "Rollout":
        judged = _argo_rollout(dep)
        if judged is not None:
            return judged
        dep = {**dep, "status": {**dep.get("status", {}), "observedGeneration": int(
            dep.get("status", {}).get("observedGeneration") or 0)}}  # a string in a Rollout's status
    meta, spec, st = dep.get("metadata", {}), dep.get("spec", {}), dep.get("status", {})
    if meta.get("generation", 0) > st.get("observedGeneration", 0):
        return "progressing", "waiting for the controller to observe the new spec"
    for c in st.get("conditions") or []:
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
            return "failed", f"progress deadline exceeded: {c.get('message', '')}".strip()
    desired = spec.get("replicas", 1)
    updated, total, available = (st.get(k, 0) for k in ("updatedReplicas", "replicas", "availableReplicas"))
    if updated < desired:
        return "progressing", f"{updated} of {desired} new replicas updated"
    if total > updated:
        return "progressing", f"{total - updated} old replicas pending termination"
    if available < updated:
        return "progressing", f"{available} of {updated} updated replicas available"
    return "complete", "rolled out"


def hpa_status(hpa: dict[str, Any] | None) -> dict[str, Any] | None:
    """Current against target metrics; ``metricsAvailable`` False when the HPA cannot read them."""
    if hpa is None:
        return None
    spec, st = hpa.get("spec", {}), hpa.get("status", {})
    targets = [_metric(m, "target") for m in spec.get("metrics") or []]
    current = [_metric(m, "current") for m in st.get("currentMetrics") or []]
    active = next((c for c in st.get("conditions") or [] if c.get("type") == "ScalingActive"), None)
    blind = (active is not None and active.get("status") == "False") or not current
    return {"name": hpa["metadata"]["name"], "currentReplicas": st.get("currentReplicas", 0),
            "desiredReplicas": st.get("desiredReplicas", 0), "minReplicas": spec.get("minReplicas", 1),
            "maxReplicas": spec.get("maxReplicas"), "targets": targets, "current": current,
            "metricsAvailable": not blind,
            "message": (active or {}).get("message", "no current metrics") if blind else ""}


def _metric(m: dict[str, Any], which: str) -> str:
    body = m.get(m.get("type", "").lower() or "resource") or m.get("resource") or {}
    name = body.get("name") or (body.get("metric") or {}).get("name") or m.get("type", "?")
    val = body.get(which) or {}
    if "averageUtilization" in val:
        return f"{name} {val['averageUtilization']}%"
    value = val.get("averageValue") or val.get("value")
    return f"{name} {value}" if value is not None else f"{name} ?"


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """An object's condition of type ``kind`` (``ready`` None when the controller has not set it)."""
    if obj is None:
        return None
    c = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})
    return {"name": obj["metadata"]["name"], "ready": c.get("status") == "True" if c else None,
            "reason": c.get("reason", ""), "message": c.get("message", "")}


def pod_summary(pods: list[dict[str, Any]]) -> dict[str, Any]:
    """Pod count, total restarts and the worst container state with its reason."""
    restarts, worst, rank, where = 0, "", len(WORST_STATES) + 1, ""
    for pod in pods:
        st = pod.get("status") or {}
        for cs in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            waiting = (cs.get("state") or {}).get("waiting") or {}
            last = (cs.get("lastState") or {}).get("terminated") or {}
            for reason in (waiting.get("reason"), last.get("reason") if cs.get("restartCount") else None):
                if not reason:
                    continue
                r = WORST_STATES.index(reason) if reason in WORST_STATES else len(WORST_STATES)
                if r < rank:
                    rank, worst, where = r, reason, f"Pod/{pod['metadata']['name']} container {cs.get('name')}"
                    detail = waiting.get("message") if reason == waiting.get("reason") else \
                        f"last run ended {reason} (exit code {last.get('exitCode', '?')})"
                    if detail:
                        where += f": {detail}"
    return {"pods": len(pods), "restarts": restarts, "worstState": worst, "where": where}


def warning_events(events: list[dict[str, Any]], names: set[str], deployment: str | None = None) -> list[dict[str, Any]]:
    """The most recent warning events about the service's objects, its pods (``names``) and
    its Deployment's ReplicaSets (``<deployment>-<pod-template-hash>``)."""
    import re

    rs = re.compile(rf"^{re.escape(deployment)}-[a-z0-9]{{5,10}}$") if deployment else None

    def ours(name: str) -> bool:
        return name in names or bool(rs and rs.match(name))

    picked = [e for e in events if e.get("type") == "Warning" and ours((e.get("involvedObject") or {}).get("name", ""))]
    picked.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    return [{"object": f"{e['involvedObject'].get('kind')}/{e['involvedObject'].get('name')}",
             "reason": e.get("reason", ""), "message": e.get("message", ""), "count": e.get("count", 1),
             "lastSeen": e.get("lastTimestamp") or e.get("eventTime")} for e in picked[:RECENT_EVENTS]]


def problem(service: str | None, obj: str, reason: str, message: str) -> dict[str, Any]:
    hint_key = reason if reason in HINTS else "NotReady"
    return {"service": service, "object": obj, "reason": reason, "message": message, "hint": HINTS[hint_key]}


def service_status(cluster: Any, entry: dict[str, Any]) -> dict[str, Any]:
    """One service's row, with the problems that make it unhealthy."""
    objs = entry["objects"]
    dep_m = next((o for o in objs if o.get("kind") in WORKLOAD_KINDS), None)
    workload = dep_m["kind"] if dep_m else "Deployment"
    ns = (dep_m or objs[0])["metadata"].get("namespace")
    live = {}
    for kind in (workload, "HorizontalPodAutoscaler", "PodDisruptionBudget", "ExternalSecret", "Ingress",
                 "ServiceMonitor"):
        want = of_kind(objs, kind)
        if want is None:
            continue
        name = want["metadata"]["name"]
        live[kind] = cluster.read(kind, name, ns, want.get("apiVersion"))
        if live[kind] is None:
            live[kind + "/missing"] = name
    dep = live.get(workload)
    selector = ",".join(f"{k}={v}" for k, v in sorted(((dep_m or {}).get("spec", {}).get("selector", {})
                                                        .get("matchLabels") or {}).items()))
    pods = cluster.list("Pod", ns, selector=selector) if dep_m else []
    events = cluster.list("Event", ns)
    state, message = rollout(dep) if dep_m else ("none", "")
    st = (dep or {}).get("status", {})
    row = {
        "service": entry["service"], "team": entry["team"], "namespace": ns,
        "replicas": {"desired": (dep or {}).get("spec", {}).get("replicas", 0),
                     **{k: st.get(k + "Replicas", 0) for k in ("updated", "ready", "available")}},
        "rollout": {"state": state, "message": message},
        "hpa": hpa_status(live.get("HorizontalPodAutoscaler")),
        "externalSecret": condition(live.get("ExternalSecret"), "Ready"),
        "pdb": ({"name": live["PodDisruptionBudget"]["metadata"]["name"],
                 "disruptionsAllowed": live["PodDisruptionBudget"].get("status", {}).get("disruptionsAllowed", 0)}
                if live.get("PodDisruptionBudget") else None),
        "containers": pod_summary(pods),
        "events": warning_events(events, {o["metadata"]["name"] for o in objs + pods},
                                 dep_m["metadata"]["name"] if dep_m else None),
        "ingress": _ingress(live.get("Ingress")) if of_kind(objs, "Ingress") else None,
        "serviceMonitor": scrape_targets(cluster, live.get("ServiceMonitor"), ns),
    }
    svc = entry["service"]
    probs = [problem(svc, f"{k.split('/')[0]}/{v}", "Missing", f"{k.split('/')[0]} {v} is not in namespace {ns}")
             for k, v in live.items() if k.endswith("/missing")]
    if dep is not None and state != "complete":
        probs.append(problem(svc, f"{workload}/{dep['metadata']['name']}",
                             ("RolloutDegraded" if workload == "Rollout" else "ProgressDeadlineExceeded")
                             if state == "failed" else "RolloutInProgress", message))
    c = row["containers"]
    if c["worstState"]:
        pod, _, detail = c["where"].partition(" ")
        probs.append(problem(svc, pod, c["worstState"], f"{detail} ({c['restarts']} restarts)"))
    hpa = row["hpa"]
    if hpa and not hpa["metricsAvailable"]:
        probs.append(problem(svc, f"HorizontalPodAutoscaler/{hpa['name']}", "NoMetrics", hpa["message"]))
    es = row["externalSecret"]
    if es and es["ready"] is not True:
        probs.append(problem(svc, f"ExternalSecret/{es['name']}", "SecretNotSynced",
                             f"Ready={es['ready']} {es['reason']}: {es['message']}".strip()))
    sm = row["serviceMonitor"]
    if sm and not sm["targets"]:
        probs.append(problem(svc, f"ServiceMonitor/{sm['name']}", "NoTargets",
                             f"no ready endpoint on port(s) {', '.join(sm['ports'])} of a Service it selects"))
    row["healthy"] = not probs
    row["problems"] = probs
    return row


def scrape_targets(cluster: Any, sm: dict[str, Any] | None, ns: str) -> dict[str, Any] | None:
    """What Prometheus would scrape for a ServiceMonitor: the ready endpoints, on the monitored
    port names, of the Services its selector matches (their EndpointSlices), in its namespace."""
    if sm is None:
        return None
    spec = sm.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    ports = sorted({e["port"] for e in spec.get("endpoints") or [] if e.get("port")})
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    targets = 0
    for svc in cluster.list("Service", ns, selector=selector or None):
        for eps in cluster.list("EndpointSlice", ns, selector=f"kubernetes.io/service-name={svc['metadata']['name']}"):
            named = {p.get("name") for p in eps.get("ports") or []}
            if ports and not named & set(ports):
                continue
            # An endpoint with no ready condition counts as ready (the API's own rule).
            targets += sum(1 for e in eps.get("endpoints") or [] if (e.get("conditions") or {}).get("ready") is not False)
    return {"name": sm["metadata"]["name"], "ports": ports, "targets": targets}


def _ingress(ing: dict[str, Any] | None) -> dict[str, Any]:
    if ing is None:
        return {"name": None, "address": None}
    lb = ((ing.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return {"name": ing["metadata"]["name"], "address": next((i.get("hostname") or i.get("ip") for i in lb), None)}


def platform_status(cluster: Any, exp: dict[str, Any]) -> dict[str, Any]:
    """Each chart's workloads (ready or not) and the CRDs paved relies on."""
    charts, probs = [], []
    for chart, objs in exp["platform"].items():
        workloads = []
        for obj in objs:
            kind, name, ns = obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace")
            live = cluster.read(kind, name, ns, obj.get("apiVersion"))
            ready, want = _workload_ready(kind, live)
            workloads.append({"kind": kind, "name": name, "namespace": ns, "ready": ready, "summary": want})
            if not ready:
                probs.append(problem(None, f"{kind}/{name}", "Missing" if live is None else "NotReady",
                                     f"chart {chart}: {want}"))
        charts.append({"chart": chart, "workloads": workloads})
    live_crds = {c["metadata"]["name"] for c in cluster.list("CustomResourceDefinition")}
    crds = [{"name": n, "present": n in live_crds} for n in exp["crds"]]
    probs += [problem(None, f"CustomResourceDefinition/{c['name']}", "CrdMissing", "not installed")
              for c in crds if not c["present"]]
    return {"charts": charts, "crds": crds, "problems": probs}


def _workload_ready(kind: str, live: dict[str, Any] | None) -> tuple[bool, str]:
    if live is None:
        return False, "not in the cluster"
    st = live.get("status") or {}
    if kind == "DaemonSet":
        want, have = st.get("desiredNumberScheduled", 0), st.get("numberReady", 0)
    else:
        want, have = (live.get("spec") or {}).get("replicas", 1), st.get("readyReplicas", 0)
    return have >= want, f"{have}/{want} ready"


def collect(cluster: Any, exp: dict[str, Any], stack: str, platform: bool = True) -> dict[str, Any]:
    """The status document (``schemas/status.schema.json``)."""
    services = [service_status(cluster, e) for e in exp["services"].values()]
    plat = platform_status(cluster, exp) if platform else {"charts": [], "crds": [], "problems": []}
    healthy = all(s["healthy"] for s in services) and not plat["problems"]
    return {"version": SCHEMA_VERSION, "schemaVersion": SCHEMA_VERSION, "stack": stack, "context": cluster.context,
            "healthy": healthy, "services": services, "platform": plat}


# -- output --------------------------------------------------------------------------------------

def _paint(text: str, colour: str, tty: bool) -> str:
    codes = {"green": "32", "red": "31", "yellow": "33"}
    return f"\033[{codes[colour]}m{text}\033[0m" if tty else text


def text(doc: dict[str, Any], tty: bool = False) -> str:
    """The terminal report: one row per service, its problems beneath, then the platform."""
    lines = [f"stack {doc['stack']} (context {doc['context']})", ""]
    head = ("service", "team", "rollout", "ready", "hpa", "secret", "pdb", "restarts", "state", "targets", "ingress")
    rows = [head]
    for s in doc["services"]:
        r, hpa, es, pdb = s["replicas"], s["hpa"], s["externalSecret"], s["pdb"]
        hpa_txt = "-" if hpa is None else (f"{hpa['currentReplicas']} (max {hpa['maxReplicas']}) "
                                            + (", ".join(f"{c} (target {t.split()[-1]})"
                                                         for c, t in zip(hpa["current"], hpa["targets"]))
                                               if hpa["metricsAvailable"] else "no metrics"))
        ing = s["ingress"]
        rows.append((s["service"], s["team"] or "-", s["rollout"]["state"],
                     f"{r['ready']}/{r['desired']} (upd {r['updated']}, avail {r['available']})", hpa_txt,
                     "-" if es is None else ("Ready" if es["ready"] else f"not ready ({es['reason'] or '?'})"),
                     "-" if pdb is None else str(pdb["disruptionsAllowed"]), str(s["containers"]["restarts"]),
                     s["containers"]["worstState"] or "ok",
                     "-" if s["serviceMonitor"] is None else str(s["serviceMonitor"]["targets"]),
                     "-" if ing is None else (ing["address"] or "no address yet")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for n, row in enumerate(rows):
        line = "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()
        if n:
            line = _paint(line, "green" if doc["services"][n - 1]["healthy"] else "red", tty)
        lines.append(line)
    for s in doc["services"]:
        for e in s["events"]:
            lines.append(f"  {s['service']}: warning {e['reason']} on {e['object']} (x{e['count']}): {e['message']}")
    if doc["platform"]["charts"] or doc["platform"]["crds"]:  # not with --team / --service
        lines += ["", "platform:"]
    for c in doc["platform"]["charts"]:
        parts = [f"{w['kind']}/{w['name']} {w['summary']}" for w in c["workloads"]]
        ok = all(w["ready"] for w in c["workloads"])
        lines.append(_paint(f"  {c['chart']}: {'; '.join(parts)}", "green" if ok else "red", tty))
    missing = [c["name"] for c in doc["platform"]["crds"] if not c["present"]]
    if doc["platform"]["crds"]:
            lines.append(f"  CRDs: {len(doc['platform']['crds']) - len(missing)}/{len(doc['platform']['crds'])} present"
                     + (f"; missing: {', '.join(missing)}" if missing else ""))
    problems = [p for s in doc["services"] for p in s["problems"]] + doc["platform"]["problems"]
    lines.append("")
    lines += [problem_line(p) for p in problems]
    verdict = "healthy" if doc["healthy"] else f"{len(problems)} problem(s)"
    lines.append(_paint(verdict, "green" if doc["healthy"] else "red", tty))
    return "\n".join(lines) + "\n"


def problem_line(p: dict[str, Any]) -> str:
    """``service: object: reason: message (hint: ...)``."""
    return f"{p['service'] or 'platform'}: {p['object']}: {p['reason']}: {p['message']} (hint: {p['hint']})"


def connect(args: argparse.Namespace, root: Any) -> Any:
    """The stack's cluster, from its settings (clusterName, aws:region) or ``--context``."""
    from paved.kube import Cluster
    from paved.stack import load_stack

    settings = load_stack(root, args.stack)
    cluster = Cluster.connect(settings.cluster_name, settings.aws_region, args.context, args.kubeconfig)
    cluster.groups()  # discovery first: an unreachable API or bad credentials fail before the plan
    return cluster


def plan_for(args: argparse.Namespace, root: Any, catalog: Any) -> dict[str, Any]:
    from paved import plan

    return plan.build(args.stack, catalog, root)[0]


def run(args: argparse.Namespace, root: Any, catalog: Any) -> int:
    """``paved status``: 0 when everything shown is healthy, 1 otherwise."""
    cluster = connect(args, root)  # before planning: a missing kubeconfig fails in a second
    exp = expected(plan_for(args, root, catalog), args.team, args.service)
    if (args.team or args.service) and not exp["services"]:
        raise PavedError(f"no catalog service matches --team {args.team} --service {args.service} in stack {args.stack}")
    doc = collect(cluster, exp, args.stack, platform=not (args.team or args.service))
    if args.format == "json":
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(text(doc, sys.stdout.isatty()))
    return 0 if doc["healthy"] else 1
