"""SecretStore: Secrets Manager entries for every declared secret, and their delivery.

Values never pass through Pulumi. A platform-managed secret (``rotation: managed``) gets its
first value in the cluster: an External Secrets ``Password`` generator and a ``PushSecret``
(``updatePolicy: IfNotExists``) write ``{"password": "..."}`` to it once, and the stack's
rotation Lambda rotates it from then on. A third-party secret is filled by ``paved secrets
put``. External Secrets Operator copies each value into the service's namespace, through
the team's own ``SecretStore`` and IAM role, and Reloader restarts the pods when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.addons import AddOnContext, ClusterAccess, external_secrets, platform_tags, reloader
from components.data import delivers_master_secret, master_secret_statements
from components.keys import customer_key, document
from components.renames import former_aliases
from components.versions import EXTERNAL_SECRETS_API, PUSH_SECRETS_API
from paved.catalog import Catalog
from paved.layers import PlatformFacts
from paved.model import Service
from paved.naming import MANAGED_SECRET_KEY, alert_secrets, service_secret_name
from paved.stack import StackSettings

STORE_NAME = "aws-secrets-manager"  # the SecretStore in every team namespace that has secrets
PASSWORD_GENERATOR = "paved-password"  # the Password generator in the same namespaces
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"  # pulumi-kubernetes' await for a custom resource's condition
ROTATION_TAG = "paved.dev/rotation"  # "managed" or "third-party"; policy PAVED-SEC-052/053 read it
# ESO pushes only to a secret tagged as its own (it refuses "secret not managed by
# external-secrets" otherwise): a managed secret's first value comes from a PushSecret.
ESO_MANAGED_TAG = ("managed-by", "external-secrets")
# What the rotation Lambda's role may do with the secrets key (AWS: rotating a secret encrypted
# with a customer-managed key needs these on the key).
ROTATION_KEY_OPERATIONS = ("Decrypt", "DescribeKey", "Encrypt", "GenerateDataKey")


@dataclass(frozen=True)
class SecretStoreArgs:
    """The catalog (its declared secrets), the stack, the cluster for the operators, and the
    team namespaces (by team name) the SecretStores go into."""

    catalog: Catalog
    settings: StackSettings
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None
    namespaces: dict[str, pulumi.Resource] | None = None
    # Layers (paved.layers): the platform part (the key, External Secrets, Reloader, the alert
    # receivers' secrets) reads ``facts`` only; the team part (each team's secrets, role, store and
    # first values) is made for ``teams`` (None: none). A team stack passes the platform stack's
    # ``reference`` instead of making the platform part.
    facts: PlatformFacts | None = None
    teams: tuple[str, ...] | None = None
    reference: "SecretsReference | None" = None


@dataclass(frozen=True)
class SecretsReference:
    """The platform part of another stack, as its outputs describe it."""

    key_arn: pulumi.Input[str]
    eso_role_arn: pulumi.Input[str]
    eso_role_name: pulumi.Input[str]


def team_tags(catalog: Catalog, service: str) -> dict[str, str]:
    """Owner and cost-center of the service's team, plus the service itself."""
    team = catalog.team(catalog.service(service).team)
    return {"owner": team.owner, "cost-center": team.cost_center, "team": team.name, "service": service}


def secret_tags(catalog: Catalog, service: Service, rotation: str) -> dict[str, str]:
    """A secret's tags: its team's, its rotation kind, and ESO's ownership tag when ESO writes its first value."""
    tags = {**team_tags(catalog, service.name), ROTATION_TAG: rotation}
    if rotation == "managed":
        tags[ESO_MANAGED_TAG[0]] = ESO_MANAGED_TAG[1]
    return tags


def push_secret_name(service: Service, secret: str) -> str:
    """The PushSecret that gives one managed secret its first value, in the team's namespace."""
    return f"{service.name}-{secret}"


