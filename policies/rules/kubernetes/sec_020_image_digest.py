"""PAVED-SEC-020: images are pinned by sha256 digest (mandatory by default; advisory per env through config)."""

from __future__ import annotations

import re

from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, WORKLOAD_TYPES, lookup, parse_image

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _check(container, pod, config):
    image = lookup(container, "image")
    if image is UNKNOWN:
        return None
    if not isinstance(image, str) or not image.strip():
        return "name an image pinned by digest (<repository>@sha256:<digest>)"
    digest = parse_image(image.strip()).digest
    if digest is None or not DIGEST.fullmatch(digest):
        return f"pin image {image} by digest (<repository>:<tag>@sha256:<digest>)"
    return None


RULE = Rule(
    id="PAVED-SEC-020",
    name="image-digest-pinned",
    description="Checks whether every container image is pinned by its sha256 digest, so a re-pushed tag cannot "
    "swap the code that runs.",
    severity="medium",
    remediation="Append the digest the registry reports for the pushed tag: image: <repository>:<tag>@sha256:<digest> "
    "(aws ecr describe-images, or crane digest).",
    anchors=("CKV_K8S_43", "NSA: Building secure container images"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
)
