"""Names of cloud objects derived from the catalog, in one place.

Both the components (which create the objects) and the CLI (which looks them up in AWS)
call these, so the two can never drift apart.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model validates against the names below, so naming cannot import it
    from paved.catalog import Catalog
    from paved.model import Service

# Label keys on every Kubernetes object paved creates. Components write them; cost, rules,
# the diff and the Backstage export read them.
SERVICE_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "app.kubernetes.io/component"
# A service's migration Job carries this component (components/migration.py); it alone may
# mount the database's master user secret, whose ExternalSecret carries the kind label below
# (policy PAVED-SEC-035).
MIGRATION_COMPONENT = "migration"
SECRET_KIND_LABEL = "paved.dev/secret-kind"
DATABASE_MASTER_SECRET_KIND = "database-master"
VERSION_LABEL = "app.kubernetes.io/version"
TEAM_LABEL = "paved.dev/team"
COST_CENTER_LABEL = "paved.dev/cost-center"
ENVIRONMENT_LABEL = "paved.dev/environment"
# The well-known node label of a node's availability zone (zone spreading of every workload).
ZONE_KEY = "topology.kubernetes.io/zone"

# Named ports of every service's container and Service: its probes, its Ingress backend and
# its ServiceMonitor refer to the ports by these names.
HTTP_PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"

# Namespaces a team may not take: Kubernetes' own, and the ones the platform creates for its
# operators (components/observability.py, secrets.py, ingress.py use these names; a test
# keeps them in step).
KUBERNETES_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
MONITORING_NAMESPACE = "monitoring"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
RELOADER_NAMESPACE = "reloader"
LOAD_BALANCER_NAMESPACE = "aws-load-balancer"
KEDA_NAMESPACE = "keda"
LOGGING_NAMESPACE = "logging"
ROLLOUTS_NAMESPACE = "argo-rollouts"
PLATFORM_NAMESPACES = (MONITORING_NAMESPACE, EXTERNAL_SECRETS_NAMESPACE, RELOADER_NAMESPACE, LOAD_BALANCER_NAMESPACE,
                       KEDA_NAMESPACE, LOGGING_NAMESPACE, ROLLOUTS_NAMESPACE)
RESERVED_NAMESPACES = frozenset(KUBERNETES_NAMESPACES + PLATFORM_NAMESPACES)
# Kubernetes keeps every `kube-` name for itself.
RESERVED_NAMESPACE_PREFIX = "kube-"

# Environment variables paved sets in every service container (components/service.py,
# components/monitoring.py); a catalog `env` entry may not set them. Whole prefixes are
# reserved where paved sets a family (one KAFKA_TOPIC_<TOPIC> per topic, the OTEL_* SDK
# settings); `<SECRET>_FILE` is reserved per declared secret.
# The data contract (docs/data-contract.md): libpq's own variables for the service's PostgreSQL
# database (PGPASSWORD too: paved never sets one, the service signs an IAM token instead, and a
# catalog value would be a static password). AWS_REGION, which paved sets for a service with
# datastores, is refused only there (paved.catalog.data_rules): elsewhere it stays free.
DATA_ENV_NAMES = frozenset({"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE", "PGSSLROOTCERT", "PGPASSWORD"})
TABLE_REGION_ENV = "AWS_REGION"
PLATFORM_ENV_NAMES = frozenset({"PORT"}) | DATA_ENV_NAMES
PLATFORM_ENV_PREFIXES = ("PAVED_", "OTEL_", "KAFKA_")
SECRET_FILE_SUFFIX = "_FILE"
# Set in every pod by the platform underneath paved: the kubelet gives the API server's
# address, and EKS injects the service's credentials (Pod Identity; IRSA in `irsa` mode). The
# EKS webhooks leave a variable the container already sets alone, so a catalog value would
# silently take the credentials away. (AWS_REGION stays free: Pod Identity does not set it.)
INJECTED_ENV_NAMES = frozenset({
    "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_STS_REGIONAL_ENDPOINTS",
})


def reserved_namespace(name: str) -> bool:
    """Whether ``name`` is a namespace Kubernetes or the platform keeps for itself."""
    return name in RESERVED_NAMESPACES or name.startswith(RESERVED_NAMESPACE_PREFIX)


def platform_env(name: str) -> bool:
    """Whether paved itself sets the environment variable ``name`` (secret files aside)."""
    return name in PLATFORM_ENV_NAMES or name.startswith(PLATFORM_ENV_PREFIXES)


def injected_env(name: str) -> bool:
    """Whether Kubernetes or EKS sets the environment variable ``name`` in every pod."""
    return name in INJECTED_ENV_NAMES


def table_env_name(table: str) -> str:
    """The variable carrying a table's physical name: ``stock-levels`` → ``PAVED_TABLE_STOCK_LEVELS``."""
    return "PAVED_TABLE_" + table.upper().replace("-", "_")


def table_name(environment: str, table: str) -> str:
    """DynamoDB name of a catalog table: ``<env>-<table>`` (table names are unique in the catalog)."""
    return f"{environment}-{table}"


def database_identifier(environment: str, service: str) -> str:
    """RDS instance identifier of a service's database: ``paved-<env>-<service>``."""
    return f"paved-{environment}-{service}"


