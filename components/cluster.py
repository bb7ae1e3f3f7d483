"""EksCluster: the EKS control plane, managed node groups, add-ons, and the one Kubernetes
provider built from it; or an existing cluster adopted by name."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.identity import pod_identity_trust
from components.keys import customer_key, managed_policy, service_trust
from components.versions import EKS_ADDONS
from paved.errors import PavedError
from paved.stack import ClusterSettings, NodeGroupSettings

CONTROL_PLANE_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
CLUSTER_POLICIES = ["AmazonEKSClusterPolicy"]
NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
STORAGE_CLASS = "gp3-encrypted"
# The VPC CNI enforces NetworkPolicy only with its network policy agent switched on
# (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html); without it
# every NetworkPolicy paved writes is accepted by the API server and silently ignored.
ADDON_CONFIGURATION = {"vpc-cni": {"enableNetworkPolicy": "true"}}
# EKS access policies for the operators a stack lists (paved:cluster access).
ACCESS_POLICIES = {
    "admins": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "viewers": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
}


@dataclass(frozen=True)
class EksClusterArgs:
    """What the cluster needs from the stack and the network."""

    name: str
    kubernetes_version: str
    settings: ClusterSettings
    subnet_ids: pulumi.Input[list]
    region: str
    kms_deletion_window_days: int
    account_id: pulumi.Input[str]
    # A team stack's view: the platform stack's cluster, read from its outputs; only the
    # Kubernetes provider is made here.
    reference: "ClusterReference | None" = None


@dataclass(frozen=True)
class ClusterReference:
    """A cluster another stack made, as its outputs describe it (paved.layers.CONTRACT)."""

    name: pulumi.Input[str]
    arn: pulumi.Input[str]
    endpoint: pulumi.Input[str]
    certificate_authority: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None
    node_security_group_id: pulumi.Input[str]


def addon_versions(kubernetes_version: str) -> dict[str, str]:
    """The pinned add-on builds for a Kubernetes version; an error names a missing version."""
    if kubernetes_version not in EKS_ADDONS:
        raise PavedError(
            f"no EKS add-on versions pinned for Kubernetes {kubernetes_version} in components/versions.py "
            f"(pinned: {', '.join(sorted(EKS_ADDONS))})"
        )
    return EKS_ADDONS[kubernetes_version]


def vpc_config(settings: ClusterSettings, subnet_ids: pulumi.Input[list]) -> aws.eks.ClusterVpcConfigArgs:
    """Private endpoint always; a public one only for the listed CIDRs."""
    public = bool(settings.endpoint_public_access_cidrs)
    return aws.eks.ClusterVpcConfigArgs(
        subnet_ids=subnet_ids,
        endpoint_private_access=True,
        endpoint_public_access=public,
        public_access_cidrs=list(settings.endpoint_public_access_cidrs) if public else None,
    )


def launch_template_args(group: NodeGroupSettings) -> aws.ec2.LaunchTemplateArgs:
    """IMDSv2 only, one hop (pods cannot reach the node's credentials), encrypted gp3 root."""
    return aws.ec2.LaunchTemplateArgs(
        description=f"paved node group {group.name}",
        update_default_version=True,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=group.disk_size_gib, volume_type="gp3", encrypted="true", delete_on_termination="true",
                ),
            )
        ],
    )


def kubeconfig(name: pulumi.Input[str], endpoint: pulumi.Input[str], ca_data: pulumi.Input[str], region: str) -> pulumi.Output[str]:
    """A kubeconfig that authenticates with ``aws eks get-token``: no long-lived credentials."""

    def build(values: list) -> str:
        cluster, server, ca = values
        return json.dumps({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "current-context": cluster,
            "users": [{"name": cluster, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"],
            }}}],
        })

    return pulumi.Output.all(name, endpoint, ca_data).apply(build)


