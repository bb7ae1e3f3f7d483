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

from components.addons import AddOnContext, ClusterAccess, external_secrets, reloader
from components.keys import customer_key
from components.renames import former_aliases
from components.versions import EXTERNAL_SECRETS_API
from paved.catalog import Catalog
from paved.naming import service_secret_name
from paved.stack import StackSettings

STORE_NAME = "aws-secrets-manager"
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


class SecretStore(pulumi.ComponentResource):
    """The secrets key, one secret per declared secret, External Secrets and Reloader."""

    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:secrets:SecretStore", name, None, opts)
        s = args.settings
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

        all_arns = [arn for arns in self.secret_arns.values() for arn in arns]
        cluster = ClusterAccess(cluster_name=args.cluster_name, cluster_arn=args.cluster_arn, account_id=args.account_id,
                                oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer)
        operator = external_secrets.ExternalSecrets(cluster=cluster, secrets_key_arn=key.arn, secret_arns=all_arns).deploy(
            AddOnContext(prefix=name, namespace=external_secrets.NAMESPACE, settings=s, parent=self))
        self.store = k8s.apiextensions.CustomResource(
            f"{name}-cluster-store",
            api_version=EXTERNAL_SECRETS_API,
            kind="ClusterSecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=STORE_NAME),
            spec={"provider": {"aws": {"service": "SecretsManager", "region": s.aws_region}}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator]),
        )
        reloader.Reloader().deploy(AddOnContext(prefix=name, namespace=reloader.NAMESPACE, settings=s, parent=self))

        self.key_arn = key.arn
        self.register_outputs({"key_arn": self.key_arn})
