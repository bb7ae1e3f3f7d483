"""PAVED-SEC-019: every image names an explicit tag (not latest) or a digest.

Also holds :func:`parse_image`, the one image-reference parser the image rules share.
An image that is unknown at preview (built from an ECR repository URL created in the same
run) passes the image rules: its value is computed by this stack, and failing closed would
block every first deployment of a new repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way container runtimes read it."""

    registry: str  # "docker.io" when the reference names none
    path: str  # "library/nginx", "shop/orders"
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        """``registry/path``, the part an allow-list matches."""
        return f"{self.registry}/{self.path}"


def parse_image(image: str) -> ImageRef:
    """``123.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.8.2`` → its registry, path, tag and digest."""
    ref, _, digest = image.partition("@")
    name, tag = ref, None
    head, _, last = ref.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        name = f"{head}/{last}" if head else last
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), rest
    else:
        registry, path = "docker.io", name if rest else f"library/{name}"
    return ImageRef(registry=registry, path=path, tag=tag or None, digest=digest or None)


def _check(container, pod, config):
    image = lookup(container, "image")
    if image is UNKNOWN:
        return None
    if not isinstance(image, str) or not image.strip():
        return "name an image with an explicit version tag"
    ref = parse_image(image.strip())
    if ref.digest:
        return None
    if ref.tag is None:
        return f"pin image {image} to an explicit version tag (it has none, so it floats to latest)"
    if ref.tag.lower() == "latest":
        return f"pin image {image} to an explicit version tag, not latest"
    return None


RULE = Rule(
    id="PAVED-SEC-019",
    name="image-tag-not-latest",
    description="Checks whether every container image names an explicit version tag other than latest (or a "
    "digest), so rollouts are reproducible and reviewable.",
    severity="high",
    remediation="Use image: <repository>:<version> with the release version, set in services_catalog.yaml or "
    "components/versions.py.",
    anchors=("CKV_K8S_14", "ks:container-image-tag", "pol:tagNotSpecified"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
