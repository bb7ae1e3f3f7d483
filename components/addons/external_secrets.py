"""External Secrets Operator: copies each service's secrets from Secrets Manager into its
namespace, and generates values in the cluster (Grafana's admin password, the first value of
every platform-managed secret).

Reads are scoped per team: the controller's own role may do nothing but assume the team roles
(components/secrets.py), and each team namespace has its own ``SecretStore`` naming its team's
role (``spec.provider.aws.role``), so an ExternalSecret in one team's namespace cannot read
another team's secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import SMALL_RESOURCES, chart, disruption_budget, operator_replicas, zone_spread
from components.identity import ServiceIdentity, role_annotations
from components.namespace import platform_namespace
from components.versions import GENERATORS_API
from paved.naming import EXTERNAL_SECRETS_NAMESPACE
from paved.stack import StackSettings

CHART = "external-secrets"
NAMESPACE = EXTERNAL_SECRETS_NAMESPACE
SERVICE_ACCOUNT = "external-secrets"
WEBHOOK_PORT = 10250


def values(settings: StackSettings, release: str, sa_annotations: dict | None = None) -> dict:
    """Chart values: CRDs installed with the chart, a named ServiceAccount (annotated with its
    role in IRSA mode), small pods; the controller, its webhook (failurePolicy Fail on
    ExternalSecrets) and the certificate controller each highly available where the stack asks
    (all three elect a leader or serve statelessly)."""
    def ha(name: str) -> dict:
        return {"replicaCount": operator_replicas(settings), "podDisruptionBudget": disruption_budget(operator_replicas(settings)),
                "topologySpreadConstraints": zone_spread(settings, {
                    "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release})}

    return {
        "installCRDs": True,
        "serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": dict(sa_annotations or {})},
        "resources": SMALL_RESOURCES,
        **ha("external-secrets"),
        "webhook": {"port": WEBHOOK_PORT, "resources": SMALL_RESOURCES, **ha("external-secrets-webhook")},
        "certController": {"resources": SMALL_RESOURCES, **ha("external-secrets-cert-controller")},
    }


def password_spec() -> dict:
    """An ESO ``Password`` generator: 32 characters, letters and digits (no symbols to escape in
    a connection string or a shell). Grafana's admin password and every managed secret's first
    value use it."""
    return {"length": 32, "digits": 8, "symbols": 0, "noUpper": False, "allowRepeat": True}


def password_generator(name: str, generator: str, namespace: str, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    """The namespaced Password generator ``generator`` (a generator is referenced only from its own namespace)."""
    return k8s.apiextensions.CustomResource(
        name, api_version=GENERATORS_API, kind="Password",
        metadata=ObjectMetaArgs(name=generator, namespace=namespace), spec=password_spec(), opts=opts)


def assume_team_roles_statements(role_arns: list[str]) -> list[dict[str, Any]]:
    """The controller's only permission: assume the team roles its SecretStores name."""
    return [{"Sid": "AssumeTeamSecretRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Resource": sorted(role_arns)}]


def team_role_trust(controller_role_arn: str) -> dict[str, Any]:
    """A team role trusts exactly the ESO controller's role."""
    return {"Sid": "AssumeByExternalSecrets", "Effect": "Allow", "Principal": {"AWS": controller_role_arn},
            "Action": "sts:AssumeRole"}


def team_statements(read_arns: list[str], push_arns: list[str], key_arn: str, region: str) -> list[dict[str, Any]]:
    """What one team's SecretStore may do in Secrets Manager: read exactly the team's secrets,
    decrypt them only through Secrets Manager, and write the first value of its managed ones.

    PushSecret (the first value) describes the secret, checks for a current value
    (GetSecretValue), clears a resource policy it was not given (DeleteResourcePolicy) and puts
    the value (PutSecretValue), which with a customer-managed key also needs kms:GenerateDataKey.
    """
    via = {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadTeamSecrets", "Effect": "Allow",
         "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"], "Resource": sorted(read_arns)},
        {"Sid": "DecryptTeamSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn, "Condition": via},
    ]
    if push_arns:
        statements += [
            {"Sid": "WriteFirstValueOfManagedSecrets", "Effect": "Allow",
             "Action": ["secretsmanager:DeleteResourcePolicy", "secretsmanager:PutSecretValue"],
             "Resource": sorted(push_arns)},
            {"Sid": "EncryptManagedSecrets", "Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key_arn,
             "Condition": via},
        ]
    return statements


def secret_store_spec(region: str, role_arn: pulumi.Input[str]) -> dict:
    """A team's SecretStore: Secrets Manager in the stack's region, through the team's role. No
    ``auth``: the controller's own credentials (Pod Identity or IRSA) assume the role."""
    return {"provider": {"aws": {"service": "SecretsManager", "region": region, "role": role_arn}}}


def push_secret_spec(store: str, generator: str, remote_key: str, key: str) -> dict:
    """A PushSecret writing a generated password to ``remote_key`` as ``{"<key>": "..."}``
    (a string secret, as AWS's rotation templates read it), only while it has no value:
    ``IfNotExists`` never overwrites a value that was put or rotated since."""
    return {
        "refreshInterval": "1h",
        "updatePolicy": "IfNotExists",
        "deletionPolicy": "None",
        "secretStoreRefs": [{"kind": "SecretStore", "name": store}],
        "selector": {"generatorRef": {"apiVersion": GENERATORS_API, "kind": "Password", "name": generator}},
        "data": [{
            "match": {"secretKey": "password", "remoteRef": {"remoteKey": remote_key, "property": key}},
            "metadata": {"apiVersion": "kubernetes.external-secrets.io/v1alpha1", "kind": "PushSecretMetadata",
                         "spec": {"secretPushFormat": "string"}},
        }],
    }


@dataclass(frozen=True)
class Installed:
    """What :meth:`ExternalSecrets.install` registered: the controller's identity and its chart."""

    identity: ServiceIdentity
    chart: pulumi.Resource


@dataclass(frozen=True)
class ExternalSecrets:
    """The add-on. Its AWS role gets no permission here: the component that knows the teams
    lets it assume their roles (:func:`assume_team_roles_statements`)."""

    cluster: ClusterAccess

    def install(self, ctx: AddOnContext) -> Installed:
        """Its namespace and identity, then the chart (which serves the CRDs)."""
        ns = platform_namespace(f"{ctx.prefix}-eso-ns", ctx.namespace, ctx.settings, ctx.options(),
                                webhook_port=WEBHOOK_PORT, aws_role=True)
        identity = self.cluster.identity(f"{ctx.prefix}-eso", ctx, SERVICE_ACCOUNT)
        annotations = role_annotations(ctx.settings.cluster.identity, identity.role_arn)
        # The operator's pods get their AWS credentials only if the association exists when they
        # are created (the Pod Identity webhook acts at pod creation): the chart waits for it.
        release = f"{ctx.prefix}-eso"
        return Installed(identity, chart(release, CHART, ctx.namespace, values(ctx.settings, release, annotations),
                                         ctx.options(ns, identity)))

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """:meth:`install`, returning the chart."""
        return self.install(ctx).chart
