"""KafkaCluster: Amazon MSK with TLS, IAM auth, a customer key, and one topic per producer."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.keys import customer_key
from paved.model import Topic
from paved.stack import KafkaSettings

IAM_PORT = 9098  # MSK's port for IAM-authenticated TLS clients
# Open monitoring: the brokers' JMX exporter and node exporter, scraped by Prometheus.
JMX_EXPORTER_PORT = 11001
NODE_EXPORTER_PORT = 11002


@dataclass(frozen=True)
class KafkaClusterArgs:
    """The stack's Kafka settings, where the brokers live, and the catalog's topics."""

    name: str
    settings: KafkaSettings
    brokers: int
    subnet_ids: pulumi.Input[list]
    vpc_id: pulumi.Input[str]
    client_security_group_id: pulumi.Input[str]
    topics: tuple[tuple[Topic, str, str], ...]  # (topic, producing service, its team)
    kms_deletion_window_days: int
    # A team stack's view: the platform stack made this cluster, and only the topics are made here.
    cluster_arn: pulumi.Input[str] | None = None
    bootstrap_brokers: pulumi.Input[str] | None = None


def server_properties(settings: KafkaSettings) -> str:
    """Broker configuration: topics only as declared, replication per stack."""
    props = {
        "auto.create.topics.enable": "false",
        "default.replication.factor": str(settings.replication_factor),
        "min.insync.replicas": str(settings.min_insync_replicas),
        "unclean.leader.election.enable": "false",
        "num.partitions": "3",
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


def topic_configs(topic: Topic) -> str:
    """Per-topic settings from the catalog, as the JSON text ``aws.msk.Topic`` takes."""
    return json.dumps({"retention.ms": str(topic.retention_hours * 3600 * 1000), "cleanup.policy": "delete"})


def cluster_args(a: KafkaClusterArgs, key_arn: pulumi.Input[str], security_group_id: pulumi.Input[str],
                 configuration: aws.msk.Configuration, log_group: pulumi.Input[str]) -> aws.msk.ClusterArgs:
    """The MSK cluster: private, TLS everywhere, IAM client auth only, monitored."""
    s = a.settings
    exporter = aws.msk.ClusterOpenMonitoringPrometheusJmxExporterArgs(enabled_in_broker=True)
    return aws.msk.ClusterArgs(
        cluster_name=a.name,
        kafka_version=s.version,
        number_of_broker_nodes=a.brokers,
        broker_node_group_info=aws.msk.ClusterBrokerNodeGroupInfoArgs(
            instance_type=s.broker_type,
            client_subnets=a.subnet_ids,
            security_groups=[security_group_id],
            storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoArgs(
                ebs_storage_info=aws.msk.ClusterBrokerNodeGroupInfoStorageInfoEbsStorageInfoArgs(volume_size=s.volume_size_gib)),
            connectivity_info=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoArgs(
                public_access=aws.msk.ClusterBrokerNodeGroupInfoConnectivityInfoPublicAccessArgs(type="DISABLED")),
        ),
        encryption_info=aws.msk.ClusterEncryptionInfoArgs(
            encryption_at_rest_kms_key_arn=key_arn,
            encryption_in_transit=aws.msk.ClusterEncryptionInfoEncryptionInTransitArgs(client_broker="TLS", in_cluster=True),
        ),
        client_authentication=aws.msk.ClusterClientAuthenticationArgs(
            sasl=aws.msk.ClusterClientAuthenticationSaslArgs(iam=True, scram=False), unauthenticated=False),
        configuration_info=aws.msk.ClusterConfigurationInfoArgs(arn=configuration.arn, revision=configuration.latest_revision),
        enhanced_monitoring=s.enhanced_monitoring,
        open_monitoring=aws.msk.ClusterOpenMonitoringArgs(prometheus=aws.msk.ClusterOpenMonitoringPrometheusArgs(
            jmx_exporter=exporter,
            node_exporter=aws.msk.ClusterOpenMonitoringPrometheusNodeExporterArgs(enabled_in_broker=True))),
        logging_info=aws.msk.ClusterLoggingInfoArgs(broker_logs=aws.msk.ClusterLoggingInfoBrokerLogsArgs(
            cloudwatch_logs=aws.msk.ClusterLoggingInfoBrokerLogsCloudwatchLogsArgs(enabled=True, log_group=log_group))),
    )


class KafkaCluster(pulumi.ComponentResource):
    """MSK cluster, its configuration, key, security group, logs, and the catalog's topics."""

    cluster_arn: pulumi.Output[str]
    bootstrap_brokers: pulumi.Output[str]

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:kafka:KafkaCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        if args.cluster_arn is None:
            self.cluster_arn, self.bootstrap_brokers = self._cluster(name, args, child)
        else:
            self.cluster_arn = pulumi.Output.from_input(args.cluster_arn)
            self.bootstrap_brokers = pulumi.Output.from_input(args.bootstrap_brokers)
        self._replication_factor = s.replication_factor
        self.add_topics(name, args.topics)
        self.register_outputs({"cluster_arn": self.cluster_arn, "bootstrap_brokers": self.bootstrap_brokers})

    def add_topics(self, name: str, topics: tuple[tuple[Topic, str, str], ...]) -> None:
        """One ``aws.msk.Topic`` per (topic, producing service, team), as children of this component."""
        for topic, service, team in topics:
            resource = aws.msk.Topic(f"{name}-topic-{topic.name}", aws.msk.TopicArgs(
                cluster_arn=self.cluster_arn, name=topic.name, partition_count=topic.partitions,
                replication_factor=self._replication_factor, configs=topic_configs(topic)),
                opts=pulumi.ResourceOptions(parent=self))
            resource.paved_service, resource.paved_team = service, team  # a topic belongs to its producer

    def _cluster(self, name: str, args: KafkaClusterArgs,
                 child: pulumi.ResourceOptions) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The brokers, their key, security group, logs and configuration: (ARN, bootstrap brokers)."""
        s = args.settings
        key = customer_key(f"{name}", f"encryption at rest of MSK cluster {args.name}", args.kms_deletion_window_days, self)
        group = aws.ec2.SecurityGroup(f"{name}-sg", aws.ec2.SecurityGroupArgs(
            vpc_id=args.vpc_id, description=f"MSK brokers of {args.name}: IAM/TLS clients from the cluster nodes only"), opts=child)
        aws.vpc.SecurityGroupIngressRule(f"{name}-sg-clients", aws.vpc.SecurityGroupIngressRuleArgs(
            security_group_id=group.id, referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp", from_port=IAM_PORT, to_port=IAM_PORT,
            description="Kafka over TLS with IAM auth from EKS nodes"), opts=child)
        aws.vpc.SecurityGroupIngressRule(f"{name}-sg-exporters", aws.vpc.SecurityGroupIngressRuleArgs(
            security_group_id=group.id, referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp", from_port=JMX_EXPORTER_PORT, to_port=NODE_EXPORTER_PORT,
            description="Prometheus on the EKS nodes scrapes the brokers' JMX and node exporters"), opts=child)
        logs = aws.cloudwatch.LogGroup(f"{name}-logs", aws.cloudwatch.LogGroupArgs(
            name=f"/aws/msk/{args.name}", retention_in_days=s.log_retention_days), opts=child)
        # No fixed name: a new Kafka version replaces the configuration (kafkaVersions forces a
        # new one), and Pulumi creates the replacement before deleting the old; one fixed name
        # would collide. Pulumi's auto-name (logical name plus a random suffix) cannot.
        configuration = aws.msk.Configuration(f"{name}-config", aws.msk.ConfigurationArgs(
            kafka_versions=[s.version], server_properties=server_properties(s),
            description="paved: no auto-created topics; replication per stack"), opts=child)
        cluster = aws.msk.Cluster(f"{name}-msk", cluster_args(args, key.arn, group.id, configuration, logs.name), opts=child)
        return cluster.arn, cluster.bootstrap_brokers_sasl_iam
