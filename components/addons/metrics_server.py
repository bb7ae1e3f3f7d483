"""metrics-server: the resource metrics API (metrics.k8s.io) every HorizontalPodAutoscaler
reads. Without it an HPA reports `<unknown>` targets and never scales (PAVED-DEP-003)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext
from components.addons.chart import SMALL_RESOURCES, chart

CHART = "metrics-server"
# Beside the other node-level system components: it reads every kubelet's stats endpoint.
NAMESPACE = "kube-system"


def values() -> dict:
    """Chart values: small pods; the chart's own container security context is already the
    restricted profile (non-root, read-only root, no capabilities, RuntimeDefault seccomp)."""
    return {"resources": SMALL_RESOURCES}


@dataclass(frozen=True)
class MetricsServer:
    """The add-on; it needs no AWS access and no namespace of its own."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """The chart, in kube-system."""
        return chart(f"{ctx.prefix}-metrics-server", CHART, ctx.namespace, values(), ctx.options())
