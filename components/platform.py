"""Platform: the top-level component that turns an effective catalog into resources."""

from __future__ import annotations

import os
import types
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import ingress
from components.addons import aws_load_balancer_controller
from components.addons import AddOnContext, ClusterAccess
from components.addons.cluster_autoscaler import NAMESPACE as AUTOSCALER_NAMESPACE
from components.addons.cluster_autoscaler import ClusterAutoscaler
from components.addons.keda import NAMESPACE as KEDA_NAMESPACE
from components.addons.keda import Keda
from components.addons.argo_rollouts import NAMESPACE as ROLLOUTS_NAMESPACE
from components.addons.argo_rollouts import ArgoRollouts
from components.addons.metrics_server import NAMESPACE as METRICS_SERVER_NAMESPACE
from components.addons.metrics_server import MetricsServer
from components.cluster import ClusterReference, EksCluster, EksClusterArgs
from components.data import service_data
from components.identity import ServiceIdentity, ServiceIdentityArgs
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.logs import ENDPOINTS as LOGS_ENDPOINTS
from components.logs import CentralLogs, CentralLogsArgs
from components.monitoring import ServiceObservability, ServiceObservabilityArgs
from components.namespace import TeamNamespace, TeamNamespaceArgs
from components.network import Network, NetworkArgs
from components.observability import GRAFANA_CLOUDWATCH_ENDPOINTS, ObservabilityStack, ObservabilityStackArgs
from components.renames import former_aliases
from components.runner import DeployRunner, DeployRunnerArgs
from components.secrets import SecretsReference, SecretStore, SecretStoreArgs, team_tags
from components.waf import EdgeFirewall, EdgeFirewallArgs
from components.service import (
    AwsWiring,
    Microservice,
    MicroserviceArgs,
    Peer,
    uses_kafka,
)
from paved.catalog import Catalog
from paved.layers import Layer, PlatformFacts, team_catalog
from paved.stack import StackSettings

PROJECT = "paved"  # Pulumi.yaml's name


@dataclass(frozen=True)
class PlatformArgs:
    """The catalog, already resolved for the stack's environment, the stack's settings, and the
    layer this stack holds (paved.layers: everything, the platform, or one team)."""

    catalog: Catalog
    settings: StackSettings
    layer: Layer | None = None  # None: the whole environment in one stack

def default_tags(settings: StackSettings) -> dict[str, str]:
    """Tags the AWS provider puts on every taggable resource; team resources override owner and cost-center."""
    return {
        "managed-by": "paved",
        "environment": settings.environment,
        "owner": settings.platform_owner,
        "cost-center": settings.platform_cost_center,
    }


def peers(catalog: Catalog, service: str) -> tuple[tuple[Peer, ...], tuple[Peer, ...]]:
    """(callers, callees) of ``service`` as network peers."""

    def peer(name: str) -> Peer:
        svc = catalog.service(name)
        return Peer(namespace=catalog.team(svc.team).namespace_name, name=svc.name, port=svc.port)

    callers = tuple(peer(s.name) for s in catalog.callers_of(service))
    callees = tuple(peer(name) for name in catalog.service(service).calls)
    return callers, callees


