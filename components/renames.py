"""Rename safety: a service's ``formerNames`` become Pulumi aliases on its resources."""

from __future__ import annotations

import pulumi

from paved.model import Service


def former_aliases(service: Service, role: str | None = None, prefix: str = "",
                   within: str | None = None) -> list[pulumi.Alias]:
    """Aliases to the logical names a resource had under the service's former names.

    A resource named ``f"{prefix}{service.name}-{role}"`` was ``f"{prefix}{old}-{role}"``;
    with the alias Pulumi updates it in place instead of deleting and recreating it.

    ``within`` is the name of the component whose child ``f"{within}-{role}"`` the resource is,
    when that name starts with the service's name (``f"{service.name}<tail>"``, the child was
    ``f"{old}<tail>-{role}"``); a component named otherwise gives no aliases.
    """
    tail = ""
    if within is not None:
        if not within.startswith(service.name):
            return []
        tail = within[len(service.name):]
    suffix = f"{tail}-{role}" if role else tail
    return [pulumi.Alias(name=f"{prefix}{old}{suffix}") for old in service.former_names]
