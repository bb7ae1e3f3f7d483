"""Reloader: restarts a service's pods when External Secrets updates its Secret."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.addons import AddOnContext
from components.addons.chart import SMALL_RESOURCES, chart
from components.namespace import platform_namespace
from components.security import RESTRICTED_CONTAINER
from paved.naming import RELOADER_NAMESPACE

CHART = "reloader"
NAMESPACE = RELOADER_NAMESPACE


def values() -> dict:
    """Chart values: watch every namespace (services opt in by annotation), a small pod, and the
    restricted container profile the chart leaves unset (its namespace enforces restricted)."""
    return {"reloader": {"watchGlobally": True, "deployment": {
        "resources": SMALL_RESOURCES, "containerSecurityContext": RESTRICTED_CONTAINER}}}


@dataclass(frozen=True)
class Reloader:
    """The add-on; it needs no AWS access."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace, then the chart."""
        ns = platform_namespace(f"{ctx.prefix}-reloader-ns", ctx.namespace, ctx.settings, ctx.options())
        return chart(f"{ctx.prefix}-reloader", CHART, ctx.namespace, values(), ctx.options(ns))
