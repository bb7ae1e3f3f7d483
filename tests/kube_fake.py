"""A small Kubernetes-API-speaking HTTP server on 127.0.0.1, for testing ``paved status`` and
``paved verify`` with the real ``kubernetes`` client. No kube-apiserver can be installed here.

It serves discovery (``/api``, ``/apis``, ``/apis/<group>``, group versions), get by name and
list of any kind it holds (namespaced and cluster-wide, with equality label selectors), watch
(``on_watch``, when set, plays a controller: it changes the objects once and the stream sends
a MODIFIED event per object; otherwise the stream stays quiet until its timeout), bearer-token
auth (401) and per-path 403.

The objects come from paved's own plan (``live_objects``): each rendered manifest, with the
metadata and status blocks the API server and controllers would add. tests/test_status.py
validates them against kubernetes-validate's schemas (built-in kinds) or the plan's CRDs.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

TOKEN = "k8s-aws-v1.test-token"
ARN = "arn:aws:eks:us-east-1:123456789012:cluster/paved-dev"
PLURALS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Pod": "pods",
           "Event": "events", "Service": "services", "HorizontalPodAutoscaler": "horizontalpodautoscalers",
           "PodDisruptionBudget": "poddisruptionbudgets", "Ingress": "ingresses", "ExternalSecret": "externalsecrets",
           "ServiceMonitor": "servicemonitors", "EndpointSlice": "endpointslices", "Rollout": "rollouts",
           "CustomResourceDefinition": "customresourcedefinitions"}
CLUSTER_SCOPED = {"CustomResourceDefinition"}


class FakeKube:
    """The server; ``objects`` may be changed by a test between requests (under ``lock``)."""

    def __init__(self, objects: list[dict[str, Any]], token: str = TOKEN):
        self.objects = objects
        self.token = token
        self.forbidden: set[str] = set()
        self.on_watch: Any = None
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FakeKube":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- what the server serves -------------------------------------------------------------------

    def groups(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for o in self.objects:
            group, _, version = o["apiVersion"].rpartition("/")
            out.setdefault(group, set()).add(version)
        out.setdefault("apps", set()).add("v1")
        return out

    def select(self, path: str) -> tuple[str, list[dict[str, Any]], str | None] | None:
        """(kind, objects, name) a list or get path names, or None when the path names no held kind."""
        parts = path.strip("/").split("/")
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = name = None
        if len(rest) in (3, 4) and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        if len(rest) == 2:
            rest, name = rest[:1], rest[1]
        if len(rest) != 1:
            return None
        kind = next((k for k, p in PLURALS.items() if p == rest[0]), None)
        if kind is None:
            return None
        api_version = f"{group}/{version}" if group else version
        return kind, [o for o in self.objects if o["kind"] == kind and o["apiVersion"] == api_version
                      and (ns is None or o["metadata"].get("namespace") == ns)
                      and (name is None or o["metadata"]["name"] == name)], name


def _matches(obj: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    labels = obj["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, _, v in (term.partition("=") for term in selector.split(",")))


def _handler(kube: FakeKube) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _status(self, code: int, reason: str, message: str) -> None:
            self._send(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code})

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            kube.requests.append(self.path)
            if self.headers.get("Authorization") != f"Bearer {kube.token}":
                return self._status(401, "Unauthorized", "Unauthorized")
            if url.path in kube.forbidden:
                return self._status(403, "Forbidden", f'{url.path} is forbidden: User "arn:aws:sts::123456789012:'
                                                      'assumed-role/ci/x" cannot list resource')
            with kube.lock:
                if url.path == "/api":
                    return self._send(200, {"kind": "APIVersions", "versions": ["v1"]})
                groups = kube.groups()
                if url.path == "/apis":
                    return self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                        _group(g, vs) for g, vs in sorted(groups.items()) if g]})
                parts = url.path.strip("/").split("/")
                if parts[0] == "apis" and len(parts) == 2 and parts[1] in groups:
                    return self._send(200, {"kind": "APIGroup", "apiVersion": "v1", **_group(parts[1], groups[parts[1]])})
                if (parts == ["api", "v1"]) or (parts[0] == "apis" and len(parts) == 3):
                    group = "" if parts[0] == "api" else parts[1]
                    gv = "v1" if not group else f"{group}/{parts[2]}"
                    kinds = sorted({o["kind"] for o in kube.objects if o["apiVersion"] == gv})
                    return self._send(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                                            "resources": [{"name": PLURALS[k], "singularName": k.lower(), "kind": k,
                                                           "namespaced": k not in CLUSTER_SCOPED,
                                                           "verbs": ["get", "list", "watch"]} for k in kinds if k in PLURALS]})
                found = kube.select(url.path)
                if found is None:
                    return self._status(404, "NotFound", f"the server could not find the requested resource ({url.path})")
                if query.get("watch") in ("true", "1", "True"):
                    if kube.on_watch:  # a controller changes something: one MODIFIED event per object
                        kube.on_watch(kube)
                        kube.on_watch = None
                        return self._watch(kube.select(url.path)[1])
                else:
                    kind, items, name = found
                    if name is not None:  # get
                        if not items:
                            return self._status(404, "NotFound", f'{PLURALS[kind]} "{name}" not found')
                        return self._send(200, items[0])
                    items = [o for o in items if _matches(o, query.get("labelSelector"))]
                    return self._send(200, {"kind": f"{kind}List", "apiVersion": items[0]["apiVersion"] if items else "v1",
                                            "metadata": {"resourceVersion": "1000"}, "items": items})
            # A watch and nothing changes: hold the stream (up to timeoutSeconds, at most 1 s here), quiet.
            time.sleep(min(float(query.get("timeoutSeconds", 1)), 1.0))
            self._watch([])

        def _watch(self, items: list[dict[str, Any]]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for obj in items:
                line = (json.dumps({"type": "MODIFIED", "object": obj}) + "\n").encode()
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def _group(name: str, versions: set[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in sorted(versions, reverse=True)]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def kubeconfig(path: Any, server: str, token: str = TOKEN, context: str = ARN, cluster: str = ARN) -> str:
    """A kubeconfig like ``aws eks update-kubeconfig`` writes (a static token instead of the exec plugin)."""
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": context,
           "clusters": [{"name": cluster, "cluster": {"server": server}}],
           "contexts": [{"name": context, "context": {"cluster": cluster, "user": ARN}}],
           "users": [{"name": ARN, "user": {"token": token}}]}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return str(path)


# -- live objects from the plan -----------------------------------------------------------------

def _meta(obj: dict[str, Any], n: int, manager: str = "pulumi-kubernetes-7f3a1c2e") -> None:
    meta = obj.setdefault("metadata", {})
    meta.update({"uid": f"00000000-0000-4000-8000-{n:012d}", "resourceVersion": str(100 + n), "generation": 1,
                 "creationTimestamp": "2026-12-03T06:00:00Z"})
    if "spec" in obj:
        fields = {"f:spec": {f"f:{k}": {} for k in obj["spec"]}}
        meta["managedFields"] = [{"manager": manager, "operation": "Apply", "apiVersion": obj["apiVersion"],
                                  "time": "2026-12-03T06:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields}]


def live_objects(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The healthy cluster after ``pulumi up`` of ``plan``: every workload rolled out, pods running."""
    out: list[dict[str, Any]] = []
    objs = [r["inputs"] for r in plan["resources"] if r.get("custom", True) and r["type"].startswith("kubernetes:")
            and not r["type"].startswith("kubernetes:helm.sh") and isinstance(r["inputs"], dict) and r["inputs"].get("kind")]
    hpas = {(o["metadata"].get("namespace"), o["spec"]["scaleTargetRef"]["name"]): o for o in objs
            if o["kind"] == "HorizontalPodAutoscaler"}
    for n, src in enumerate(objs):
        kind = src["kind"]
        if kind not in PLURALS:
            continue
        obj = copy.deepcopy(src)
        _meta(obj, n)
        ns = obj["metadata"].get("namespace")
        if kind in ("Deployment", "StatefulSet", "Rollout"):
            hpa = hpas.get((ns, obj["metadata"]["name"]))
            replicas = obj["spec"].get("replicas", (hpa or {}).get("spec", {}).get("minReplicas", 1))
            obj["spec"]["replicas"] = replicas
            obj["status"] = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                             "readyReplicas": replicas, "availableReplicas": replicas}
            if kind == "Rollout":  # Argo Rollouts: a string observedGeneration, a phase
                obj["status"].update({"observedGeneration": "1", "phase": "Healthy", "currentStepIndex": 0,
                                      "conditions": [{**_cond("Healthy", "True", "RolloutHealthy", "Rollout is healthy"),
                                                      "lastUpdateTime": "2026-12-03T06:01:00Z"}]})
            elif kind == "Deployment":
                obj["status"]["conditions"] = [
                    _cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                    _cond("Progressing", "True", "NewReplicaSetAvailable", "ReplicaSet has successfully progressed.")]
            else:
                obj["status"]["currentReplicas"] = replicas
            out += [_pod(obj, i, n) for i in range(replicas)]
        elif kind == "DaemonSet":
            obj["status"] = {"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberMisscheduled": 0,
                             "numberReady": 2, "numberAvailable": 2, "observedGeneration": 1}
        elif kind == "HorizontalPodAutoscaler":
            low = obj["spec"].get("minReplicas", 1)
            obj["status"] = {"currentReplicas": low, "desiredReplicas": low,
                             "currentMetrics": [_current(m) for m in obj["spec"].get("metrics") or []],
                             "conditions": [_cond("AbleToScale", "True", "ReadyForNewScale", "recommended size matches"),
                                            _cond("ScalingActive", "True", "ValidMetricFound",
                                                  "the HPA was able to successfully calculate a replica count")]}
        elif kind == "PodDisruptionBudget":
            obj["status"] = {"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2,
                             "observedGeneration": 1}
        elif kind == "ExternalSecret":
            obj["status"] = {"conditions": [_cond("Ready", "True", "SecretSynced", "secret synced")],
                             "refreshTime": "2026-12-03T06:01:00Z", "syncedResourceVersion": "1-abc"}
        elif kind == "Ingress":
            obj["status"] = {"loadBalancer": {"ingress": [
                {"hostname": f"k8s-{ns}-{obj['metadata']['name']}-0a1b2c3d4e.us-east-1.elb.amazonaws.com"}]}}
        out.append(obj)
    pods = [o for o in out if o["kind"] == "Pod"]
    out += [_slice(o, pods, n) for n, o in enumerate(out) if o["kind"] == "Service" and o["spec"].get("selector")]
    return out


