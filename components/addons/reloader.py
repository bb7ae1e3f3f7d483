"""Reloader: restarts a service's pods when External Secrets updates its Secret."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext
from components.addons.chart import SMALL_RESOURCES, chart, disruption_budget, operator_replicas, zone_spread
from components.namespace import platform_namespace
from components.security import RESTRICTED_CONTAINER
from paved.naming import RELOADER_NAMESPACE
from paved.stack import StackSettings

CHART = "reloader"
NAMESPACE = RELOADER_NAMESPACE


def values(settings: StackSettings, release: str) -> dict:
    """Chart values: watch every namespace (services opt in by annotation), a small pod, and the
    restricted container profile the chart leaves unset (its namespace enforces restricted);
    with more than one replica, leader election on (``enableHA``), or every replica would restart
    the same pods."""
    replicas = operator_replicas(settings)
    return {"reloader": {
        "watchGlobally": True,
        "enableHA": replicas > 1,
        "podDisruptionBudget": disruption_budget(replicas),
        "deployment": {
            "replicas": replicas,
            "resources": SMALL_RESOURCES, "containerSecurityContext": RESTRICTED_CONTAINER,
            "topologySpreadConstraints": zone_spread(settings, {"app": f"{release}-reloader", "release": release}),
        }}}


@dataclass(frozen=True)
class Reloader:
    """The add-on; it needs no AWS access."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace, then the chart."""
        ns = platform_namespace(f"{ctx.prefix}-reloader-ns", ctx.namespace, ctx.settings, ctx.options())
        release = f"{ctx.prefix}-reloader"
        return chart(release, CHART, ctx.namespace, values(ctx.settings, release), ctx.options(ns))
