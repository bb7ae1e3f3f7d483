"""Names of cloud objects derived from the catalog, in one place.

Both the components (which create the objects) and the CLI (which looks them up in AWS)
call these, so the two can never drift apart.
"""

from __future__ import annotations

from paved.catalog import Catalog


def secret_name(environment: str, team: str, service: str, secret: str) -> str:
    """Secrets Manager name of a declared secret: ``<env>/<team>/<service>/<secret>``."""
    return f"{environment}/{team}/{service}/{secret}"


def declared_secrets(catalog: Catalog, environment: str) -> list[tuple[str, str, str]]:
    """(service, secret, Secrets Manager name) for every secret the catalog declares."""
    return [
        (svc.name, s.name, secret_name(environment, svc.team, svc.name, s.name))
        for svc in catalog.services
        for s in svc.secrets
    ]