def _slice(svc: dict[str, Any], pods: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """The EndpointSlice the endpoint-slice controller keeps for a Service: its ready pods, its ports."""
    ns, sel = svc["metadata"].get("namespace"), svc["spec"]["selector"]
    chosen = [p for p in pods if p["metadata"].get("namespace") == ns
              and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
    ports = []
    for port in svc["spec"].get("ports") or []:
        target = port.get("targetPort", port["port"])
        if isinstance(target, str):  # a named container port: its number in the pods
            target = next((cp["containerPort"] for p in chosen for c in p["spec"]["containers"]
                           for cp in c.get("ports") or [] if cp.get("name") == target), port["port"])
        ports.append({"name": port.get("name", ""), "port": int(target), "protocol": port.get("protocol", "TCP")})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": f"{svc['metadata']['name']}-x{n:04d}", "namespace": ns,
                         "labels": {"kubernetes.io/service-name": svc["metadata"]["name"],
                                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                         "uid": f"00000000-0000-4000-c000-{n:012d}", "creationTimestamp": "2026-12-03T06:01:00Z"},
            "endpoints": [{"addresses": [p["status"]["podIP"]], "conditions": {"ready": True, "serving": True,
                                                                               "terminating": False},
                           "nodeName": p["spec"]["nodeName"],
                           "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns}}
                          for p in chosen],
            "ports": ports}


def _cond(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-12-03T06:01:00Z"}


def _current(metric: dict[str, Any]) -> dict[str, Any]:
    res = metric.get("resource") or {}
    return {"type": "Resource", "resource": {"name": res.get("name", "cpu"),
                                             "current": {"averageUtilization": 40, "averageValue": "100m"}}}


def _pod(workload: dict[str, Any], i: int, n: int) -> dict[str, Any]:
    tpl = copy.deepcopy(workload["spec"]["template"])
    name = f"{workload['metadata']['name']}-7d9f8c6b5-{'abcdefghij'[i]}x{n}"
    spec = tpl["spec"]
    spec["nodeName"] = "ip-10-10-1-23.ec2.internal"
    statuses = [{"name": c["name"], "image": c["image"], "imageID": f"{c['image']}@sha256:{'0' * 64}", "ready": True,
                 "started": True, "restartCount": 0, "containerID": f"containerd://{n:064d}",
                 "state": {"running": {"startedAt": "2026-12-03T06:01:00Z"}}} for c in spec["containers"]]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": workload["metadata"].get("namespace"),
                         "labels": tpl.get("metadata", {}).get("labels", {}),
                         "uid": f"00000000-0000-4000-9000-{n * 10 + i:012d}", "creationTimestamp": "2026-12-03T06:00:30Z",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                              "name": f"{workload['metadata']['name']}-7d9f8c6b5",
                                              "uid": f"00000000-0000-4000-a000-{n:012d}"}]},
            "spec": spec,
            "status": {"phase": "Running", "podIP": f"10.10.1.{10 + i}", "hostIP": "10.10.1.23",
                       "conditions": [_cond("Ready", "True", "", "")], "containerStatuses": statuses}}


def event(ns: str, kind: str, name: str, reason: str, message: str, count: int = 5) -> dict[str, Any]:
    """A warning event about ``kind/name`` (core/v1 Event, as the kubelet writes them)."""
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.18a0b1c2d3e4f5a6", "namespace": ns, "uid": "00000000-0000-4000-b000-000000000001",
                         "creationTimestamp": "2026-12-03T06:02:00Z"},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns, "apiVersion": "v1"},
            "reason": reason, "message": message, "type": "Warning", "count": count,
            "firstTimestamp": "2026-12-03T06:02:00Z", "lastTimestamp": "2026-12-03T06:05:00Z",
            "source": {"component": "kubelet", "host": "ip-10-10-1-23.ec2.internal"}}


def find(objects: list[dict[str, Any]], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    """The held object of ``kind`` called ``name`` (a pod: whose name starts with it)."""
    for o in objects:
        if o["kind"] == kind and (o["metadata"]["name"] == name or (kind == "Pod" and o["metadata"]["name"].startswith(name + "-"))):
            if namespace is None or o["metadata"].get("namespace") == namespace:
                return o
    raise KeyError(f"{kind}/{name}")
