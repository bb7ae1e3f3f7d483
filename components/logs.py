"""CentralLogs: every container's log lines in CloudWatch Logs, one log group per team.

The ``logging`` namespace runs Fluent Bit (components/addons/fluent_bit.py). paved creates
the log groups, ``/paved/<env>/<team>`` per team and ``/paved/<env>/_platform`` for the
platform's namespaces, with the stack's retention (``paved:logs.retentionDays``) and, where the
stack asks (``paved:logs.kms``), a customer-managed key whose policy lets CloudWatch Logs use
it for these groups only.

Pod Security (a deliberate, recorded exception, like ``monitoring``'s): the namespace
*enforces* ``privileged`` and *audits and warns* at ``restricted``. Reading the nodes' log
files needs a hostPath, which even baseline forbids, and uid 0. Only Fluent Bit runs here, and
the policy pack admits exactly its DaemonSet with exactly ``/var/log`` read-only
(policies/rules/kubernetes/node_access.py); the reason is written on the namespace
(annotation ``paved.dev/pod-security-exception``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import NamespaceInitArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.addons import AddOnContext, ClusterAccess, platform_tags
from components.addons.fluent_bit import FluentBit, Route
from components.labels import platform_labels
from components.namespace import allow_dns_spec, default_deny_spec, pod_identity_agent_egress, pod_security_labels
from paved.model import Team
from paved.naming import KUBERNETES_NAMESPACES, LOGGING_NAMESPACE, PLATFORM_NAMESPACES
from paved.resources import LOG_NAMESPACES_TAG, LOG_VOLUME_TAG
from paved.stack import StackSettings

NAMESPACE = LOGGING_NAMESPACE
ENDPOINTS = ("logs",)  # the CloudWatch Logs interface endpoint: Fluent Bit writes from inside the VPC
ENFORCED_LEVEL = "privileged"
AUDITED_LEVEL = "restricted"
EXCEPTION_ANNOTATION = "paved.dev/pod-security-exception"
EXCEPTION_REASON = (
    "enforce privileged, audit and warn restricted: Fluent Bit reads the nodes' container log files (hostPath "
    "/var/log, read-only, as uid 0 without capabilities); nothing else runs here"
)
PLATFORM_ROUTE = "_platform"  # not a DNS label, so no team can be called that
# What `paved cost` prices a group from (paved.resources): the assumed volume and the namespaces.
VOLUME_TAG = LOG_VOLUME_TAG
NAMESPACES_TAG = LOG_NAMESPACES_TAG


@dataclass(frozen=True)
class CentralLogsArgs:
    """The stack's settings, the teams, and the cluster Fluent Bit's role is bound in."""

    settings: StackSettings
    teams: tuple[Team, ...]
    cluster: ClusterAccess
    partition: pulumi.Input[str]


def log_group_name(environment: str, team: str) -> str:
    """A team's log group (``_platform`` for the platform's namespaces)."""
    return f"/paved/{environment}/{team}"


def routes(environment: str, teams: tuple[Team, ...]) -> tuple[Route, ...]:
    """One route per team namespace, and one for the platform's namespaces (kube-system included)."""
    platform = tuple(ns for ns in (*PLATFORM_NAMESPACES, *KUBERNETES_NAMESPACES) if ns != "default")
    return (*(Route(t.name, (t.namespace_name,), log_group_name(environment, t.name)) for t in teams),
            Route(PLATFORM_ROUTE, platform, log_group_name(environment, PLATFORM_ROUTE)))


