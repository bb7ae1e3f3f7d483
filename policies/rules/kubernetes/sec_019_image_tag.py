"""PAVED-SEC-019: every image names an explicit tag (not latest) or a digest.

Images are read with :func:`paved.resources.parse_image`, as in the other image rules.
An image that is unknown at preview (built from an ECR repository URL created in the same
run) passes the image rules: its value is computed by this stack, and failing closed would
block every first deployment of a new repository.
"""

from __future__ import annotations

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup, parse_image


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