class Platform(pulumi.ComponentResource):
    """Network, cluster, Kafka, secrets, and every team namespace and service of the catalog.

    One component for every layer: the platform part reads only the catalog's
    :class:`~paved.layers.PlatformFacts`; the team part, per team, only that team's entries and
    their peers (:func:`~paved.layers.team_catalog`). A team stack reads what it needs of the
    platform from the platform stack's outputs (a ``StackReference``), under the same component
    names, so every resource keeps its URN when ``paved migrate-layout`` moves it.
    """

    namespaces: pulumi.Output[dict]
    services: pulumi.Output[dict]
    cluster_name: pulumi.Output[str]
    kafka_bootstrap: pulumi.Output[str] | None

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:platform:Platform", name, None, opts)
        catalog, s = args.catalog, args.settings
        layer = args.layer or Layer("single", s.environment)
        if catalog.environment != s.environment:
            raise ValueError(
                f"PlatformArgs.catalog is resolved for {catalog.environment!r}, "
                f"but the stack is {s.environment!r}; use catalog.for_environment()"
            )
        provider = aws.Provider(f"{name}-aws", aws.ProviderArgs(
            region=s.aws_region, default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(s))),
            opts=pulumi.ResourceOptions(parent=self))
        self._with_aws = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        self._caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=provider))
        # The runner, the load balancer controller and the autoscaler build ARNs in it.
        self._partition = aws.get_partition_output(
            opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)).partition
        self._aws = provider
        teams = [t.name for t in catalog.teams if layer.has_team(t.name)]
        if layer.has_platform:
            shared = self._platform(name, PlatformFacts.of(catalog), s, teams_catalog=catalog if teams else None)
        else:
            shared = self._reference(name, s, layer)
        self._teams(name, catalog if layer.kind == "single" else team_catalog(catalog, layer.team),
                    s, shared, teams)

        self.shared = shared
        self.cluster_name = shared.cluster.cluster_name
        self.kafka_bootstrap = shared.kafka.bootstrap_brokers if shared.kafka else None
        self.register_outputs({"namespaces": self.namespaces, "services": self.services,
                               "cluster_name": self.cluster_name, "kafka_bootstrap": self.kafka_bootstrap})

    def _platform(self, name: str, facts: PlatformFacts, s: StackSettings,
                  teams_catalog: Catalog | None) -> "_Shared":
        """Network, cluster, Kafka, the secrets key and operators, observability, the controllers."""
        with_aws, caller, partition, provider = self._with_aws, self._caller, self._partition, self._aws
        network = Network(f"{name}-network", NetworkArgs(
            settings=s.network, cluster_name=s.cluster_name, environment=s.environment, region=s.aws_region,
            extra_endpoints=(*(aws_load_balancer_controller.ENDPOINTS if facts.public else ()),
                             *(LOGS_ENDPOINTS if s.logs else ()),
                             *(GRAFANA_CLOUDWATCH_ENDPOINTS if facts.data else ())),
            dynamodb=facts.tables), opts=with_aws)
        cluster = EksCluster(f"{name}-cluster", EksClusterArgs(
            name=s.cluster_name, kubernetes_version=s.kubernetes_version, settings=s.cluster,
            subnet_ids=network.private_subnet_ids, region=s.aws_region,
            kms_deletion_window_days=s.kms_deletion_window_days, account_id=caller.account_id), opts=with_aws)
        with_both = pulumi.ResourceOptions(parent=self, providers={"aws": provider, "kubernetes": cluster.provider})
        if s.cluster.deploy_runner is not None:
            DeployRunner(f"{name}-deploy-runner", DeployRunnerArgs(
                settings=s.cluster.deploy_runner, environment=s.environment, region=s.aws_region,
                account_id=caller.account_id,
                partition=partition,
                vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
                log_retention_days=s.cluster.log_retention_days), opts=with_aws)

        kafka = None
        if facts.kafka:
            kafka = KafkaCluster(f"{name}-kafka", KafkaClusterArgs(
                name=f"paved-{s.environment}", settings=s.kafka, brokers=s.kafka_brokers,
                subnet_ids=network.private_subnet_ids, vpc_id=network.vpc_id,
                client_security_group_id=cluster.node_security_group_id, topics=(),
                kms_deletion_window_days=s.kms_deletion_window_days), opts=with_aws)

        # Always: External Secrets also generates Grafana's admin password in the cluster.
        store = SecretStore(f"{name}-secrets", SecretStoreArgs(
            catalog=Catalog(file="", teams=facts.teams, services=(), environment=s.environment),
            settings=s, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
            account_id=caller.account_id, oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer, facts=facts), opts=with_both)
        # Where the add-ons' own roles are bound.
        access = ClusterAccess(cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
                               account_id=caller.account_id, oidc_provider_arn=cluster.oidc_provider_arn,
                               oidc_issuer=cluster.oidc_issuer)
        observability = ObservabilityStack(f"{name}-observability", ObservabilityStackArgs(
            settings=s, secret_store=store.operator, kafka_bootstrap=kafka.bootstrap_brokers if kafka else None,
            storage_class=cluster.storage_class, storage_class_resource=cluster.storage_class_resource,
            teams=facts.teams, alerts_role_arn=store.alerts_role_arn,
            alerts_policy=store.alerts_policy, cloudwatch=access if facts.data else None,
            partition=partition), opts=with_both)

        load_balancer = None
        firewall = None
        if facts.public:
            firewall = EdgeFirewall(f"{name}-edge", EdgeFirewallArgs(settings=s, services=facts.edge), opts=with_aws)
            load_balancer = ingress.LoadBalancerController(f"{name}-load-balancer", ingress.LoadBalancerControllerArgs(
                settings=s, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
                account_id=caller.account_id, partition=partition, vpc_id=network.vpc_id,
                cluster_security_group_id=cluster.node_security_group_id,
                oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
                web_acl_arn=firewall.web_acl_arn), opts=with_both)

        # The resource metrics API that the services' HPAs read.
        both = {"aws": provider, "kubernetes": cluster.provider}
        MetricsServer().deploy(AddOnContext(prefix=name, namespace=METRICS_SERVER_NAMESPACE, settings=s, parent=self,
                                            providers=both))
        if s.cluster.mode == "create":  # paved's node groups: it scales them between minSize and maxSize
            ClusterAutoscaler(
                cluster=access,
                partition=partition,
            ).deploy(AddOnContext(prefix=name, namespace=AUTOSCALER_NAMESPACE, settings=s, parent=self, providers=both))
        if s.logs is not None:
            CentralLogs(f"{name}-logs", CentralLogsArgs(
                settings=s, teams=facts.teams, partition=partition,
                cluster=access), opts=with_both)

        keda = None
        if facts.lag and kafka is not None:
            keda = Keda(cluster=access, kafka_cluster_arn=kafka.cluster_arn,
                        groups=tuple(group for group, _ in facts.lag), topics=tuple(topic for _, topic in facts.lag),
                        ).deploy(AddOnContext(prefix=name, namespace=KEDA_NAMESPACE, settings=s, parent=self, providers=both))
        rollouts = None
        if facts.rollouts:
            rollouts = ArgoRollouts().deploy(AddOnContext(prefix=name, namespace=ROLLOUTS_NAMESPACE, settings=s,
                                                          parent=self, providers=both, depends_on=(observability,)))
        shared = _Shared(cluster=cluster, kafka=kafka, store=store, observability=observability,
                         load_balancer=load_balancer, ingress=facts.public, network=network, keda=keda,
                         rollouts=rollouts, web_acl_arn=firewall.web_acl_arn if firewall else None)
        self.contract = contract_outputs(shared)
        return shared

    def _reference(self, name: str, s: StackSettings, layer: Layer) -> "_Shared":
        """The platform stack's part, read from its outputs; the same component names as there."""
        ref = pulumi.StackReference(f"{name}-platform", platform_stack_reference(layer.environment),
                                    opts=pulumi.ResourceOptions(parent=self))

        def out(key: str) -> pulumi.Output[Any]:
            return ref.get_output(key)

        cluster = EksCluster(f"{name}-cluster", EksClusterArgs(
            name=s.cluster_name, kubernetes_version=s.kubernetes_version, settings=s.cluster, subnet_ids=[],
            region=s.aws_region, kms_deletion_window_days=s.kms_deletion_window_days,
            account_id=self._caller.account_id,
            reference=ClusterReference(
                name=out("clusterName"), arn=out("clusterArn"), endpoint=out("clusterEndpoint"),
                certificate_authority=out("clusterCertificateAuthority"), oidc_issuer=out("oidcIssuer"),
                oidc_provider_arn=out("oidcProviderArn") if s.cluster.identity == "irsa" else None,
                node_security_group_id=out("nodeSecurityGroupId"))), opts=self._with_aws)
        with_both = pulumi.ResourceOptions(parent=self, providers={"aws": self._aws, "kubernetes": cluster.provider})
        store_ref = SecretsReference(key_arn=out("secretsKeyArn"), eso_role_arn=out("externalSecretsRoleArn"),
                                     eso_role_name=out("externalSecretsRoleName"))
        return _Shared(cluster=cluster, kafka=None, store=None, observability=None, load_balancer=None,
                       ingress=None, network=None, reference=ref, store_reference=store_ref, with_both=with_both,
                       kafka_arn=out("kafkaClusterArn"), kafka_bootstrap=out("kafkaBootstrapBrokers"),
                       web_acl_arn=out("webAclArn"))

    def _teams(self, name: str, catalog: Catalog, s: StackSettings, shared: "_Shared", teams: list[str]) -> None:
        """Per team: its namespace, secrets, topics, and each service with its identity and monitors."""
        with_aws, caller, provider = self._with_aws, self._caller, self._aws
        cluster = shared.cluster
        with_both = shared.with_both or pulumi.ResourceOptions(
            parent=self, providers={"aws": provider, "kubernetes": cluster.provider})
        in_teams = [svc for svc in catalog.services if svc.team in teams]
        namespaces = {
            team.name: TeamNamespace(team.name, TeamNamespaceArgs(team=team, settings=s), opts=with_both)
            for team in catalog.teams if team.name in teams
        }
        if shared.store is not None:
            store = shared.store
            store_args = SecretStoreArgs(catalog=catalog, settings=s, cluster_name=cluster.cluster_name,
                                         cluster_arn=cluster.cluster_arn, account_id=caller.account_id,
                                         namespaces=dict(namespaces))
            for team in teams:
                store.add_team(f"{name}-secrets", store_args, team)
        else:
            store = SecretStore(f"{name}-secrets", SecretStoreArgs(
                catalog=catalog, settings=s, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
                account_id=caller.account_id, namespaces=dict(namespaces), teams=tuple(teams),
                reference=shared.store_reference), opts=with_both)
        topics = tuple((t, svc.name, svc.team) for svc in in_teams for t in svc.kafka.produces)
        kafka_arn, kafka_bootstrap = None, None
        if shared.kafka is not None:
            kafka_arn, kafka_bootstrap = shared.kafka.cluster_arn, shared.kafka.bootstrap_brokers
            if topics:
                shared.kafka.add_topics(f"{name}-kafka", topics)
        elif shared.reference is not None and any(uses_kafka(svc) for svc in in_teams):
            kafka_arn, kafka_bootstrap = shared.kafka_arn, shared.kafka_bootstrap
            KafkaCluster(f"{name}-kafka", KafkaClusterArgs(
                name=f"paved-{s.environment}", settings=s.kafka, brokers=s.kafka_brokers, subnet_ids=[], vpc_id="",
                client_security_group_id="", topics=topics, kms_deletion_window_days=s.kms_deletion_window_days,
                cluster_arn=kafka_arn, bootstrap_brokers=kafka_bootstrap), opts=with_aws)

        services = {}
        for svc in in_teams:
            team = catalog.team(svc.team)
            data = service_data(svc, team, s, shared.net, cluster, caller.account_id, self._partition,
                                team_tags(catalog, svc.name), with_aws)
            identity = ServiceIdentity(f"{svc.name}-identity", ServiceIdentityArgs(
                service=svc.name, namespace=team.namespace_name, mode=s.cluster.identity,
                cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn, account_id=caller.account_id,
                region=s.aws_region, tags=team_tags(catalog, svc.name),
                secret_arns=store.secret_arns.get(svc.name, []),
                secrets_key_arn=store.key_arn if svc.secrets else None,
                kafka_cluster_arn=kafka_arn if uses_kafka(svc) else None,
                produces=tuple(t.name for t in svc.kafka.produces), consumes=svc.kafka.consumes,
                oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
                owner_service=svc.name, owner_team=svc.team, former_names=svc.former_names,
                extra_statements=data.statements if data else None),
                opts=pulumi.ResourceOptions.merge(with_aws, pulumi.ResourceOptions(aliases=former_aliases(svc, "identity"))))
            grant = None
            if data is not None and data.wiring.master_secret_arn is not None and svc.team in store.team_roles:
                grant = store.grant_database_master(f"{name}-secrets", svc, data.wiring.master_secret_arn,
                                                    data.wiring.key_arn, s.aws_region)
            callers, callees = peers(catalog, svc.name)
            wiring = AwsWiring(
                vpc_cidr=s.network.cidr, identity_mode=s.cluster.identity, role_arn=identity.role_arn,
                kafka_bootstrap=kafka_bootstrap if uses_kafka(svc) else None,
                secret_store=store.team_stores.get(svc.team), secret_pushes=tuple(store.pushes.get(svc.name, ())),
                load_balancer=shared.load_balancer, keda=shared.keda, region=s.aws_region,
                lower_layer=shared.reference is not None, rollouts_controller=shared.rollouts,
                web_acl_arn=shared.web_acl_arn, data=data.wiring if data else None, master_secret_grant=grant)
            services[svc.name] = Microservice(
                svc.name,
                MicroserviceArgs(service=svc, team=team, settings=s, callers=callers, callees=callees, aws=wiring),
                opts=pulumi.ResourceOptions.merge(with_both, pulumi.ResourceOptions(
                    # Pods start with their AWS credentials only if the Pod Identity association
                    # (or IRSA role) exists when they are created: the webhook acts at pod creation.
                    depends_on=[namespaces[svc.team], identity], aliases=former_aliases(svc))),
            )
            ServiceObservability(svc.name, ServiceObservabilityArgs(service=svc, team=team, settings=s),
                                 opts=pulumi.ResourceOptions.merge(with_both, pulumi.ResourceOptions(
                                     depends_on=[namespaces[svc.team],
                                                 *([shared.observability] if shared.observability else [])],
                                     aliases=former_aliases(svc))))

        self.namespaces = pulumi.Output.all(**{t: ns.namespace_name for t, ns in namespaces.items()})
        self.services = pulumi.Output.all(**{n: m.service_dns for n, m in services.items()})


