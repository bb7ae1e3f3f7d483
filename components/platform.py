"""Platform: the top-level component that turns an effective catalog into resources."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import ingress
from components.addons import aws_load_balancer_controller
from components.addons import AddOnContext, ClusterAccess
from components.addons.cluster_autoscaler import NAMESPACE as AUTOSCALER_NAMESPACE
from components.addons.cluster_autoscaler import ClusterAutoscaler
from components.addons.metrics_server import NAMESPACE as METRICS_SERVER_NAMESPACE
from components.addons.metrics_server import MetricsServer
from components.cluster import EksCluster, EksClusterArgs
from components.data import service_data
from components.identity import ServiceIdentity, ServiceIdentityArgs
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.monitoring import ServiceObservability, ServiceObservabilityArgs
from components.namespace import TeamNamespace, TeamNamespaceArgs
from components.network import Network, NetworkArgs
from components.observability import ObservabilityStack, ObservabilityStackArgs
from components.renames import former_aliases
from components.runner import DeployRunner, DeployRunnerArgs
from components.secrets import SecretStore, SecretStoreArgs, team_tags
from components.service import (
    AwsWiring,
    Microservice,
    MicroserviceArgs,
    Peer,
    uses_kafka,
)
from paved.catalog import Catalog
from paved.stack import StackSettings


@dataclass(frozen=True)
class PlatformArgs:
    """The catalog, already resolved for the stack's environment, and the stack's settings."""

    catalog: Catalog
    settings: StackSettings


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
    """Network, cluster, Kafka, secrets, and every team namespace and service of the catalog."""

    namespaces: pulumi.Output[dict]
    services: pulumi.Output[dict]
    cluster_name: pulumi.Output[str]
    kafka_bootstrap: pulumi.Output[str] | None

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:platform:Platform", name, None, opts)
        catalog, s = args.catalog, args.settings
        if catalog.environment != s.environment:
            raise ValueError(
                f"PlatformArgs.catalog is resolved for {catalog.environment!r}, "
                f"but the stack is {s.environment!r}; use catalog.for_environment()"
            )
        provider = aws.Provider(f"{name}-aws", aws.ProviderArgs(
            region=s.aws_region, default_tags=aws.ProviderDefaultTagsArgs(tags=default_tags(s))),
            opts=pulumi.ResourceOptions(parent=self))
        with_aws = pulumi.ResourceOptions(parent=self, providers={"aws": provider})
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=provider))
        # The runner, the load balancer controller and the autoscaler build ARNs in it.
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)).partition

        public = [svc for svc in catalog.services if svc.public is not None]
        network = Network(f"{name}-network", NetworkArgs(
            settings=s.network, cluster_name=s.cluster_name, environment=s.environment, region=s.aws_region,
            extra_endpoints=aws_load_balancer_controller.ENDPOINTS if public else ()), opts=with_aws)
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
        topics = tuple((t, svc.name, svc.team) for svc in catalog.services for t in svc.kafka.produces)
        if any(uses_kafka(svc) for svc in catalog.services):
            kafka = KafkaCluster(f"{name}-kafka", KafkaClusterArgs(
                name=f"paved-{s.environment}", settings=s.kafka, brokers=s.kafka_brokers,
                subnet_ids=network.private_subnet_ids, vpc_id=network.vpc_id,
                client_security_group_id=cluster.node_security_group_id, topics=topics,
                kms_deletion_window_days=s.kms_deletion_window_days), opts=with_aws)

        namespaces = {
            team.name: TeamNamespace(team.name, TeamNamespaceArgs(team=team, settings=s), opts=with_both)
            for team in catalog.teams
        }
        # Always: External Secrets also generates Grafana's admin password in the cluster.
        store = SecretStore(f"{name}-secrets", SecretStoreArgs(
            catalog=catalog, settings=s, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
            account_id=caller.account_id, oidc_provider_arn=cluster.oidc_provider_arn,
            oidc_issuer=cluster.oidc_issuer, namespaces=dict(namespaces)), opts=with_both)
        observability = ObservabilityStack(f"{name}-observability", ObservabilityStackArgs(
            settings=s, secret_store=store.operator, kafka_bootstrap=kafka.bootstrap_brokers if kafka else None,
            storage_class=cluster.storage_class, storage_class_resource=cluster.storage_class_resource,
            teams=catalog.teams, alerts_role_arn=store.alerts_role_arn,
            alerts_policy=store.alerts_policy), opts=with_both)

        load_balancer = None
        if public:
            load_balancer = ingress.LoadBalancerController(f"{name}-load-balancer", ingress.LoadBalancerControllerArgs(
                settings=s, cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
                account_id=caller.account_id, partition=partition, vpc_id=network.vpc_id,
                cluster_security_group_id=cluster.node_security_group_id,
                oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer), opts=with_both)

        # The resource metrics API that the services' HPAs read.
        both = {"aws": provider, "kubernetes": cluster.provider}
        MetricsServer().deploy(AddOnContext(prefix=name, namespace=METRICS_SERVER_NAMESPACE, settings=s, parent=self,
                                            providers=both))
        if s.cluster.mode == "create":  # paved's node groups: it scales them between minSize and maxSize
            ClusterAutoscaler(
                cluster=ClusterAccess(cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
                                      account_id=caller.account_id, oidc_provider_arn=cluster.oidc_provider_arn,
                                      oidc_issuer=cluster.oidc_issuer),
                partition=partition,
            ).deploy(AddOnContext(prefix=name, namespace=AUTOSCALER_NAMESPACE, settings=s, parent=self, providers=both))

        services = {}
        for svc in catalog.services:
            team = catalog.team(svc.team)
            data = service_data(svc, team, s, network, cluster, caller.account_id, partition, team_tags(catalog, svc.name),
                                with_aws)
            identity = ServiceIdentity(f"{svc.name}-identity", ServiceIdentityArgs(
                service=svc.name, namespace=team.namespace_name, mode=s.cluster.identity,
                cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn, account_id=caller.account_id,
                region=s.aws_region, tags=team_tags(catalog, svc.name),
                secret_arns=store.secret_arns.get(svc.name, []),
                secrets_key_arn=store.key_arn if svc.secrets else None,
                kafka_cluster_arn=kafka.cluster_arn if kafka else None,
                produces=tuple(t.name for t in svc.kafka.produces), consumes=svc.kafka.consumes,
                oidc_provider_arn=cluster.oidc_provider_arn, oidc_issuer=cluster.oidc_issuer,
                owner_service=svc.name, owner_team=svc.team, former_names=svc.former_names,
                extra_statements=data.statements if data else None),
                opts=pulumi.ResourceOptions.merge(with_aws, pulumi.ResourceOptions(aliases=former_aliases(svc, "identity"))))
            callers, callees = peers(catalog, svc.name)
            wiring = AwsWiring(
                vpc_cidr=s.network.cidr, identity_mode=s.cluster.identity, role_arn=identity.role_arn,
                kafka_bootstrap=kafka.bootstrap_brokers if kafka else None,
                secret_store=store.team_stores.get(svc.team), secret_pushes=tuple(store.pushes.get(svc.name, ())),
                load_balancer=load_balancer, data=data.wiring if data else None)
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
                                     depends_on=[namespaces[svc.team], observability], aliases=former_aliases(svc))))

        self.namespaces = pulumi.Output.all(**{t: ns.namespace_name for t, ns in namespaces.items()})
        self.services = pulumi.Output.all(**{n: m.service_dns for n, m in services.items()})
        self.cluster_name = cluster.cluster_name
        self.kafka_bootstrap = kafka.bootstrap_brokers if kafka else None
        self.register_outputs({"namespaces": self.namespaces, "services": self.services,
                               "cluster_name": self.cluster_name, "kafka_bootstrap": self.kafka_bootstrap})
