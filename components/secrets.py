"""SecretStore: Secrets Manager entries for every declared secret, and their delivery.

Values never pass through Pulumi: paved creates each secret empty (``paved secrets put``
fills it), External Secrets Operator copies it into the service's namespace, and Reloader
restarts the pods when it rotates.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.identity import ServiceIdentity, ServiceIdentityArgs
from components.keys import customer_key
from components.renames import former_aliases
from components.namespace import allow_dns_spec, default_deny_spec, restricted_labels
from components.versions import CHARTS, EXTERNAL_SECRETS_API
from paved.catalog import Catalog
from paved.naming import service_secret_name
from paved.stack import StackSettings

STORE_NAME = "aws-secrets-manager"
ESO_NAMESPACE = "external-secrets"
ESO_SERVICE_ACCOUNT = "external-secrets"
RELOADER_NAMESPACE = "reloader"
ESO_WEBHOOK_PORT = 10250
# Requests and limits for the operators' pods (the charts set none by default).
OPERATOR_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
# The restricted Pod Security container profile, for operator charts that leave it unset.
OPERATOR_CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                               "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
ROTATION_TAG = "paved.dev/rotation"  # "managed" or "third-party"; policy PAVED-SEC-052/053 read it


@dataclass(frozen=True)
class SecretStoreArgs:
    """The catalog (its declared secrets), the stack, and the cluster for the operators."""

    catalog: Catalog
    settings: StackSettings
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None


def team_tags(catalog: Catalog, service: str) -> dict[str, str]:
    """Owner and cost-center of the service's team, plus the service itself."""
    team = catalog.team(catalog.service(service).team)
    return {"owner": team.owner, "cost-center": team.cost_center, "team": team.name, "service": service}


def chart(name: str, key: str, namespace: str, values: dict, opts: pulumi.ResourceOptions) -> k8s.helm.v4.Chart:
    """A pinned chart from components/versions.py."""
    pinned = CHARTS[key]
    return k8s.helm.v4.Chart(name, k8s.helm.v4.ChartArgs(
        chart=pinned["chart"], version=pinned["version"], namespace=namespace,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=pinned["repo"]), values=values), opts=opts)


def operator_egress_spec(vpc_cidr: str, webhook_port: int | None) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """An operator reaches the API server and AWS endpoints (both inside the VPC) on 443 only;
    a webhook is reached from the control plane's network interfaces in the VPC."""
    inside = [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=vpc_cidr))]
    ingress = []
    if webhook_port:
        ingress.append(k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=inside, ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=webhook_port)]))
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(),
        policy_types=["Ingress", "Egress"],
        ingress=ingress,
        egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=inside, ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=443)])],
    )


def platform_namespace(name: str, namespace: str, settings: StackSettings, opts: pulumi.ResourceOptions,
                       webhook_port: int | None = None) -> k8s.core.v1.Namespace:
    """A platform operator's namespace: restricted Pod Security, default-deny, DNS, and only
    the traffic the operator needs."""
    ns = k8s.core.v1.Namespace(name, k8s.core.v1.NamespaceInitArgs(metadata=k8s.meta.v1.ObjectMetaArgs(
        name=namespace, labels={**restricted_labels(settings), "app.kubernetes.io/part-of": "paved",
                                "paved.dev/environment": settings.environment})), opts=opts)
    in_ns = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[ns]))
    for role, spec in (("default-deny", default_deny_spec()), ("allow-dns", allow_dns_spec()),
                       ("allow-operator", operator_egress_spec(settings.network.cidr, webhook_port))):
        k8s.networking.v1.NetworkPolicy(f"{name}-{role}", k8s.networking.v1.NetworkPolicyInitArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name=role, namespace=namespace), spec=spec), opts=in_ns)
    return ns


