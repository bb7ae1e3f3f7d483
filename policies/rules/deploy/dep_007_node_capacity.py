"""PAVED-DEP-007: the node groups at desired size hold every pod at minimum replicas, with headroom.

Pods that do not fit stay Pending and ``pulumi up`` waits for a rollout that never completes
(or, with an autoscaler, the first deploy waits for new nodes). Allocatable capacity is what
the EKS AMI leaves after kube-reserved and the eviction threshold, per instance type (see
``paved/data/instance_types.json`` for the numbers and their sources).
"""

from __future__ import annotations

import json
from decimal import ROUND_UP, Decimal
from functools import cache
from pathlib import Path

from paved.resources import (
    NODE_GROUP,
    UNKNOWN,
    integer,
    launch_template_of,
    lookup,
    memory_text,
    node_instance_types,
    normalize,
    pod_requests,
    pod_spec,
    shown,
    workloads,
)
from policies.framework import Rule

DAEMONSET = "kubernetes:apps/v1:DaemonSet"
MIB = 2**20
# kube-reserved CPU of the EKS AMI: (cores in the tier, share reserved).
CPU_TIERS = ((1, Decimal("0.06")), (1, Decimal("0.01")), (2, Decimal("0.005")), (None, Decimal("0.0025")))
EVICTION_MIB = 100


@cache
def instance_types() -> dict[str, dict[str, int]]:
    """vCPU, memory and max pods per instance type (``paved/data/instance_types.json``)."""
    path = Path(__file__).resolve().parents[3] / "paved" / "data" / "instance_types.json"
    return json.loads(path.read_text(encoding="utf-8"))["types"]


def allocatable(instance_type: str) -> tuple[Decimal, int, int] | None:
    """(CPU cores, memory bytes, pods) a node of ``instance_type`` offers pods, or None when unknown."""
    spec = instance_types().get(instance_type)
    if spec is None:
        return None
    vcpu, left, reserved = spec["vcpu"], spec["vcpu"], Decimal(0)
    for cores, share in CPU_TIERS:
        take = left if cores is None else min(left, cores)
        reserved += take * share
        left -= take
    memory_mib = spec["memoryMiB"] - (255 + 11 * spec["maxPods"]) - EVICTION_MIB
    return Decimal(vcpu) - reserved, memory_mib * MIB, spec["maxPods"]


def validate_stack(args, report) -> None:
    keep = 1 - Decimal(str(args.get_config()["headroomPercent"])) / 100
    resources = normalize(args.resources)
    groups = [r for r in resources if r.type == NODE_GROUP]
    if not groups:
        return
    cpu, memory, pods, nodes = Decimal(0), Decimal(0), 0, 0
    largest: tuple[Decimal, int] | None = None
    for g in groups:
        desired = integer(lookup(g.props, "scalingConfig.desiredSize"))
        types = node_instance_types(g.props, launch_template_of(g, resources))
        if not isinstance(desired, int) or not types or UNKNOWN in types:
            return  # unknown at preview
        sizes = [allocatable(t) for t in types]
        if None in sizes:
            unknown = ", ".join(str(t) for t, s in zip(types, sizes) if s is None)
            report(f"NodeGroup {g.name} must use instance types paved knows the capacity of ({unknown} is not in "
                   f"paved/data/instance_types.json).", getattr(g.source, "urn", None))
            return
        small = min(sizes)  # the group may launch its smallest type
        cpu, memory, pods, nodes = cpu + small[0] * desired, memory + small[1] * desired, pods + small[2] * desired, \
            nodes + desired
        big = max(sizes)
        largest = big[:2] if largest is None or big[:2] > largest else largest
    need_cpu, need_memory, need_pods = Decimal(0), Decimal(0), 0
    for w in workloads(resources):
        low = w.min_replicas
        if low is None:
            continue
        need_cpu += w.requests.cpu * low
        need_memory += Decimal(w.requests.memory) * low
        need_pods += low
        if largest and (w.requests.cpu > largest[0] or w.requests.memory > largest[1]):
            report(f"{w.kind} {w.name} must request no more than one node offers ({shown(largest[0])} CPU, "
                   f"{memory_text(largest[1])} allocatable): a pod of {shown(w.requests.cpu)} CPU and "
                   f"{memory_text(w.requests.memory)} never schedules.", getattr(w.item.source, "urn", None))
    for r in resources:
        if r.type == DAEMONSET and (pod := pod_spec(r.type, r.props)) is not None:
            req = pod_requests(pod)
            need_cpu, need_memory, need_pods = need_cpu + req.cpu * nodes, need_memory + req.memory * nodes, \
                need_pods + nodes
    first = getattr(groups[0].source, "urn", None)
    short = []
    if need_cpu > cpu * keep:
        short.append(f"{shown(need_cpu)} CPU requested of {shown(cpu)} allocatable ({shown((cpu * keep).quantize(Decimal('0.001')))} "
                     f"with headroom)")
    if need_memory > memory * keep:
        short.append(f"{memory_text(int(need_memory))} memory requested of {memory_text(int(memory))} allocatable "
                     f"({memory_text(int((memory * keep / MIB).to_integral_value(ROUND_UP)) * MIB)} with headroom)")
    if need_pods > int(pods * keep):
        short.append(f"{need_pods} pods of {pods} pod slots ({int(pods * keep)} with headroom)")
    if short:
        report(f"NodeGroups at desired size ({nodes} nodes) must hold every pod at minimum replicas with "
               f"{shown(args.get_config()['headroomPercent'])}% headroom: {'; '.join(short)}.", first)


RULE = Rule(
    id="PAVED-DEP-007",
    name="node-capacity",
    description=(
        "Checks whether the requests of all pods at minimum replicas (Deployments, StatefulSets and ReplicaSets at "
        "their autoscaler minimum or spec.replicas, DaemonSets once per node) fit the node groups' allocatable CPU, "
        "memory and pod slots at desiredSize, less headroomPercent, and whether each pod fits one node; allocatable "
        "is computed from the instance type as the EKS AMI does (kube-reserved CPU tiers, 255Mi + 11Mi x maxPods, "
        "100Mi eviction)."
    ),
    severity="high",
    remediation=(
        "Raise the node group's desiredSize or instance type in stacks/Pulumi.<env>.yaml, or lower services' "
        "scaling.min or requests in services_catalog.yaml. EKS add-on pods (aws-node, kube-proxy, CoreDNS) are not "
        "in the plan and live in the headroom."
    ),
    anchors=(
        "awslabs/amazon-eks-ami bootstrap.sh / nodeadm: kube-reserved cpu and memory, eviction-hard memory.available<100Mi",
        "awslabs/amazon-eks-ami eni-max-pods.txt",
        "kubernetes.io/docs/tasks/administer-cluster/reserve-compute-resources (allocatable = capacity - reserved - "
        "eviction threshold)",
    ),
    validate_stack=validate_stack,
    config={
        "headroomPercent": {"type": "number", "minimum": 0, "maximum": 90, "default": 10,
                            "description": "Share of allocatable capacity kept free at minimum replicas."},
    },
    enforcement="mandatory",
)
