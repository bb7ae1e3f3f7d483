"""What every add-on's chart shares: the pinned chart itself, pinned images, pod resources."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.versions import CHARTS, IMAGES


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    """A chart's ``resources`` value: requests and limits."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


# Requests and limits of a small pod (an operator, a sidecar, Alertmanager): the charts set
# none by default.
SMALL_RESOURCES = resources("50m", "64Mi", "200m", "256Mi")


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
