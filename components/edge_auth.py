"""Authentication at the public ALB (catalog ``public.auth``, OIDC).

The AWS Load Balancer Controller configures an ``authenticate-oidc`` action in front of the
service's listener rule from the Ingress annotations, and reads the client id and secret from a
Kubernetes Secret in the Ingress's namespace (keys ``clientID`` and ``clientSecret``). paved
fills that Secret from Secrets Manager through the team's SecretStore (an ExternalSecret, the
same path as the services' own secrets), never from the catalog, and lets the controller read
exactly that Secret (a Role with ``resourceNames``).
"""

from __future__ import annotations

import json

from components.addons.aws_load_balancer_controller import SERVICE_ACCOUNT as CONTROLLER_SERVICE_ACCOUNT
from paved.model import Service
from paved.naming import LOAD_BALANCER_NAMESPACE, service_secret_name

PREFIX = "alb.ingress.kubernetes.io/"


def oidc_secret_name(service: Service) -> str:
    """The Kubernetes Secret holding the service's OIDC client credentials, for the ALB only."""
    return f"{service.name}-alb-oidc"


def auth_annotations(service: Service) -> dict[str, str]:
    """The Ingress annotations of ``public.auth`` (none without it)."""
    auth = service.public.auth if service.public is not None else None
    if auth is None:
        return {}
    idp = {"issuer": auth.issuer, "authorizationEndpoint": auth.authorization_endpoint,
           "tokenEndpoint": auth.token_endpoint, "userInfoEndpoint": auth.user_info_endpoint,
           "secretName": oidc_secret_name(service)}
    return {
        f"{PREFIX}auth-type": "oidc",
        f"{PREFIX}auth-idp-oidc": json.dumps(idp, separators=(",", ":")),
        f"{PREFIX}auth-on-unauthenticated-request": auth.on_unauthenticated_request,
        f"{PREFIX}auth-scope": "openid",
    }


def oidc_external_secret_spec(service: Service, environment: str, store_name: str) -> dict:
    """The ExternalSecret copying the client id and secret (JSON properties of the declared secret)
    into :func:`oidc_secret_name`."""
    assert service.public is not None and service.public.auth is not None
    key = service_secret_name(environment, service, service.public.auth.client_secret)
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "SecretStore", "name": store_name},
        "target": {"name": oidc_secret_name(service), "creationPolicy": "Owner", "deletionPolicy": "Retain"},
        "data": [{"secretKey": k, "remoteRef": {"key": key, "property": k}} for k in ("clientID", "clientSecret")],
    }


def reader_rules(service: Service) -> list[dict]:
    """The controller may read the one Secret (get, and list/watch by name, as its informer does)."""
    return [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [oidc_secret_name(service)],
             "verbs": ["get", "list", "watch"]}]


def reader_subjects() -> list[dict]:
    """The AWS Load Balancer Controller's ServiceAccount."""
    return [{"kind": "ServiceAccount", "name": CONTROLLER_SERVICE_ACCOUNT, "namespace": LOAD_BALANCER_NAMESPACE}]
