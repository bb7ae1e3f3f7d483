"""PAVED-SEC-021: images come only from allow-listed registries (CIS EKS 5.1.4).

``allowedRegistries`` entries are patterns over the image repository (``registry/path``,
Docker Hub short names normalised to ``docker.io/library/...``). An entry matches the
repository itself or anything below it (``public.ecr.aws/eks`` admits
``public.ecr.aws/eks/coredns``). ``*`` stands for exactly one DNS label or path segment,
never a dot or a slash: ``*.dkr.ecr.*.amazonaws.com`` matches any account and region of
ECR but not ``x.dkr.ecr.bucket.s3-website-us-east-1.amazonaws.com``.
"""

from __future__ import annotations

import re

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup, parse_image

# The platform's own ECR and AWS's public gallery, plus exactly the upstream repositories the
# platform's pinned charts pull from (components/versions.py): reviewed per repository, not
# per registry, so a chart upgrade that brings a new image source fails here until reviewed.
# tests/policies/test_security_kubernetes.py checks that every chart image is covered and
# that no entry is stale.
PLATFORM_CHART_REPOSITORIES = [
    "cr.fluentbit.io/fluent/fluent-bit",
    "docker.io/grafana/grafana",
    "docker.io/jaegertracing/jaeger",
    "ghcr.io/external-secrets/external-secrets",
    "ghcr.io/kedacore",  # keda, keda-metrics-apiserver, keda-admission-webhooks
    "ghcr.io/open-telemetry/opentelemetry-collector-releases",
    "ghcr.io/stakater/reloader",
    "quay.io/argoproj/argo-rollouts",
    "quay.io/kiwigrid/k8s-sidecar",
    "quay.io/prometheus-operator",  # the operator and the config-reloader it adds to Prometheus pods
    "quay.io/prometheus/alertmanager",
    "quay.io/prometheus/prometheus",
    "registry.k8s.io/autoscaling/cluster-autoscaler",
    "registry.k8s.io/kube-state-metrics/kube-state-metrics",
    "registry.k8s.io/metrics-server/metrics-server",
]
DEFAULT_REGISTRIES = ["123456789012.dkr.ecr.*.amazonaws.com", "public.ecr.aws", *PLATFORM_CHART_REPOSITORIES]


def pattern(entry: str) -> re.Pattern[str]:
    """The regular expression an ``allowedRegistries`` entry stands for."""
    body = r"[^./]+".join(re.escape(part) for part in entry.strip().lower().rstrip("/").split("*"))
    return re.compile(rf"^{body}(/.*)?$")


def allowed(image: str, entries: list[str]) -> bool:
    """True when the image's repository matches one of ``entries``."""
    repository = parse_image(image).repository.lower()
    return any(pattern(e).fullmatch(repository) for e in entries if isinstance(e, str) and e.strip())


def _check(container, pod, config):
    entries = list(config.get("allowedRegistries", DEFAULT_REGISTRIES))
    image = lookup(container, "image")
    if image is UNKNOWN or not isinstance(image, str) or not image.strip():
        return None  # unknown: computed by this stack; missing: PAVED-SEC-019 reports it
    if not allowed(image.strip(), entries):
        return f"pull its image from an allowed registry ({parse_image(image.strip()).registry} is not in allowedRegistries)"
    return None


RULE = Rule(
    id="PAVED-SEC-021",
    name="allowed-registries",
    description="Checks whether every container image comes from a registry on the allowedRegistries list (the "
    "platform's own ECR, public.ecr.aws and the upstream repositories of the platform's pinned charts by default).",
    severity="high",
    remediation="Push the image to the platform's ECR (or mirror it there) and reference it from there; add a "
    "registry to allowedRegistries in policies/config/<env>.json only after review.",
    anchors=("CIS EKS 5.1.4", "Kyverno restrict-image-registries", "Gatekeeper K8sAllowedRepos"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
    config={
        "allowedRegistries": {
            "type": "array", "items": {"type": "string"}, "default": DEFAULT_REGISTRIES,
            "description": "Registry patterns images may come from: a registry host or host/path prefix; '*' "
            "matches one DNS label or path segment (e.g. '*.dkr.ecr.*.amazonaws.com'). A list here replaces "
            "the default, which holds the platform charts' repositories: keep them.",
        }
    },
)
