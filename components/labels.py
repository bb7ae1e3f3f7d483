"""Label dicts of the Kubernetes objects paved creates, built from the keys in paved/naming.py."""

from __future__ import annotations

from paved.model import Service, Team
from paved.naming import (
    COMPONENT_LABEL,
    COST_CENTER_LABEL,
    ENVIRONMENT_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    PART_OF_LABEL,
    SERVICE_LABEL,
    TEAM_LABEL,
    VERSION_LABEL,
)
from paved.resources import parse_image

PART_OF = "paved"
MANAGED_BY = "pulumi"


def part_of_labels() -> dict[str, str]:
    """The label every paved object carries; selectors for "any paved namespace" match it."""
    return {PART_OF_LABEL: PART_OF}


def platform_labels(environment: str) -> dict[str, str]:
    """Labels of the platform's own namespaces (no team owns them)."""
    return {**part_of_labels(), ENVIRONMENT_LABEL: environment}


def team_labels(team: Team, environment: str) -> dict[str, str]:
    """Ownership labels: OpenCost/Kubecost allocate cost by these."""
    return {
        **part_of_labels(),
        MANAGED_BY_LABEL: MANAGED_BY,
        TEAM_LABEL: team.name,
        COST_CENTER_LABEL: team.cost_center,
        ENVIRONMENT_LABEL: environment,
    }


def name_labels(name: str) -> dict[str, str]:
    """The one label naming a service: what peers' NetworkPolicies select it by."""
    return {SERVICE_LABEL: name}


def selector_labels(service: Service) -> dict[str, str]:
    """The labels a service's selectors match. Immutable on a Deployment: never add to them."""
    return {**name_labels(service.name), INSTANCE_LABEL: service.name}


def image_version(image: str) -> str:
    """The image tag (or a digest prefix) for the version label."""
    ref = parse_image(image)
    if ref.tag is not None:
        return ref.tag[:63]
    return ref.digest.replace("sha256:", "")[:12] if ref.digest else "unknown"


def service_labels(service: Service, team: Team, environment: str) -> dict[str, str]:
    """The labels of a service's objects: selector, ownership and component, but nothing
    derived from the image, so an image bump changes the pod template and nothing else."""
    return {
        **selector_labels(service),
        **team_labels(team, environment),
        COMPONENT_LABEL: "service",
    }


def pod_labels(service: Service, team: Team, environment: str) -> dict[str, str]:
    """The labels of a service's pods: its objects' labels plus the image's version (never in a
    selector: selectors are immutable, and the version changes with every release)."""
    return {**service_labels(service, team, environment), VERSION_LABEL: image_version(service.image)}


def observability_labels(service: Service, team: Team, environment: str) -> dict[str, str]:
    """Labels of the service's observability objects: its selector and ownership labels, but no
    version label, so an image bump does not rewrite its monitor, rules, dashboard and policies."""
    return {**selector_labels(service), **team_labels(team, environment), COMPONENT_LABEL: "observability"}
