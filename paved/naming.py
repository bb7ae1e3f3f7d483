"""Names of cloud objects derived from the catalog, in one place.

Both the components (which create the objects) and the CLI (which looks them up in AWS)
call these, so the two can never drift apart.
"""

from __future__ import annotations

import hashlib

from paved.catalog import Catalog
from paved.model import Service

# Label keys on every Kubernetes object paved creates. Components write them; cost, rules,
# the diff and the Backstage export read them.
SERVICE_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
PART_OF_LABEL = "app.kubernetes.io/part-of"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
COMPONENT_LABEL = "app.kubernetes.io/component"
VERSION_LABEL = "app.kubernetes.io/version"
TEAM_LABEL = "paved.dev/team"
COST_CENTER_LABEL = "paved.dev/cost-center"
ENVIRONMENT_LABEL = "paved.dev/environment"

# Named ports of every service's container and Service: its probes, its Ingress backend and
# its ServiceMonitor refer to the ports by these names.
HTTP_PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"


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


def service_secret_name(environment: str, service: Service, secret: str) -> str:
    """Secrets Manager name of one of ``service``'s declared secrets."""
    return secret_name(environment, service.team, secret_owner(service), secret)


def declared_secrets(catalog: Catalog, environment: str) -> list[tuple[str, str, str]]:
    """(service, secret, Secrets Manager name) for every secret the catalog declares."""
    return [
        (svc.name, s.name, service_secret_name(environment, svc, s.name))
        for svc in catalog.services
        for s in svc.secrets
    ]


def dashboard_uid(service: Service) -> str:
    """A stable Grafana uid (at most 40 characters) for the service's dashboard."""
    uid = f"paved-{service.name}"
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha256(service.name.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"