def database_name(service: str) -> str:
    """PostgreSQL database (and IAM database user) of a service: ``order-history`` → ``order_history``."""
    return service.replace("-", "_")


def topic_env_name(topic: str) -> str:
    """The variable carrying a topic's name: ``order.placed`` → ``KAFKA_TOPIC_ORDER_PLACED``.

    Kafka itself treats ``.`` and ``_`` alike in metric names; this folds ``-`` and case too,
    so two topics with the same variable name are refused by validation.
    """
    return "KAFKA_TOPIC_" + topic.upper().replace("-", "_").replace(".", "_")


# A platform-managed secret (``rotation: managed``) is a JSON object with this key, as AWS's
# rotation Lambda templates expect (``{"password": "..."}``); the service's file holds the value.
MANAGED_SECRET_KEY = "password"


def secret_name(environment: str, team: str, service: str, secret: str) -> str:
    """Secrets Manager name of a declared secret: ``<env>/<team>/<service>/<secret>``."""
    return f"{environment}/{team}/{service}/{secret}"


def secret_owner(service: Service) -> str:
    """The service name a service's secrets are filed under: its first name.

    A secret's name cannot change without replacing it (a new, empty secret), so a renamed
    service keeps the names its secrets were created with: ``formerNames`` lists the old
    names oldest first.
    """
    return service.former_names[0] if service.former_names else service.name


def secret_team(service: Service) -> str:
    """The team a service's secrets are filed under: the team it had when they were created.

    Like the service's name, the team is part of a secret's name: a service moved to another
    team lists its old teams in ``formerTeams`` (oldest first) and its secrets keep their names.
    """
    return service.former_teams[0] if service.former_teams else service.team


def service_secret_name(environment: str, service: Service, secret: str) -> str:
    """Secrets Manager name of one of ``service``'s declared secrets."""
    return secret_name(environment, secret_team(service), secret_owner(service), secret)


def declared_secrets(catalog: Catalog, environment: str) -> list[tuple[str, str, str]]:
    """(service, secret, Secrets Manager name) for every secret the catalog declares."""
    return [
        (svc.name, s.name, service_secret_name(environment, svc, s.name))
        for svc in catalog.services
        for s in svc.secrets
    ]


# Receivers a team's alerts can go to (catalog `teams[].alerts`). Slack and PagerDuty have a
# secret per team (webhook URL, routing key); e-mail goes through the stack's one SMTP relay.
ALERT_RECEIVER_KINDS = ("slack", "email", "pagerduty")
TEAM_SECRET_RECEIVERS = ("slack", "pagerduty")
# `paved secrets` files the receivers' secrets under this pseudo-service (not a valid service
# name, so never a real one): `paved secrets put --stack prod _alerts checkout/slack`.
ALERTS_SECRET_OWNER = "_alerts"


def alert_secret_name(environment: str, team: str, kind: str) -> str:
    """Secrets Manager name of a team's receiver secret: ``<env>/_alerts/<team>/<kind>``.

    ``_alerts`` cannot be a team name (team names are DNS labels), so these never collide with
    a service's ``<env>/<team>/<service>/<secret>``.
    """
    if kind not in TEAM_SECRET_RECEIVERS:
        raise ValueError(f"receiver {kind!r} has no per-team secret; those that do: {', '.join(TEAM_SECRET_RECEIVERS)}")
    return f"{environment}/{ALERTS_SECRET_OWNER}/{team}/{kind}"


def smtp_secret_name(environment: str) -> str:
    """Secrets Manager name of the SMTP relay's password: ``<env>/_alerts/smtp``."""
    return f"{environment}/{ALERTS_SECRET_OWNER}/smtp"


def alert_secrets(catalog: Catalog, environment: str) -> list[tuple[str | None, str, str]]:
    """(team or None, receiver kind, Secrets Manager name) of every secret the catalog's alert
    receivers need: one per Slack and PagerDuty receiver, and the SMTP password once (team None)
    if any team has an e-mail receiver."""
    found: list[tuple[str | None, str, str]] = []
    email = False
    for t in catalog.teams:
        for kind in t.alerts.kinds if t.alerts is not None else ():
            if kind in TEAM_SECRET_RECEIVERS:
                found.append((t.name, kind, alert_secret_name(environment, t.name, kind)))
            email = email or kind == "email"
    if email:
        found.append((None, "smtp", smtp_secret_name(environment)))
    return found


def every_secret(catalog: Catalog, environment: str) -> list[tuple[str, str, str, str]]:
    """(service, secret, Secrets Manager name, rotation) of every secret a person or the cluster
    fills: the services' declared secrets, then the alert receivers' (service
    :data:`ALERTS_SECRET_OWNER`, secret ``<team>/<kind>`` or ``smtp``, always third-party)."""
    rotation = {(svc.name, s.name): s.rotation for svc in catalog.services for s in svc.secrets}
    found = [(svc, sec, name, rotation[(svc, sec)]) for svc, sec, name in declared_secrets(catalog, environment)]
    found += [(ALERTS_SECRET_OWNER, f"{team}/{kind}" if team else kind, name, "third-party")
              for team, kind, name in alert_secrets(catalog, environment)]
    return found


def dashboard_uid(service: Service) -> str:
    """A stable Grafana uid (at most 40 characters) for the service's dashboard."""
    uid = f"paved-{service.name}"
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha256(service.name.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"