class SecretStore(pulumi.ComponentResource):
    """The secrets key, one secret per declared secret, External Secrets and Reloader."""

    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:secrets:SecretStore", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        key = customer_key(f"{name}", f"Secrets Manager secrets of {s.environment}", s.kms_deletion_window_days, self)

        self.secret_arns: dict[str, list[pulumi.Output[str]]] = {}
        for svc in args.catalog.services:
            for declared in svc.secrets:
                secret = aws.secretsmanager.Secret(f"{name}-{svc.name}-{declared.name}", aws.secretsmanager.SecretArgs(
                    name=service_secret_name(s.environment, svc, declared.name),
                    description=declared.description or f"{declared.name} of {svc.name}",
                    kms_key_id=key.arn,
                    recovery_window_in_days=s.secrets.recovery_window_days,
                    tags={**team_tags(args.catalog, svc.name), ROTATION_TAG: declared.rotation}),
                    opts=pulumi.ResourceOptions(parent=self, aliases=former_aliases(svc, declared.name, f"{name}-")))
                secret.paved_service, secret.paved_team = svc.name, svc.team  # cost and review per service
                self.secret_arns.setdefault(svc.name, []).append(secret.arn)
                if declared.rotation == "managed":
                    # Catalog validation guarantees the stack has a rotation Lambda here.
                    rotation = aws.secretsmanager.SecretRotation(f"{name}-{svc.name}-{declared.name}-rotation",
                        aws.secretsmanager.SecretRotationArgs(
                            secret_id=secret.id, rotation_lambda_arn=s.secrets.rotation_lambda_arn,
                            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                                automatically_after_days=declared.rotation_days)),
                        opts=pulumi.ResourceOptions(parent=self, aliases=former_aliases(svc, f"{declared.name}-rotation", f"{name}-")))
                    rotation.paved_service, rotation.paved_team = svc.name, svc.team

        eso_ns = platform_namespace(f"{name}-eso-ns", ESO_NAMESPACE, s, child, webhook_port=ESO_WEBHOOK_PORT)
        all_arns = [arn for arns in self.secret_arns.values() for arn in arns]
        ServiceIdentity(f"{name}-eso", ServiceIdentityArgs(
            service=ESO_SERVICE_ACCOUNT, namespace=ESO_NAMESPACE, mode=s.cluster.identity,
            cluster_name=args.cluster_name, cluster_arn=args.cluster_arn, account_id=args.account_id, region=s.aws_region,
            tags={"owner": s.platform_owner, "cost-center": s.platform_cost_center, "service": "external-secrets"},
            secret_arns=all_arns, secrets_key_arn=key.arn,
            oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer), opts=child)
        operator = chart(f"{name}-eso", "external-secrets", ESO_NAMESPACE, {
            "installCRDs": True,
            "serviceAccount": {"name": ESO_SERVICE_ACCOUNT},
            "resources": OPERATOR_RESOURCES,
            "webhook": {"port": ESO_WEBHOOK_PORT, "resources": OPERATOR_RESOURCES},
            "certController": {"resources": OPERATOR_RESOURCES},
        }, pulumi.ResourceOptions(parent=self, depends_on=[eso_ns]))
        self.store = k8s.apiextensions.CustomResource(
            f"{name}-cluster-store",
            api_version=EXTERNAL_SECRETS_API,
            kind="ClusterSecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORE_NAME),
            spec={"provider": {"aws": {"service": "SecretsManager", "region": s.aws_region}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator]),
        )
        reloader_ns = platform_namespace(f"{name}-reloader-ns", RELOADER_NAMESPACE, s, child)
        chart(f"{name}-reloader", "reloader", RELOADER_NAMESPACE,
              {"reloader": {"watchGlobally": True, "deployment": {
                  "resources": OPERATOR_RESOURCES, "containerSecurityContext": OPERATOR_CONTAINER_SECURITY}}},
              pulumi.ResourceOptions(parent=self, depends_on=[reloader_ns]))

        self.key_arn = key.arn
        self.register_outputs({"key_arn": self.key_arn})