@dataclass
class _Shared:
    """What the team part uses of the platform part: its components (same stack) or the
    platform stack's outputs (a team stack)."""

    cluster: EksCluster
    kafka: KafkaCluster | None
    store: SecretStore | None
    observability: ObservabilityStack | None
    load_balancer: pulumi.Resource | None
    ingress: bool | None
    network: Network | None
    reference: pulumi.StackReference | None = None
    store_reference: SecretsReference | None = None
    with_both: pulumi.ResourceOptions | None = None
    kafka_arn: pulumi.Output[str] | None = None
    kafka_bootstrap: pulumi.Output[str] | None = None
    keda: pulumi.Resource | None = None
    rollouts: pulumi.Resource | None = None
    web_acl_arn: pulumi.Output[str] | None = None

    @property
    def net(self) -> Any:
        """Where a service's datastores go: the VPC, its private subnets, the DynamoDB endpoint's name."""
        if self.network is not None:
            return self.network
        return types.SimpleNamespace(vpc_id=self.reference.get_output("vpcId"),
                                     private_subnet_ids=self.reference.get_output("privateSubnetIds"),
                                     dynamodb_endpoint_dns=self.reference.get_output("dynamodbEndpointDnsName"))


def platform_stack_reference(environment: str) -> str:
    """The platform stack's name for ``pulumi.StackReference``: ``ORG/paved/ENV``.

    The organization comes from ``PAVED_PULUMI_ORG`` (the deploy workflow sets it), else the
    project-relative form ``ENV``, which the Pulumi CLI resolves in the current organization.
    """
    org = os.environ.get("PAVED_PULUMI_ORG")
    return f"{org}/{PROJECT}/{environment}" if org else environment


def contract_outputs(shared: _Shared) -> dict[str, Any]:
    """The platform stack's exports for its team stacks (paved.layers.CONTRACT, in that order)."""
    c, net = shared.cluster, shared.network
    values = {
        "clusterName": c.cluster_name, "clusterArn": c.cluster_arn, "clusterEndpoint": c.endpoint,
        "clusterCertificateAuthority": c.certificate_authority, "oidcIssuer": c.oidc_issuer,
        "oidcProviderArn": c.oidc_provider_arn, "nodeSecurityGroupId": c.node_security_group_id,
        "vpcId": net.vpc_id, "privateSubnetIds": net.private_subnet_ids,
        "kafkaClusterArn": shared.kafka.cluster_arn if shared.kafka else None,
        "kafkaBootstrapBrokers": shared.kafka.bootstrap_brokers if shared.kafka else None,
        "secretsKeyArn": shared.store.key_arn, "externalSecretsRoleArn": shared.store.eso_role_arn,
        "externalSecretsRoleName": shared.store.eso_role_name, "ingressController": bool(shared.ingress),
        "webAclArn": shared.web_acl_arn,
        "dynamodbEndpointDnsName": net.dynamodb_endpoint_dns,
    }
    return values
