"""External Secrets Operator: copies each service's secrets from Secrets Manager into its
namespace, and generates in-cluster secrets (Grafana's admin password)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import SMALL_RESOURCES, chart
from components.identity import role_annotations
from components.namespace import platform_namespace
from paved.naming import EXTERNAL_SECRETS_NAMESPACE

CHART = "external-secrets"
NAMESPACE = EXTERNAL_SECRETS_NAMESPACE
SERVICE_ACCOUNT = "external-secrets"
WEBHOOK_PORT = 10250


def values(sa_annotations: dict | None = None) -> dict:
    """Chart values: CRDs installed with the chart, a named ServiceAccount (annotated with its
    role in IRSA mode), small pods."""
    return {
        "installCRDs": True,
        "serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": dict(sa_annotations or {})},
        "resources": SMALL_RESOURCES,
        "webhook": {"port": WEBHOOK_PORT, "resources": SMALL_RESOURCES},
        "certController": {"resources": SMALL_RESOURCES},
    }


@dataclass(frozen=True)
class ExternalSecrets:
    """The add-on, with an AWS role that reads exactly ``secret_arns`` and decrypts with their key."""

    cluster: ClusterAccess
    secrets_key_arn: pulumi.Input[str]
    secret_arns: list[pulumi.Input[str]] = field(default_factory=list)

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace and identity, then the chart (which serves the CRDs)."""
        ns = platform_namespace(f"{ctx.prefix}-eso-ns", ctx.namespace, ctx.settings, ctx.options(),
                                webhook_port=WEBHOOK_PORT, aws_role=True)
        identity = self.cluster.identity(f"{ctx.prefix}-eso", ctx, SERVICE_ACCOUNT, secret_arns=self.secret_arns,
                                         secrets_key_arn=self.secrets_key_arn)
        # The operator's pods get their AWS credentials only if the association exists when they
        # are created (the Pod Identity webhook acts at pod creation): the chart waits for it.
        annotations = role_annotations(ctx.settings.cluster.identity, identity.role_arn)
        return chart(f"{ctx.prefix}-eso", CHART, ctx.namespace, values(annotations), ctx.options(ns, identity))
