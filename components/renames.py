"""Rename safety: a service's ``formerNames`` become Pulumi aliases on its resources."""

from __future__ import annotations

import pulumi

from paved.model import Service


def former_aliases(service: Service, role: str | None = None, prefix: str = "") -> list[pulumi.Alias]:
    """Aliases to the logical names a resource had under the service's former names.

    A resource named ``f"{prefix}{service.name}-{role}"`` was ``f"{prefix}{old}-{role}"``;
    with the alias Pulumi updates it in place instead of deleting and recreating it.
    """
    suffix = f"-{role}" if role else ""
    return [pulumi.Alias(name=f"{prefix}{old}{suffix}") for old in service.former_names]
