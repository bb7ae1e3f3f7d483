"""Data safety: stateful resources are protected and kept on delete where the stack says so."""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from paved.resources import STATEFUL_TYPES

def protect_stateful(enabled: bool) -> Callable[[pulumi.ResourceTransformationArgs], pulumi.ResourceTransformationResult | None]:
    """A stack transformation marking stateful resources ``protect`` and ``retain_on_delete``."""

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not enabled or args.type_ not in STATEFUL_TYPES:
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        return pulumi.ResourceTransformationResult(args.props, opts)

    return transform