class SecretStore(pulumi.ComponentResource):
    """The secrets key, one secret per declared secret, External Secrets (a SecretStore and an IAM
    role per team) and Reloader."""

    key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:secrets:SecretStore", name, None, opts)
        s = args.settings
        self.secret_arns: dict[str, list[pulumi.Output[str]]] = {}
        self.team_stores: dict[str, pulumi.Resource] = {}
        self.team_roles: dict[str, aws.iam.Role] = {}  # team → the role its SecretStore reads with
        self.pushes: dict[str, list[pulumi.Resource]] = {}  # service → its PushSecrets
        self.alerts_role_arn: pulumi.Output[str] | None = None
        self.alerts_policy: pulumi.Resource | None = None
        self.operator: pulumi.Resource | None = None
        if args.reference is None:
            self._platform(name, args)
        else:
            self.key_arn = pulumi.Output.from_input(args.reference.key_arn)
            self.eso_role_arn = pulumi.Output.from_input(args.reference.eso_role_arn)
            self.eso_role_name = pulumi.Output.from_input(args.reference.eso_role_name)
        for team in args.teams or ():
            self.add_team(name, args, team)
        self.register_outputs({"key_arn": self.key_arn})

    def _platform(self, name: str, args: SecretStoreArgs) -> None:
        """The secrets key, External Secrets, the alert receivers' secrets and their role, Reloader."""
        s, facts = args.settings, args.facts
        key = customer_key(f"{name}", f"Secrets Manager secrets of {s.environment}", s.kms_deletion_window_days, self)
        self.key_arn = key.arn
        if facts is not None and facts.rotation and s.secrets.rotation_role_arn is not None:
            # The rotation Lambda reads and writes the secrets, encrypted with this customer-managed key.
            aws.kms.Grant(f"{name}-rotation-grant", aws.kms.GrantArgs(
                key_id=key.key_id, grantee_principal=s.secrets.rotation_role_arn,
                operations=list(ROTATION_KEY_OPERATIONS)), opts=pulumi.ResourceOptions(parent=self))
        cluster = ClusterAccess(cluster_name=args.cluster_name, cluster_arn=args.cluster_arn, account_id=args.account_id,
                                oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer)
        eso = external_secrets.ExternalSecrets(cluster=cluster).install(
            AddOnContext(prefix=name, namespace=external_secrets.NAMESPACE, settings=s, parent=self))
        self.operator = eso.chart
        self.eso_role_arn = eso.identity.role_arn
        self.eso_role_name = eso.identity.role_name
        teams = Catalog(file="", teams=facts.teams if facts else (), services=())
        alert_arns = []
        for team_name, kind, secret_id in alert_secrets(teams, s.environment):
            owner = teams.team(team_name) if team_name else None
            tags = ({"owner": owner.owner, "cost-center": owner.cost_center, "team": owner.name} if owner
                    else {"owner": s.platform_owner, "cost-center": s.platform_cost_center})
            alert = aws.secretsmanager.Secret(f"{name}-alerts-{team_name or 'platform'}-{kind}",
                aws.secretsmanager.SecretArgs(
                    name=secret_id, description=f"Alertmanager {kind} credential" + (f" of team {team_name}" if team_name else ""),
                    kms_key_id=key.arn, recovery_window_in_days=s.secrets.recovery_window_days,
                    tags={**tags, ROTATION_TAG: "third-party"}),
                opts=pulumi.ResourceOptions(parent=self))
            alert.paved_team = team_name
            alert_arns.append(alert.arn)
        if alert_arns:
            # Alertmanager's credentials are read into the monitoring namespace through a role of their
            # own, which reads exactly these secrets (not any team's service secrets).
            role, self.alerts_policy = self._reader_role(
                f"{name}-alerts", "paved: External Secrets reads Alertmanager's receiver credentials",
                platform_tags(s, "alertmanager"), eso.identity.role_arn, alert_arns, [], key.arn, s.aws_region)
            self.alerts_role_arn = role.arn
            # The controller may assume it (each team stack lets it assume its own team's role).
            aws.iam.RolePolicy(f"{name}-eso-assume-team-roles", aws.iam.RolePolicyArgs(
                role=eso.identity.role_name,
                policy=role.arn.apply(lambda arn: document(*external_secrets.assume_team_roles_statements([arn])))),
                opts=pulumi.ResourceOptions(parent=self))
        reloader.Reloader().deploy(AddOnContext(prefix=name, namespace=reloader.NAMESPACE, settings=s, parent=self))

    def add_team(self, name: str, args: SecretStoreArgs, team_name: str) -> None:
        """One team's secrets, the role External Secrets reads them with, its SecretStore, and the
        first values and rotation of its managed secrets."""
        s, catalog = args.settings, args.catalog
        team = catalog.team(team_name)
        arns: list[pulumi.Output[str]] = []
        managed: list[tuple[Service, str, pulumi.Output[str]]] = []
        rotated: list[tuple[Service, Any, aws.secretsmanager.Secret]] = []  # rotated once they have a value
        for svc in catalog.services_of(team_name):
            for declared in svc.secrets:
                secret = aws.secretsmanager.Secret(f"{name}-{svc.name}-{declared.name}", aws.secretsmanager.SecretArgs(
                    name=service_secret_name(s.environment, svc, declared.name),
                    description=declared.description or f"{declared.name} of {svc.name}",
                    kms_key_id=self.key_arn,
                    recovery_window_in_days=s.secrets.recovery_window_days,
                    tags=secret_tags(catalog, svc, declared.rotation)),
                    opts=pulumi.ResourceOptions(parent=self, aliases=former_aliases(svc, declared.name, f"{name}-")))
                secret.paved_service, secret.paved_team = svc.name, svc.team  # cost and review per service
                self.secret_arns.setdefault(svc.name, []).append(secret.arn)
                arns.append(secret.arn)
                if declared.rotation == "managed":
                    managed.append((svc, declared.name, secret.arn))
                    rotated.append((svc, declared, secret))
        # A migration Job reads its database's master user secret through the team's store too.
        if not arns and not any(delivers_master_secret(svc) for svc in catalog.services_of(team_name)):
            return
        ns = team.namespace_name
        namespaces = args.namespaces or {}
        in_ns = [*([self.operator] if self.operator is not None else []),
                 *([namespaces[team_name]] if team_name in namespaces else [])]
        role, policy = self._reader_role(
            f"{name}-{team_name}", f"paved: External Secrets reads the secrets of team {team_name}",
            {**platform_tags(s, "external-secrets"), "owner": team.owner, "cost-center": team.cost_center,
             "team": team_name}, self.eso_role_arn, arns, [a for _, _, a in managed], self.key_arn, s.aws_region)
        role.paved_team = team_name
        if policy is not None:
            policy.paved_team = team_name
        self.team_roles[team_name] = role
        # The controller may assume the team's role: granted by the team's own stack.
        assume = aws.iam.RolePolicy(f"{name}-{team_name}-eso-assume", aws.iam.RolePolicyArgs(
            role=self.eso_role_name,
            policy=role.arn.apply(lambda arn: document(*external_secrets.assume_team_roles_statements([arn])))),
            opts=pulumi.ResourceOptions(parent=self))
        assume.paved_team = team_name
        store = k8s.apiextensions.CustomResource(
            f"{name}-{team_name}-store", api_version=EXTERNAL_SECRETS_API, kind="SecretStore",
            metadata=ObjectMetaArgs(name=STORE_NAME, namespace=ns),
            spec=external_secrets.secret_store_spec(s.aws_region, role.arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*in_ns, *([policy] if policy else []), assume]))
        store.paved_team = team_name
        self.team_stores[team_name] = store
        if managed:
            generator = external_secrets.password_generator(f"{name}-{team_name}-password", PASSWORD_GENERATOR, ns,
                                                            pulumi.ResourceOptions(parent=self, depends_on=in_ns))
            for svc, secret_name, _ in managed:
                pushed = k8s.apiextensions.CustomResource(
                    f"{name}-{svc.name}-{secret_name}-push", api_version=PUSH_SECRETS_API, kind="PushSecret",
                    # pulumi up waits until ESO reports the value written (condition Ready), so what
                    # depends on it (the rotation, the ExternalSecret, the pods) finds a value.
                    metadata=ObjectMetaArgs(name=push_secret_name(svc, secret_name), namespace=ns,
                                            annotations={WAIT_FOR_ANNOTATION: "condition=Ready"}),
                    spec=external_secrets.push_secret_spec(STORE_NAME, PASSWORD_GENERATOR,
                                                           service_secret_name(s.environment, svc, secret_name),
                                                           MANAGED_SECRET_KEY),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[store, generator],
                                                aliases=former_aliases(svc, f"{secret_name}-push", f"{name}-")))
                pushed.paved_service, pushed.paved_team = svc.name, svc.team
                self.pushes.setdefault(svc.name, []).append(pushed)
        for svc, declared, secret in rotated:
            # Catalog validation guarantees the stack has a rotation Lambda here. Rotation starts
            # once the secret has its first value and waits for its schedule: rotating an empty
            # secret fails (AWS's templates read the current JSON value).
            rotation = aws.secretsmanager.SecretRotation(f"{name}-{svc.name}-{declared.name}-rotation",
                aws.secretsmanager.SecretRotationArgs(
                    secret_id=secret.id, rotation_lambda_arn=s.secrets.rotation_lambda_arn,
                    rotate_immediately=False,
                    rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                        automatically_after_days=declared.rotation_days)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=self.pushes.get(svc.name, []),
                                            aliases=former_aliases(svc, f"{declared.name}-rotation", f"{name}-")))
            rotation.paved_service, rotation.paved_team = svc.name, svc.team

    def grant_database_master(self, name: str, service: Service, secret_arn: pulumi.Input[str],
                              key_arn: pulumi.Input[str], region: str) -> aws.iam.RolePolicy:
        """Let the team's store read one database's RDS-managed master user secret (for the service's
        migration Job): exactly that secret, decrypted with the service's key through Secrets Manager."""
        policy = aws.iam.RolePolicy(f"{name}-{service.name}-db-master", aws.iam.RolePolicyArgs(
            role=self.team_roles[service.team].id,
            policy=pulumi.Output.all(secret_arn, key_arn).apply(
                lambda v: document(*master_secret_statements(v[0], v[1], region)))),
            opts=pulumi.ResourceOptions(parent=self, aliases=former_aliases(service, "db-master", f"{name}-")))
        policy.paved_service, policy.paved_team = service.name, service.team
        return policy

    def _reader_role(self, name: str, description: str, tags: dict[str, str], eso_role_arn: pulumi.Output[str],
                     arns: list[pulumi.Output[str]], managed_arns: list[pulumi.Output[str]],
                     key_arn: pulumi.Output[str], region: str) -> tuple[aws.iam.Role, aws.iam.RolePolicy | None]:
        """A role ESO's controller assumes to read exactly ``arns`` (and write the first value of
        ``managed_arns``), decrypting with the secrets key through Secrets Manager only. No policy
        without ``arns`` (IAM refuses an empty one): the team's databases' master secrets are
        granted one by one (:meth:`grant_database_master`)."""
        role = aws.iam.Role(f"{name}-role", aws.iam.RoleArgs(
            description=description,
            assume_role_policy=eso_role_arn.apply(lambda a: document(external_secrets.team_role_trust(a))),
            tags=tags), opts=pulumi.ResourceOptions(parent=self))
        if not arns:
            return role, None
        policy = aws.iam.RolePolicy(f"{name}-policy", aws.iam.RolePolicyArgs(
            role=role.id,
            policy=pulumi.Output.all(pulumi.Output.all(*arns), pulumi.Output.all(*managed_arns), key_arn)
            .apply(lambda v: document(*external_secrets.team_statements(list(v[0]), list(v[1]), v[2], region)))),
            opts=pulumi.ResourceOptions(parent=self))
        return role, policy