class EksCluster(pulumi.ComponentResource):
    """The cluster, its nodes and add-ons, and ``provider``: the Kubernetes provider for it."""

    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str] | None
    node_security_group_id: pulumi.Output[str]
    storage_class: str | None
    storage_class_resource: pulumi.Resource | None

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:cluster:EksCluster", name, None, opts)
        s = args.settings
        if args.reference is not None:
            ref = args.reference
            self.cluster_name = pulumi.Output.from_input(ref.name)
            self.cluster_arn = pulumi.Output.from_input(ref.arn)
            self.oidc_issuer = pulumi.Output.from_input(ref.oidc_issuer)
            self.node_security_group_id = pulumi.Output.from_input(ref.node_security_group_id)
            self.endpoint = pulumi.Output.from_input(ref.endpoint)
            self.certificate_authority = pulumi.Output.from_input(ref.certificate_authority)
            config = kubeconfig(self.cluster_name, self.endpoint, self.certificate_authority, args.region)
            ready = []
        elif s.mode == "existing":
            found = aws.eks.get_cluster_output(name=args.name, opts=pulumi.InvokeOutputOptions(parent=self))
            self.cluster_name = found.name
            self.cluster_arn = found.arn
            self.oidc_issuer = found.identities[0].oidcs[0].issuer
            self.node_security_group_id = found.vpc_config.cluster_security_group_id
            self.endpoint, self.certificate_authority = found.endpoint, found.certificate_authorities[0].data
            config = kubeconfig(found.name, found.endpoint, found.certificate_authorities[0].data, args.region)
            ready = []
        else:
            versions = addon_versions(args.kubernetes_version)
            child = pulumi.ResourceOptions(parent=self)
            partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
            key = customer_key(f"{name}-secrets", f"envelope encryption of Kubernetes secrets in {args.name}",
                               args.kms_deletion_window_days, self)
            role = aws.iam.Role(f"{name}-role", aws.iam.RoleArgs(
                description=f"EKS control plane of {args.name}", assume_role_policy=service_trust("eks.amazonaws.com")), opts=child)
            # EKS checks the role's permissions when it creates the cluster: attach them first.
            cluster_attachments = [
                aws.iam.RolePolicyAttachment(f"{name}-role-{policy.lower()}", aws.iam.RolePolicyAttachmentArgs(
                    role=role.name, policy_arn=managed_policy(partition, policy)), opts=child)
                for policy in CLUSTER_POLICIES
            ]
            # Created first so EKS does not create it without a retention period.
            logs = aws.cloudwatch.LogGroup(f"{name}-logs", aws.cloudwatch.LogGroupArgs(
                name=f"/aws/eks/{args.name}/cluster", retention_in_days=s.log_retention_days), opts=child)
            cluster = aws.eks.Cluster(
                f"{name}-eks",
                aws.eks.ClusterArgs(
                    name=args.name,
                    version=args.kubernetes_version,
                    role_arn=role.arn,
                    vpc_config=vpc_config(s, args.subnet_ids),
                    enabled_cluster_log_types=CONTROL_PLANE_LOGS,
                    encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                        provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn), resources=["secrets"]),
                    access_config=aws.eks.ClusterAccessConfigArgs(
                        authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True),
                    upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
                    deletion_protection=s.deletion_protection,
                    bootstrap_self_managed_addons=False,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, *cluster_attachments]),
            )
            for role_name, arns in (("admins", s.access.admins), ("viewers", s.access.viewers)):
                for i, principal in enumerate(arns):
                    entry = aws.eks.AccessEntry(f"{name}-access-{role_name}-{i}", aws.eks.AccessEntryArgs(
                        cluster_name=cluster.name, principal_arn=principal, type="STANDARD"), opts=child)
                    aws.eks.AccessPolicyAssociation(f"{name}-access-{role_name}-{i}-policy", aws.eks.AccessPolicyAssociationArgs(
                        cluster_name=cluster.name, principal_arn=entry.principal_arn, policy_arn=ACCESS_POLICIES[role_name],
                        access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")), opts=child)
            node_role = aws.iam.Role(f"{name}-node-role", aws.iam.RoleArgs(
                description=f"EKS nodes of {args.name}", assume_role_policy=service_trust("ec2.amazonaws.com")), opts=child)
            attachments = [
                aws.iam.RolePolicyAttachment(f"{name}-node-role-{policy.lower()}", aws.iam.RolePolicyAttachmentArgs(
                    role=node_role.name, policy_arn=managed_policy(partition, policy)), opts=child)
                for policy in NODE_POLICIES
            ]
            # vpc-cni and kube-proxy before nodes join; coredns needs nodes to schedule on.
            early = [
                aws.eks.Addon(f"{name}-addon-{addon}", aws.eks.AddonArgs(
                    cluster_name=cluster.name, addon_name=addon, addon_version=versions[addon],
                    configuration_values=json.dumps(ADDON_CONFIGURATION[addon]) if addon in ADDON_CONFIGURATION else None,
                    resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE"), opts=child)
                for addon in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
            ]
            groups = []
            for group in s.node_groups:
                template = aws.ec2.LaunchTemplate(f"{name}-{group.name}-lt", launch_template_args(group), opts=child)
                groups.append(aws.eks.NodeGroup(
                    f"{name}-{group.name}",
                    aws.eks.NodeGroupArgs(
                        cluster_name=cluster.name,
                        # A prefix, not a fixed name: a change that replaces the group creates the
                        # new one before deleting the old, and two groups cannot share a name.
                        node_group_name_prefix=f"{group.name}-",
                        # Nodes follow the control plane's pinned minor version, never EKS's latest.
                        version=args.kubernetes_version,
                        node_role_arn=node_role.arn,
                        subnet_ids=args.subnet_ids,
                        instance_types=list(group.instance_types),
                        capacity_type=group.capacity_type,
                        scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                            min_size=group.min_size, max_size=group.max_size, desired_size=group.desired_size),
                        update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                        launch_template=aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
                        labels={"paved.dev/node-group": group.name},
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *early],
                                                ignore_changes=["scalingConfig.desiredSize"]),
                ))
            coredns = aws.eks.Addon(f"{name}-addon-coredns", aws.eks.AddonArgs(
                cluster_name=cluster.name, addon_name="coredns", addon_version=versions["coredns"],
                resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=groups))
            # Persistent volumes (Prometheus, Jaeger) need the EBS CSI driver; its controller
            # gets its own role through Pod Identity, with AWS's managed driver policy.
            ebs_role = aws.iam.Role(f"{name}-ebs-csi-role", aws.iam.RoleArgs(
                description=f"EBS CSI driver of {args.name}",
                assume_role_policy=pulumi.Output.all(args.account_id, cluster.arn).apply(
                    lambda v: pod_identity_trust(v[0], v[1]))), opts=child)
            ebs_policy = aws.iam.RolePolicyAttachment(f"{name}-ebs-csi-policy", aws.iam.RolePolicyAttachmentArgs(
                role=ebs_role.name, policy_arn=managed_policy(partition, "service-role/AmazonEBSCSIDriverPolicy")), opts=child)
            ebs = aws.eks.Addon(f"{name}-addon-aws-ebs-csi-driver", aws.eks.AddonArgs(
                cluster_name=cluster.name, addon_name="aws-ebs-csi-driver", addon_version=versions["aws-ebs-csi-driver"],
                resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE",
                pod_identity_associations=[aws.eks.AddonPodIdentityAssociationArgs(
                    role_arn=ebs_role.arn, service_account=EBS_CSI_SERVICE_ACCOUNT)]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*groups, ebs_policy]))
            # Every Kubernetes object goes through the provider: making it wait for the nodes
            # and CoreDNS means no Deployment is created into a cluster that cannot run it.
            ready = [*groups, coredns]
            self.cluster_name = cluster.name
            self.cluster_arn = cluster.arn
            self.oidc_issuer = cluster.identities[0].oidcs[0].issuer
            self.node_security_group_id = cluster.vpc_config.cluster_security_group_id
            self.endpoint, self.certificate_authority = cluster.endpoint, cluster.certificate_authority.data
            config = kubeconfig(cluster.name, cluster.endpoint, cluster.certificate_authority.data, args.region)

        self.oidc_provider_arn = None
        if args.reference is not None:
            ref_arn = args.reference.oidc_provider_arn
            self.oidc_provider_arn = pulumi.Output.from_input(ref_arn) if ref_arn is not None else None
        elif s.identity == "irsa":
            if s.mode == "create":
                provider = aws.iam.OpenIdConnectProvider(f"{name}-oidc", aws.iam.OpenIdConnectProviderArgs(
                    url=self.oidc_issuer, client_id_lists=["sts.amazonaws.com"]), opts=pulumi.ResourceOptions(parent=self))
                self.oidc_provider_arn = provider.arn
            else:  # an adopted cluster's OIDC provider already exists in the account
                self.oidc_provider_arn = pulumi.Output.concat(
                    "arn:aws:iam::", args.account_id, ":oidc-provider/",
                    self.oidc_issuer.apply(lambda issuer: issuer.removeprefix("https://")))

        self.provider = k8s.Provider(
            f"{name}-k8s",
            k8s.ProviderArgs(kubeconfig=config, enable_server_side_apply=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self.storage_class = None
        self.storage_class_resource = None
        if s.mode == "create" and args.reference is None:
            self.storage_class_resource = k8s.storage.v1.StorageClass(f"{name}-storage-class", k8s.storage.v1.StorageClassInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_CLASS, annotations={
                    "storageclass.kubernetes.io/is-default-class": "true"}),
                provisioner="ebs.csi.aws.com",
                parameters={"type": "gp3", "encrypted": "true"},
                volume_binding_mode="WaitForFirstConsumer",
                reclaim_policy="Retain",
                allow_volume_expansion=True,
            ), opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[ebs]))
            self.storage_class = STORAGE_CLASS
        self.register_outputs({
            "cluster_name": self.cluster_name, "cluster_arn": self.cluster_arn,
            "oidc_issuer": self.oidc_issuer, "oidc_provider_arn": self.oidc_provider_arn,
            "node_security_group_id": self.node_security_group_id,
        })
