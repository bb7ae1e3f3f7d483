"""Stacks per layer: an environment is a platform stack plus one stack per team.

``prod`` is the platform stack (network, cluster, Kafka, shared keys, operators, observability)
and ``prod.checkout`` the checkout team's (namespace, services, identities, topics, secrets,
monitors). Team stacks read the platform's outputs through ``pulumi.StackReference``, against
the contract in :data:`CONTRACT`. An environment whose stack file says ``paved:layout: single``
keeps everything in one stack (``paved migrate-layout`` moves it to the layered layout).

Bottom layer: no Pulumi resources, imported by components/ and by the engine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from paved.catalog import Catalog
from paved.model import Service
from paved.errors import PavedError, UsageError

SEPARATOR = "."  # prod.checkout: Pulumi allows periods in stack names
LAYOUTS = ("single", "layered")

# What the platform stack exports for its team stacks: output name → what it is. Documented in
# docs/layers.md; tests/test_layers.py keeps the two equal and checks the platform exports each.
CONTRACT: dict[str, str] = {
    "environment": "the environment name (dev, staging, prod)",
    "clusterName": "EKS cluster name",
    "clusterArn": "EKS cluster ARN (Pod Identity associations name it)",
    "clusterEndpoint": "EKS API endpoint (team stacks build their Kubernetes provider from it)",
    "clusterCertificateAuthority": "the cluster CA, base64 (for the provider's kubeconfig)",
    "oidcIssuer": "the cluster's OIDC issuer URL (IRSA trust policies)",
    "oidcProviderArn": "the IAM OIDC provider ARN, or null with EKS Pod Identity",
    "nodeSecurityGroupId": "the cluster security group the nodes (and pods) use",
    "vpcId": "VPC id",
    "privateSubnetIds": "private subnet ids",
    "kafkaClusterArn": "MSK cluster ARN, or null when no service uses Kafka",
    "kafkaBootstrapBrokers": "MSK bootstrap brokers (SASL/IAM over TLS), or null",
    "secretsKeyArn": "the customer-managed KMS key of the environment's Secrets Manager secrets",
    "externalSecretsRoleArn": "the External Secrets controller's IAM role (team roles trust it)",
    "externalSecretsRoleName": "its name (team stacks let it assume their roles)",
    "ingressController": "true when the AWS Load Balancer Controller is installed (public services)",
    "webAclArn": "the environment's WAFv2 web ACL that public Ingresses name, or null",
    "dynamodbEndpointDnsName": "the DynamoDB interface endpoint's DNS name (services with tables reach DynamoDB "
                               "through it), or empty when no service declares tables or the VPC is an existing one",
}


class LayerError(PavedError):
    """A stack name or layer request that does not fit the environment."""


@dataclass(frozen=True)
class Layer:
    """Which part of an environment one stack holds.

    ``kind`` is ``single`` (everything, today's layout), ``platform`` or ``team``; ``team`` is the
    team's name for a team stack.
    """

    kind: str
    environment: str
    team: str | None = None

    @property
    def stack(self) -> str:
        """The Pulumi stack name of this layer."""
        return f"{self.environment}{SEPARATOR}{self.team}" if self.kind == "team" else self.environment

    @property
    def has_platform(self) -> bool:
        return self.kind in ("single", "platform")

    def has_team(self, team: str) -> bool:
        return self.kind == "single" or (self.kind == "team" and self.team == team)


def stack_of_urn(urn: str) -> str:
    """The stack part of a URN (``urn:pulumi:STACK::PROJECT::...``)."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


def deployed_before(lower: str, upper: str) -> bool:
    """Whether stack ``lower`` is always deployed before stack ``upper``: an environment's platform
    stack (``prod``) comes before its team stacks (``prod.checkout``), which the deploy workflow
    runs only once the platform stack's update has succeeded."""
    return upper.startswith(lower + SEPARATOR) and SEPARATOR not in lower


_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def split_stack(stack: str) -> tuple[str, str | None]:
    """``prod.checkout`` → (``prod``, ``checkout``); ``prod`` → (``prod``, None).

    UsageError unless both parts are stack names (DNS labels, at most 63 characters), so that a
    name given on the command line cannot lead out of ``stacks/`` or ``policies/config/``."""
    parts = stack.split(SEPARATOR) if isinstance(stack, str) else [""]
    if len(parts) > 2 or not all(len(p) <= 63 and _LABEL.fullmatch(p) for p in parts):
        raise UsageError(f"{stack!r} is not a stack name: ENV, or ENV{SEPARATOR}TEAM for a team stack (for example "
                         "prod.checkout), each lowercase letters, digits and '-', at most 63 characters")
    return parts[0], (parts[1] if len(parts) == 2 else None)


def layer_of(stack: str, layout: str, catalog: Catalog | None = None) -> Layer:
    """The layer a stack name denotes under the environment's layout; a team must exist."""
    env, team = split_stack(stack)
    if team is None:
        return Layer("single" if layout == "single" else "platform", env)
    if layout == "single":
        raise LayerError(f"stack {stack!r}: environment {env!r} has paved:layout single, so it has no team "
                         f"stacks (set paved:layout: layered, after `paved migrate-layout --stack {env}`)")
    if catalog is not None and team not in {t.name for t in catalog.teams}:
        known = ", ".join(t.name for t in catalog.teams)
        raise LayerError(f"stack {stack!r}: the catalog has no team {team!r} (teams: {known})")
    return Layer("team", env, team)


def layers(environment: str, layout: str, catalog: Catalog) -> list[Layer]:
    """Every stack of an environment: the platform first, then one per team (catalog order)."""
    if layout == "single":
        return [Layer("single", environment)]
    return [Layer("platform", environment)] + [Layer("team", environment, t.name) for t in catalog.teams]


@dataclass(frozen=True)
class PublicEntry:
    """What the platform's web ACL reads of a public service: its name and its ``public`` block."""

    name: str
    public: Any


@dataclass(frozen=True)
class PlatformFacts:
    """All the platform layer reads of the catalog: what it installs depends on these only.

    A change to a service that leaves these equal cannot change the platform stack, which is
    what lets ``paved diff`` reuse the platform's plan (the cache key includes them).
    """

    teams: tuple[Any, ...]  # the catalog's Team entries (Alertmanager routes by team)
    public: bool  # some service is public: the load balancer controller and its endpoints
    kafka: bool  # some service produces or consumes: the MSK cluster
    rotation: bool  # some managed secret rotates: the rotation role's grant on the secrets key
    lag: tuple[tuple[str, str], ...] = ()  # (consumer group, topic) of each service scaled on Kafka lag: KEDA
    edge: tuple["PublicEntry", ...] = ()  # each public service's name and `public` block: the WAF's rules
    rollouts: bool = False  # some service has `rollout`: the Argo Rollouts controller
    data: bool = False  # some service has `data`: Grafana's CloudWatch data source, role and endpoint
    tables: bool = False  # some service declares DynamoDB tables: the DynamoDB interface endpoint

    @classmethod
    def of(cls, catalog: Catalog) -> "PlatformFacts":
        services = catalog.services
        return cls(
            teams=tuple(catalog.teams),
            public=any(s.public is not None for s in services),
            kafka=any(s.kafka.produces or s.kafka.consumes for s in services),
            rotation=any(sec.rotation == "managed" for s in services for sec in s.secrets),
            # The group is the service's name (KAFKA_CONSUMER_GROUP, components/service.py).
            lag=tuple((s.name, s.scaling.lag.topic) for s in services if s.scaling.lag is not None),
            edge=tuple(PublicEntry(s.name, s.public) for s in services if s.public is not None),
            rollouts=any(s.rollout is not None for s in services),
            data=any(s.data is not None and not s.data.empty for s in services),
            tables=any(s.data is not None and bool(s.data.tables) for s in services),
        )

    def digest(self) -> str:
        """A stable hash of the facts (part of the platform plan's cache key)."""
        body = {"teams": [t.model_dump(mode="json") for t in self.teams], "public": self.public,
                "kafka": self.kafka, "rotation": self.rotation, "lag": [list(x) for x in self.lag],
                "edge": [[e.name, e.public.model_dump(mode="json")] for e in self.edge], "rollouts": self.rollouts,
                "data": self.data, "tables": self.tables}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def team_catalog(catalog: Catalog, team: str) -> Catalog:
    """All a team stack reads of the catalog: the team, its services, and the services they call
    or that call them (network policies and dashboards name their peers), with the peers' teams.

    The team layer of the program is given this and nothing more, so its plan depends on these
    entries only: that is what lets ``paved diff`` reuse a team's plan when they are equal.
    """
    own = [s for s in catalog.services if s.team == team]
    names = {s.name for s in own}
    peers: set[str] = set()
    for s in own:
        peers.update(s.calls)
        peers.update(c.name for c in catalog.callers_of(s.name))
    # Catalog order: callers and callees are listed in it (network policy rules keep that order).
    services = [s if s.team == team else peer_entry(s, names)
                for s in catalog.services if s.name in names or s.name in peers]
    teams = {s.team for s in services} | {team}
    return Catalog(file=catalog.file, teams=tuple(t for t in catalog.teams if t.name in teams),
                   services=tuple(services), environment=catalog.environment)


# What a team stack knows of a service of another team that calls or is called by its own:
# where it is on the network. Everything else of the entry is the stub's, so a change to a
# peer's image, resources, secrets or data (most pull requests) leaves the team stack's
# inputs, and so its key and plan, unchanged. The single-stack comparison in
# tests/test_layers.py shows that no team stack reads more of a peer than this.
PEER_FIELDS = ("name", "team", "port")


@functools.cache
def _peer_stub() -> Service:
    return Service.model_validate({
        "name": "peer", "team": "peer", "description": "a peer of another team (paved.layers.peer_entry)",
        "image": "paved/peer:stub", "port": 8080,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}},
        "scaling": {"min": 1, "max": 1}})


def peer_entry(service: Service, callees: set[str]) -> Service:
    """``service`` as a team stack whose services are ``callees`` sees it: :data:`PEER_FIELDS`,
    and of its ``calls`` only the calls to those services (they admit it in their policies)."""
    kept = {f: getattr(service, f) for f in PEER_FIELDS}
    kept["calls"] = tuple(c for c in service.calls if c in callees)
    return _peer_stub().model_copy(update=kept)


def catalog_digest(catalog: Catalog) -> str:
    """A stable hash of a (team) catalog's entries."""
    body = {"teams": [t.model_dump(mode="json") for t in catalog.teams],
            "services": [s.model_dump(mode="json") for s in catalog.services]}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
