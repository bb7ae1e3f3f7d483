"""Add-ons: the third-party controllers paved installs, one module per add-on.

After aws-quickstart/cdk-eks-blueprints ``lib/addons/``: each module holds its defaults at
module level, pure builders of its chart values (stack settings merged over the defaults,
tested without Pulumi), and one class with the one method of :class:`AddOn`. The class's
fields are the add-on's props; the component that composes add-ons says where they go with
an :class:`AddOnContext`. Every chart and image version stays in components/versions.py.

An add-on registers its children under ``ctx.parent`` with the names it always had there,
so moving an install into an add-on changes no URN.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import pulumi

from components.identity import ServiceIdentity, ServiceIdentityArgs
from paved.stack import StackSettings


@dataclass(frozen=True)
class AddOnContext:
    """Where an add-on is deployed.

    Children are parented to ``parent`` and named ``f"{prefix}-<role>"``; ``namespace`` is the
    namespace its chart installs into; every child waits for ``depends_on``.
    """

    prefix: str
    namespace: str
    settings: StackSettings
    parent: pulumi.Resource
    depends_on: tuple[pulumi.Resource, ...] = ()
    # Explicit providers, for a parent that does not carry them (children inherit the parent's).
    providers: dict[str, pulumi.ProviderResource] | None = None

    def after(self, *resources: pulumi.Resource) -> AddOnContext:
        """This context, waiting for ``resources`` too."""
        return dataclasses.replace(self, depends_on=(*self.depends_on, *resources))

    def options(self, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        """Options of one child: parented, waiting for the context's resources and ``after``."""
        return pulumi.ResourceOptions(parent=self.parent, depends_on=[*self.depends_on, *after], providers=self.providers)


class AddOn(Protocol):
    """One add-on: a pinned chart and the few resources it needs around it."""

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Register the add-on under ``ctx``; return the resource that others wait for (its chart)."""
        ...


def platform_tags(settings: StackSettings, service: str) -> dict[str, str]:
    """AWS tags of an add-on's own cloud resources: the platform team owns and pays for them."""
    return {"owner": settings.platform_owner, "cost-center": settings.platform_cost_center, "service": service}


@dataclass(frozen=True)
class ClusterAccess:
    """The cluster an add-on's own AWS role is bound in (EKS Pod Identity or IRSA)."""

    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None

    def identity(self, name: str, ctx: AddOnContext, service_account: str, **grants) -> ServiceIdentity:
        """The ServiceIdentity ``name`` of the add-on's ServiceAccount in ``ctx.namespace``; ``grants``
        are :class:`ServiceIdentityArgs` permission fields (``secret_arns``, ``extra_statements``...)."""
        s = ctx.settings
        return ServiceIdentity(name, ServiceIdentityArgs(
            service=service_account, namespace=ctx.namespace, mode=s.cluster.identity,
            cluster_name=self.cluster_name, cluster_arn=self.cluster_arn, account_id=self.account_id,
            region=s.aws_region, tags=platform_tags(s, service_account),
            oidc_provider_arn=self.oidc_provider_arn, oidc_issuer=self.oidc_issuer, **grants), opts=ctx.options())
