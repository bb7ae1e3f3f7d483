"""What forces a replacement: the properties a provider cannot change in place.

A change replaces a resource when it touches a path in :data:`REPLACE_ON_CHANGE` (Kubernetes'
``metadata.name`` and ``metadata.namespace`` for every kind), or when one of the few
value-dependent rules in :data:`CONDITIONAL_RULES` says so; those rules also name the changes
the provider will refuse outright (a Kafka partition count going down).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paved.diff.properties import lookup
from paved.resources import is_kubernetes_object

_K8S_META = ("metadata.name", "metadata.namespace")
_LABEL_SELECTOR = ("spec.selector",)

# {type token: camelCase input paths whose change the provider cannot apply in place}.
# A path also covers everything under it.
#
# Kubernetes: pulumi-kubernetes ``forceNewProperties`` (provider/pkg/provider/diff.go):
# metadata.name and metadata.namespace for every kind, plus these per kind. policy/v1
# PodDisruptionBudgets are mutable (only policy/v1beta1 ``spec`` forces a new object).
#
# AWS: pulumi-aws is bridged from the Terraform AWS provider, whose schema marks these
# ``ForceNew`` / ``RequiresReplace`` (checked against internal/service/{kafka,eks,
# secretsmanager,kms,ec2,iam,logs}). Of note: EKS ``vpcConfig.subnetIds`` and the security
# groups are updatable in place (UpdateClusterConfig); MSK ``brokerNodeGroupInfo``
# instance type and storage are too, its client subnets and security groups are not.
REPLACE_ON_CHANGE: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": _LABEL_SELECTOR,
    "kubernetes:apps/v1:DaemonSet": _LABEL_SELECTOR,
    "kubernetes:apps/v1:StatefulSet": (
        "spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName",
        "spec.volumeClaimTemplates"),
    "kubernetes:batch/v1:Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "kubernetes:core/v1:ConfigMap": ("binaryData", "data"),
    "kubernetes:core/v1:Secret": ("type", "stringData", "data"),
    "kubernetes:core/v1:Service": ("spec.clusterIP",),
    "kubernetes:core/v1:ResourceQuota": ("spec.scopes",),
    "kubernetes:core/v1:PersistentVolumeClaim": ("spec",),
    "kubernetes:policy/v1beta1:PodDisruptionBudget": ("spec",),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
    "kubernetes:storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
    "aws:msk/cluster:Cluster": (
        "clusterName", "brokerNodeGroupInfo.azDistribution", "brokerNodeGroupInfo.clientSubnets",
        "brokerNodeGroupInfo.securityGroups", "encryptionInfo.encryptionAtRestKmsKeyArn",
        "encryptionInfo.encryptionInTransit.inCluster"),
    "aws:msk/configuration:Configuration": ("name", "kafkaVersions"),
    "aws:msk/topic:Topic": ("name", "clusterArn", "replicationFactor"),
    "aws:eks/cluster:Cluster": (
        "name", "roleArn", "bootstrapSelfManagedAddons", "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "kubernetesNetworkConfig.ipFamily", "kubernetesNetworkConfig.serviceIpv4Cidr", "outpostConfig",
        "remoteNetworkConfig"),
    "aws:eks/nodeGroup:NodeGroup": (
        "clusterName", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds", "amiType",
        "capacityType", "diskSize", "instanceTypes", "launchTemplate.id", "launchTemplate.name", "remoteAccess"),
    "aws:eks/addon:Addon": ("addonName", "clusterName"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("clusterName", "namespace", "serviceAccount"),
    "aws:eks/accessEntry:AccessEntry": ("clusterName", "principalArn", "type"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("clusterName", "principalArn", "policyArn"),
    "aws:codebuild/project:Project": ("name",),
    "aws:codebuild/webhook:Webhook": ("projectName",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("securityGroupId",),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:secretsmanager/secretRotation:SecretRotation": ("secretId",),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    "aws:ec2/vpc:Vpc": ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
    "aws:ec2/eip:Eip": ("domain", "address", "networkBorderGroup", "publicIpv4Pool", "customerOwnedIpv4Pool"),
    "aws:ec2/natGateway:NatGateway": ("allocationId", "subnetId", "connectivityType", "privateIp"),
    "aws:ec2/internetGateway:InternetGateway": (),  # vpcId is updatable: detach, attach
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "description", "vpcId"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
}


def replacement_paths(type_token: str) -> tuple[str, ...]:
    """The input paths of ``type_token`` whose change replaces the resource."""
    paths = REPLACE_ON_CHANGE.get(type_token, ())
    return (*_K8S_META, *paths) if is_kubernetes_object(type_token) else paths


@dataclass(frozen=True)
class Finding:
    """A value-dependent verdict: ``replace`` (forces a new resource) or ``fails`` (refused)."""

    kind: str
    path: str
    message: str


def _version(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d+(\.\d+)*", value):
        return None
    return tuple(int(p) for p in value.split("."))


def _kafka_version(before: dict, after: dict) -> list[Finding]:
    old, new = _version(before.get("kafkaVersion")), _version(after.get("kafkaVersion"))
    if old and new and new < old:
        return [Finding("replace", "kafkaVersion", "MSK cannot downgrade Kafka in place: a new cluster is created")]
    return []


def _eks_encryption(before: dict, after: dict) -> list[Finding]:
    if before.get("encryptionConfig") and not after.get("encryptionConfig"):
        return [Finding("replace", "encryptionConfig", "EKS envelope encryption cannot be turned off: a new cluster is created")]
    return []


def _eks_version(before: dict, after: dict) -> list[Finding]:
    old, new = _version(before.get("version")), _version(after.get("version"))
    if old and new and new < old:
        return [Finding("fails", "version",
                        f"EKS cannot downgrade Kubernetes ({before['version']} → {after['version']}): the update fails")]
    return []


def _topic_partitions(before: dict, after: dict) -> list[Finding]:
    old, new = before.get("partitionCount"), after.get("partitionCount")
    if isinstance(old, int) and isinstance(new, int) and new < old:
        return [Finding("fails", "partitionCount",
                        f"Kafka cannot remove partitions ({old} → {new}): the update fails; keep {old} or create a new topic")]
    return []


_RULE_SOURCES = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")


def _rule_source(before: dict, after: dict) -> list[Finding]:
    old = next((k for k in _RULE_SOURCES if before.get(k)), None)
    new = next((k for k in _RULE_SOURCES if after.get(k)), None)
    if old and new and old != new:
        return [Finding("replace", new, f"a security group rule's source kind cannot change ({old} → {new})")]
    return []


# {type token: rules over (inputs before, inputs after)} for what depends on the values.
CONDITIONAL_RULES: dict[str, tuple[Callable[[dict, dict], list[Finding]], ...]] = {
    "aws:msk/cluster:Cluster": (_kafka_version,),
    "aws:msk/topic:Topic": (_topic_partitions,),
    "aws:eks/cluster:Cluster": (_eks_encryption, _eks_version),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (_rule_source,),
}


def replace_reasons(type_token: str, before: dict, after: dict) -> tuple[list[str], list[Finding]]:
    """(input paths forcing a replacement, value-dependent findings) for one resource."""
    reasons = [p for p in replacement_paths(type_token) if lookup(before, p) != lookup(after, p)]
    findings = [f for rule in CONDITIONAL_RULES.get(type_token, ()) for f in rule(before, after)]
    reasons += [f.path for f in findings if f.kind == "replace" and f.path not in reasons]
    return reasons, findings

