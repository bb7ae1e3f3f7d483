"""What every add-on's chart shares: the pinned chart itself, pinned images, pod resources."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.versions import CHARTS, IMAGES
from paved.naming import ZONE_KEY
from paved.stack import StackSettings


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    """A chart's ``resources`` value: requests and limits."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


# Requests and limits of a small pod (an operator, a sidecar, Alertmanager): the charts set
# none by default. Memory limit 2x and CPU limit 4x the request (PAVED-COST-003): a pod that
# bursts further is scheduled on capacity that is not there.
SMALL_RESOURCES = resources("50m", "128Mi", "200m", "256Mi")


def operator_replicas(settings: StackSettings) -> int:
    """Replicas of an operator that elects a leader (or serves a webhook): the stack's floor for
    any workload (``paved:minReplicas``, 2 in prod), at most 2: a standby takes over a lost leader,
    a third adds nothing."""
    return min(settings.min_replicas, 2)


def zone_spread(settings: StackSettings, match_labels: dict[str, str]) -> list[dict]:
    """A chart's ``topologySpreadConstraints`` value: its pods spread across zones the way the
    services' are (``paved:zoneSpread``). ``match_labels`` must be the pods' own selector labels:
    a constraint without a labelSelector counts no pods and spreads nothing."""
    return [{"maxSkew": 1, "topologyKey": ZONE_KEY, "whenUnsatisfiable": settings.zone_spread,
             "labelSelector": {"matchLabels": dict(match_labels)}, "matchLabelKeys": ["pod-template-hash"]}]


def disruption_budget(replicas: int) -> dict:
    """A chart's PodDisruptionBudget value (``enabled`` plus ``maxUnavailable``, the key most charts
    take): on when the workload runs more than one replica, so a node drain keeps one."""
    return {"enabled": replicas > 1, "maxUnavailable": 1}


def chart(name: str, key: str, namespace: str, values: dict, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """The chart ``key`` at the version pinned in components/versions.py."""
    pinned = CHARTS[key]
    return k8s.helm.v4.Chart(name, k8s.helm.v4.ChartArgs(
        chart=pinned["chart"], version=pinned["version"], namespace=namespace,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pinned["repo"]), values=values), opts=opts)


def pinned_image(key: str) -> dict[str, str]:
    """A chart's ``image`` value (repository and tag) for the image pinned as ``key``."""
    repository, _, tag = IMAGES[key].rpartition(":")
    return {"repository": repository, "tag": tag}
