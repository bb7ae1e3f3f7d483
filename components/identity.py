"""ServiceIdentity: one IAM role per service, bound to its ServiceAccount.

The role's permissions come from the catalog and nothing else: read exactly the service's
own secrets, decrypt with the secrets key, and use exactly the Kafka topics it produces and
consumes under its own consumer group. No ``*`` action or resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.keys import document

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def role_annotations(mode: str, role_arn: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """The ServiceAccount annotations that bind it to ``role_arn``: IRSA's webhook reads the role
    from the annotation; Pod Identity binds through its association and needs none."""
    return {IRSA_ROLE_ANNOTATION: role_arn} if mode == "irsa" else {}


@dataclass(frozen=True)
class KafkaAccess:
    """The Kafka ARNs a service may touch."""

    cluster_arn: str
    produces: tuple[str, ...]  # topic ARNs
    consumes: tuple[str, ...]  # topic ARNs
    group_arn: str


def kafka_arn(cluster_arn: str, kind: str, name: str) -> str:
    """A topic or group ARN under an MSK cluster ARN (``...:cluster/<name>/<uuid>``)."""
    return cluster_arn.replace(":cluster/", f":{kind}/", 1) + f"/{name}"


def permissions(secret_arns: list[str], secrets_key_arn: str | None, kafka: KafkaAccess | None,
                region: str) -> list[dict[str, Any]]:
    """The service's least-privilege statements; empty when it needs no AWS access."""
    statements: list[dict[str, Any]] = []
    if secret_arns:
        statements.append({"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": sorted(secret_arns)})
        statements.append({"Sid": "DecryptOwnSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": secrets_key_arn,
                           "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}})
    if kafka is not None:
        statements.append({"Sid": "ConnectToKafka", "Effect": "Allow", "Action": "kafka-cluster:Connect",
                           "Resource": kafka.cluster_arn})
        topics = sorted({*kafka.produces, *kafka.consumes})
        if topics:
            statements.append({"Sid": "DescribeOwnTopics", "Effect": "Allow", "Action": "kafka-cluster:DescribeTopic",
                               "Resource": topics})
        if kafka.produces:
            statements.append({"Sid": "WriteProducedTopics", "Effect": "Allow", "Action": "kafka-cluster:WriteData",
                               "Resource": sorted(kafka.produces)})
            # The platform's producers are idempotent (enable.idempotence, Kafka's default since
            # 3.0); MSK IAM authorises that on the cluster, not the topic, and refuses the
            # producer's InitProducerId without it.
            statements.append({"Sid": "WriteIdempotently", "Effect": "Allow",
                               "Action": "kafka-cluster:WriteDataIdempotently", "Resource": kafka.cluster_arn})
        if kafka.consumes:
            statements.append({"Sid": "ReadConsumedTopics", "Effect": "Allow", "Action": "kafka-cluster:ReadData",
                               "Resource": sorted(kafka.consumes)})
            statements.append({"Sid": "UseOwnConsumerGroup", "Effect": "Allow",
                               "Action": ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                               "Resource": kafka.group_arn})
    return statements


def pod_identity_trust(account_id: str, cluster_arn: str) -> str:
    """EKS Pod Identity may assume the role, for this account's cluster only."""
    return document({
        "Sid": "AssumeByEksPodIdentity",
        "Effect": "Allow",
        "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}, "ArnEquals": {"aws:SourceArn": cluster_arn}},
    })


def irsa_trust(provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """IRSA: only this ServiceAccount's token, for STS, may assume the role."""
    host = issuer.removeprefix("https://")
    return document({
        "Sid": "AssumeWithServiceAccountToken",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
            f"{host}:aud": "sts.amazonaws.com",
        }},
    })


@dataclass(frozen=True)
class ServiceIdentityArgs:
    """A service's place in the cluster and the ARNs it may use (Outputs where computed)."""

    service: str
    namespace: str
    mode: str  # "podIdentity" | "irsa"
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    region: str
    tags: dict[str, str]
    secret_arns: list[pulumi.Input[str]] = field(default_factory=list)
    secrets_key_arn: pulumi.Input[str] | None = None
    kafka_cluster_arn: pulumi.Input[str] | None = None
    produces: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None
    owner_service: str | None = None  # catalog service and team the identity belongs to, if any
    owner_team: str | None = None
    former_names: tuple[str, ...] = ()  # the owner service's former names: its role is kept on rename
    # Statements for platform operators whose needs are not derived from the catalog.
    extra_statements: pulumi.Input[list] | None = None


class ServiceIdentity(pulumi.ComponentResource):
    """The service's IAM role, its inline policy, and the binding to its ServiceAccount."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:identity:ServiceIdentity", name, None, opts)
        self.paved_service = args.owner_service
        self.paved_team = args.owner_team
        def child(role: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, aliases=[
                pulumi.Alias(name=f"{old}-identity-{role}") for old in args.former_names])

        if args.mode == "irsa":
            trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                lambda v: irsa_trust(v[0], v[1], args.namespace, args.service))
        else:
            trust = pulumi.Output.all(args.account_id, args.cluster_arn).apply(lambda v: pod_identity_trust(v[0], v[1]))
        role = aws.iam.Role(f"{name}-role", aws.iam.RoleArgs(
            description=f"paved service {args.namespace}/{args.service}", assume_role_policy=trust, tags=args.tags), opts=child("role"))

        def policy(values: list) -> str | None:
            secret_arns, key_arn, cluster_arn, extra = values[0], values[1], values[2], values[3]
            kafka = None
            if cluster_arn and (args.produces or args.consumes):
                kafka = KafkaAccess(
                    cluster_arn=cluster_arn,
                    produces=tuple(kafka_arn(cluster_arn, "topic", t) for t in args.produces),
                    consumes=tuple(kafka_arn(cluster_arn, "topic", t) for t in args.consumes),
                    group_arn=kafka_arn(cluster_arn, "group", args.service),
                )
            statements = permissions(list(secret_arns), key_arn, kafka, args.region) + list(extra or [])
            return document(*statements) if statements else None

        statements = pulumi.Output.all(pulumi.Output.all(*args.secret_arns), args.secrets_key_arn,
                                       args.kafka_cluster_arn, args.extra_statements).apply(policy)
        if args.secret_arns or args.produces or args.consumes or args.extra_statements is not None:
            aws.iam.RolePolicy(f"{name}-policy", aws.iam.RolePolicyArgs(role=role.id, policy=statements), opts=child("policy"))
        if args.mode == "podIdentity":
            aws.eks.PodIdentityAssociation(f"{name}-pod-identity", aws.eks.PodIdentityAssociationArgs(
                cluster_name=args.cluster_name, namespace=args.namespace, service_account=args.service,
                role_arn=role.arn, tags=args.tags), opts=child("pod-identity"))
        self.role_arn = role.arn
        self.role_name = role.name  # for policies attached from outside (ESO's team roles)
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