def key_policy(partition: str, account: str, region: str, environment: str) -> str:
    """The log key's policy: the account administers it through IAM; CloudWatch Logs may use it
    only for paved's log groups of this environment (the encryption context names the group)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AccountAdministersThroughIam", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatchLogsUsesItForPavedGroups", "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
         "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                   f"arn:{partition}:logs:{region}:{account}:log-group:/paved/{environment}/*"}}},
    ]})


def namespace_args(settings: StackSettings) -> NamespaceInitArgs:
    """The ``logging`` namespace, with its Pod Security exception written on it."""
    return NamespaceInitArgs(metadata=ObjectMetaArgs(
        name=NAMESPACE,
        labels={**pod_security_labels(settings, enforce=ENFORCED_LEVEL, audit=AUDITED_LEVEL),
                **platform_labels(settings.environment)},
        annotations={EXCEPTION_ANNOTATION: EXCEPTION_REASON}))


def network_policy_specs(settings: StackSettings) -> dict[str, NetworkPolicySpecArgs]:
    """Default-deny and DNS, then egress only: the API server (pod metadata) and the CloudWatch
    Logs and STS interface endpoints, all on 443 inside the VPC, and the Pod Identity Agent."""
    vpc = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=settings.network.cidr))]
    egress = [NetworkPolicyEgressRuleArgs(to=vpc, ports=[NetworkPolicyPortArgs(protocol="TCP", port=443)])]
    if settings.cluster.identity == "podIdentity":
        egress.append(pod_identity_agent_egress())
    return {
        "default-deny": default_deny_spec(),
        "allow-dns": allow_dns_spec(),
        "allow-fluent-bit": NetworkPolicySpecArgs(pod_selector=LabelSelectorArgs(), policy_types=["Egress"],
                                                  egress=egress),
    }


class CentralLogs(pulumi.ComponentResource):
    """The logging namespace, the log groups (and their key), and Fluent Bit."""

    log_group_names: pulumi.Output[list]

    def __init__(self, name: str, args: CentralLogsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:logs:CentralLogs", name, None, opts)
        s, logs = args.settings, args.settings.logs
        if logs is None:
            raise ValueError("CentralLogsArgs.settings.logs is required (paved:logs in the stack)")
        child = pulumi.ResourceOptions(parent=self)
        key = None
        if logs.kms:
            policy = pulumi.Output.all(args.partition, args.cluster.account_id).apply(
                lambda v: key_policy(v[0], v[1], s.aws_region, s.environment))
            key = aws.kms.Key(f"{name}-key", aws.kms.KeyArgs(
                description=f"paved {s.environment}: CloudWatch Logs of the services and the platform",
                enable_key_rotation=True, rotation_period_in_days=365,
                deletion_window_in_days=s.kms_deletion_window_days, policy=policy,
                tags=platform_tags(s, NAMESPACE)), opts=child)
            aws.kms.Alias(f"{name}-key-alias", aws.kms.AliasArgs(
                name=f"alias/paved/{pulumi.get_stack()}/logs", target_key_id=key.key_id), opts=child)
        owners = {t.name: t for t in args.teams}
        groups = []
        all_routes = routes(s.environment, args.teams)
        for route in all_routes:
            team = owners.get(route.name)
            tags = ({"owner": team.owner, "cost-center": team.cost_center, "team": team.name} if team
                    else platform_tags(s, NAMESPACE))
            role = f"team-{route.name}" if team else "platform"
            groups.append(aws.cloudwatch.LogGroup(f"{name}-{role}", aws.cloudwatch.LogGroupArgs(
                name=route.log_group, retention_in_days=logs.retention_days,
                kms_key_id=key.arn if key is not None else None,
                tags={**tags, VOLUME_TAG: str(logs.gib_per_pod_month), NAMESPACES_TAG: " ".join(route.namespaces)}),
                opts=child))

        ns = k8s.core.v1.Namespace(f"{name}-ns", namespace_args(s), opts=child)
        ctx = AddOnContext(prefix=name, namespace=NAMESPACE, settings=s, parent=self, depends_on=(ns,))
        for role, spec in network_policy_specs(s).items():
            k8s.networking.v1.NetworkPolicy(f"{name}-{role}", NetworkPolicyInitArgs(
                metadata=ObjectMetaArgs(name=role, namespace=NAMESPACE), spec=spec), opts=ctx.options())
        FluentBit(cluster=args.cluster, routes=all_routes,
                  log_group_arns=tuple(g.arn for g in groups)).deploy(ctx.after(*groups))

        self.log_group_names = pulumi.Output.from_input([r.log_group for r in all_routes])
        self.register_outputs({"log_group_names": self.log_group_names})
