"""Platform: the top-level component that turns an effective catalog into resources."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.namespace import TeamNamespace, TeamNamespaceArgs
from components.service import Microservice, MicroserviceArgs, Peer
from paved.catalog import Catalog
from paved.stack import StackSettings


@dataclass(frozen=True)
class PlatformArgs:
    """The catalog, already resolved for the stack's environment, and the stack's settings."""

    catalog: Catalog
    settings: StackSettings


def kubernetes_provider_args(settings: StackSettings) -> k8s.ProviderArgs:
    """The one Kubernetes provider: the stack's existing cluster, server-side apply."""
    return k8s.ProviderArgs(context=settings.cluster_name, enable_server_side_apply=True)


def peers(catalog: Catalog, service: str) -> tuple[tuple[Peer, ...], tuple[Peer, ...]]:
    """(callers, callees) of ``service`` as network peers."""

    def peer(name: str) -> Peer:
        svc = catalog.service(name)
        return Peer(namespace=catalog.team(svc.team).namespace_name, name=svc.name, port=svc.port)

    callers = tuple(peer(s.name) for s in catalog.callers_of(service))
    callees = tuple(peer(name) for name in catalog.service(service).calls)
    return callers, callees


class Platform(pulumi.ComponentResource):
    """Every team namespace and service of the catalog on the stack's cluster."""

    namespaces: pulumi.Output[dict]
    services: pulumi.Output[dict]

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:platform:Platform", name, None, opts)
        catalog, settings = args.catalog, args.settings
        if catalog.environment != settings.environment:
            raise ValueError(
                f"PlatformArgs.catalog is resolved for {catalog.environment!r}, "
                f"but the stack is {settings.environment!r}; use catalog.for_environment()"
            )
        provider = k8s.Provider(f"{name}-k8s", kubernetes_provider_args(settings), opts=pulumi.ResourceOptions(parent=self))
        with_k8s = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})

        namespaces = {
            team.name: TeamNamespace(team.name, TeamNamespaceArgs(team=team, settings=settings), opts=with_k8s)
            for team in catalog.teams
        }
        services = {}
        for svc in catalog.services:
            callers, callees = peers(catalog, svc.name)
            services[svc.name] = Microservice(
                svc.name,
                MicroserviceArgs(service=svc, team=catalog.team(svc.team), settings=settings, callers=callers, callees=callees),
                opts=pulumi.ResourceOptions.merge(with_k8s, pulumi.ResourceOptions(depends_on=[namespaces[svc.team]])),
            )

        self.namespaces = pulumi.Output.all(**{t: ns.namespace_name for t, ns in namespaces.items()})
        self.services = pulumi.Output.all(**{s: m.service_dns for s, m in services.items()})
        self.register_outputs({"namespaces": self.namespaces, "services": self.services})
