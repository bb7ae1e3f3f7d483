"""metrics-server: the resource metrics API (metrics.k8s.io) every HorizontalPodAutoscaler
reads. Without it an HPA reports `<unknown>` targets and never scales (PAVED-DEP-003)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext
from components.addons.chart import SMALL_RESOURCES, chart, disruption_budget, operator_replicas, zone_spread
from paved.stack import StackSettings

CHART = "metrics-server"
# Beside the other node-level system components: it reads every kubelet's stats endpoint.
NAMESPACE = "kube-system"


def values(settings: StackSettings, release: str) -> dict:
    """Chart values: small pods, highly available where the stack asks (every HPA goes blind
    while the metrics API is down); the chart's own container security context is already the
    restricted profile (non-root, read-only root, no capabilities, RuntimeDefault seccomp)."""
    return {"resources": SMALL_RESOURCES, "replicas": operator_replicas(settings),
            "podDisruptionBudget": disruption_budget(operator_replicas(settings)),
            "topologySpreadConstraints": zone_spread(settings, {
                "app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": release})}


@dataclass(frozen=True)
class MetricsServer:
    """The add-on; it needs no AWS access and no namespace of its own."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """The chart, in kube-system."""
        release = f"{ctx.prefix}-metrics-server"
        return chart(release, CHART, ctx.namespace, values(ctx.settings, release), ctx.options())
