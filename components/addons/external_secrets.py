"""External Secrets Operator: copies each service's secrets from Secrets Manager into its
namespace, and generates in-cluster secrets (Grafana's admin password)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import SMALL_RESOURCES, chart, disruption_budget, operator_replicas, zone_spread
from components.namespace import platform_namespace
from paved.naming import EXTERNAL_SECRETS_NAMESPACE
from paved.stack import StackSettings

CHART = "external-secrets"
NAMESPACE = EXTERNAL_SECRETS_NAMESPACE
SERVICE_ACCOUNT = "external-secrets"
WEBHOOK_PORT = 10250


def values(settings: StackSettings, release: str) -> dict:
    """Chart values: CRDs installed with the chart, a named ServiceAccount, small pods; the
    controller, its webhook (failurePolicy Fail on ExternalSecrets) and the certificate controller
    each highly available where the stack asks (all three elect a leader or serve statelessly)."""
    def ha(name: str) -> dict:
        return {"replicaCount": operator_replicas(settings), "podDisruptionBudget": disruption_budget(settings),
                "topologySpreadConstraints": zone_spread(settings, {
                    "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release})}

    return {
        "installCRDs": True,
        "serviceAccount": {"name": SERVICE_ACCOUNT},
        "resources": SMALL_RESOURCES,
        **ha("external-secrets"),
        "webhook": {"port": WEBHOOK_PORT, "resources": SMALL_RESOURCES, **ha("external-secrets-webhook")},
        "certController": {"resources": SMALL_RESOURCES, **ha("external-secrets-cert-controller")},
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
                                webhook_port=WEBHOOK_PORT)
        identity = self.cluster.identity(f"{ctx.prefix}-eso", ctx, SERVICE_ACCOUNT, secret_arns=self.secret_arns,
                                         secrets_key_arn=self.secrets_key_arn)
        # The operator's pods get their AWS credentials only if the association exists when they
        # are created (the Pod Identity webhook acts at pod creation): the chart waits for it.
        release = f"{ctx.prefix}-eso"
        return chart(release, CHART, ctx.namespace, values(ctx.settings, release), ctx.options(ns, identity))
