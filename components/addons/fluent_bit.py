"""Fluent Bit: a DaemonSet that ships every container's log lines to CloudWatch Logs.

One pipeline per destination, so a team's lines can only reach its own log group and a noisy
team fills only its own buffer: a ``tail`` input on the team namespace's files
(``/var/log/containers/<pod>_<namespace>_<container>-<id>.log``, CRI format), the
``kubernetes`` filter (pod, container and labels; ``Merge_Log On`` lifts the fields of a JSON
line, such as the services' ``trace_id``, to fields of the record), and a ``cloudwatch_logs``
output to ``/paved/<env>/<team>`` with one stream per pod and container. The platform's own
namespaces go to ``/paved/<env>/_platform``. paved creates the groups (retention, key): the
output never creates one (``auto_create_group Off``), so a line routed nowhere is dropped, not
written to a group nobody owns.

Reading the node's log files needs a hostPath (``/var/log``, read-only) and uid 0 (the kubelet
writes them root-owned, mode 0640); everything else is restricted: no capabilities, no
privilege escalation, read-only root file system. The exception is recorded on the
``logging`` namespace and in policies/rules/kubernetes/node_access.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import chart, resources
from components.identity import role_annotations
from components.security import DROPPED_CAPABILITIES, SECCOMP_PROFILE

CHART = "fluent-bit"
NAME = "fluent-bit"  # fullnameOverride: the DaemonSet, ServiceAccount and ClusterRole
SERVICE_ACCOUNT = NAME
LOG_DIR = "/var/log"  # the one hostPath: /var/log/containers links into /var/log/pods
STATE_DIR = "/fluent-bit/state"  # tail positions (an emptyDir: kept across container restarts)
HTTP_PORT = 2020  # the chart's metricsPort: health and metrics
FLUENT_BIT_RESOURCES = resources("100m", "128Mi", "400m", "256Mi")
# Runs as root to read root-owned files, with nothing else a root process could use.
ROOT_POD = {"runAsNonRoot": False, "runAsUser": 0, "runAsGroup": 0, "seccompProfile": {"type": SECCOMP_PROFILE}}
ROOT_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                  "runAsNonRoot": False, "runAsUser": 0, "capabilities": {"drop": DROPPED_CAPABILITIES},
                  "seccompProfile": {"type": SECCOMP_PROFILE}}


@dataclass(frozen=True)
class Route:
    """Log lines of ``namespaces`` to the CloudWatch log group ``log_group``; ``name`` names the pipeline."""

    name: str
    namespaces: tuple[str, ...]
    log_group: str


def _section(kind: str, fields: Sequence[tuple[str, Any]]) -> str:
    return f"[{kind}]\n" + "".join(f"    {k} {v}\n" for k, v in fields)


def pipeline(routes: Sequence[Route], region: str) -> dict[str, str]:
    """The chart's ``config.inputs``, ``config.filters`` and ``config.outputs``: one tail input,
    one kubernetes filter and one cloudwatch_logs output per route, joined by the tag
    ``<route>.*`` (the tail input puts the file path after the prefix)."""
    inputs, filters, outputs = [], [], []
    for r in routes:
        paths = ",".join(f"{LOG_DIR}/containers/*_{ns}_*.log" for ns in r.namespaces)
        inputs.append(_section("INPUT", [
            ("Name", "tail"), ("Alias", f"tail-{r.name}"), ("Path", paths), ("Tag", f"{r.name}.*"),
            ("multiline.parser", "cri"), ("DB", f"{STATE_DIR}/{r.name}.db"), ("Mem_Buf_Limit", "5MB"),
            ("Skip_Long_Lines", "On"), ("Refresh_Interval", 10)]))
        filters.append(_section("FILTER", [
            ("Name", "kubernetes"), ("Alias", f"kubernetes-{r.name}"), ("Match", f"{r.name}.*"),
            ("Kube_Tag_Prefix", f"{r.name}.var.log.containers."), ("Merge_Log", "On"), ("Keep_Log", "Off"),
            ("K8S-Logging.Parser", "On"), ("K8S-Logging.Exclude", "On"), ("Annotations", "Off")]))
        outputs.append(_section("OUTPUT", [
            ("Name", "cloudwatch_logs"), ("Alias", f"cloudwatch-{r.name}"), ("Match", f"{r.name}.*"),
            ("region", region), ("log_group_name", r.log_group),
            ("log_stream_template", "$kubernetes['pod_name'].$kubernetes['container_name']"),
            ("log_stream_prefix", f"{r.name}-"), ("auto_create_group", "Off"), ("Retry_Limit", 5)]))
    return {"inputs": "".join(inputs), "filters": "".join(filters), "outputs": "".join(outputs)}


def writer_statements(log_group_arns: Sequence[str]) -> list[dict[str, Any]]:
    """Fluent Bit's rights: create streams in and write to exactly paved's log groups."""
    arns = sorted(log_group_arns)
    return [{"Sid": "WriteOwnLogGroups", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
             "Resource": sorted({*arns, *(f"{a}:*" for a in arns)})}]


def values(routes: Sequence[Route], region: str, sa_annotations: dict | None = None) -> dict:
    """Chart values: a DaemonSet named ``fluent-bit`` reading only ``/var/log`` (read-only),
    tail positions on an emptyDir, the pipeline of :func:`pipeline`, pinned resources, no
    chart test pod (it pulls busybox:latest), and the ServiceAccount annotated with its role
    in IRSA mode."""
    return {
        "kind": "DaemonSet",
        "fullnameOverride": NAME,
        "testFramework": {"enabled": False},
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": dict(sa_annotations or {})},
        "podSecurityContext": ROOT_POD,
        "securityContext": ROOT_CONTAINER,
        "resources": FLUENT_BIT_RESOURCES,
        "metricsPort": HTTP_PORT,
        "daemonSetVolumes": [{"name": "varlog", "hostPath": {"path": LOG_DIR, "type": "Directory"}}],
        "daemonSetVolumeMounts": [{"name": "varlog", "mountPath": LOG_DIR, "readOnly": True}],
        "extraVolumes": [{"name": "state", "emptyDir": {"sizeLimit": "64Mi"}}],
        "extraVolumeMounts": [{"name": "state", "mountPath": STATE_DIR}],
        "config": pipeline(routes, region),
    }


@dataclass(frozen=True)
class FluentBit:
    """The add-on: its identity may write to exactly the routes' log groups."""

    cluster: ClusterAccess
    routes: tuple[Route, ...]
    log_group_arns: tuple[pulumi.Input[str], ...]

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its identity, then the chart (credentials come at pod creation)."""
        statements = pulumi.Output.all(*self.log_group_arns).apply(lambda arns: writer_statements(list(arns)))
        identity = self.cluster.identity(f"{ctx.prefix}-fluent-bit", ctx, SERVICE_ACCOUNT, extra_statements=statements)
        annotations = role_annotations(ctx.settings.cluster.identity, identity.role_arn)
        return chart(f"{ctx.prefix}-fluent-bit", CHART, ctx.namespace,
                     values(self.routes, ctx.settings.aws_region, annotations), ctx.options(identity))
