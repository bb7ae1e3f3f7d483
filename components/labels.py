"""Labels shared by every Kubernetes object paved creates."""

from __future__ import annotations

from paved.model import Service, Team
from paved.resources import parse_image

PART_OF = "paved"
MANAGED_BY = "pulumi"


def team_labels(team: Team, environment: str) -> dict[str, str]:
    """Ownership labels: OpenCost/Kubecost allocate cost by these."""
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "paved.dev/team": team.name,
        "paved.dev/cost-center": team.cost_center,
        "paved.dev/environment": environment,
    }


def selector_labels(service: Service) -> dict[str, str]:
    """The labels a service's selectors match. Immutable on a Deployment: never add to them."""
    return {"app.kubernetes.io/name": service.name, "app.kubernetes.io/instance": service.name}


def image_version(image: str) -> str:
    """The image tag (or a digest prefix) for the version label."""
    ref = parse_image(image)
    if ref.tag is not None:
        return ref.tag[:63]
    return ref.digest.replace("sha256:", "")[:12] if ref.digest else "unknown"


def service_labels(service: Service, team: Team, environment: str) -> dict[str, str]:
    """All labels of a service's objects and pods."""
    return {
        **selector_labels(service),
        **team_labels(team, environment),
        "app.kubernetes.io/component": "service",
        "app.kubernetes.io/version": image_version(service.image),
    }
