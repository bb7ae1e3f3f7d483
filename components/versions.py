"""Every version paved pins, in one place.

Charts and images added by later components (observability, External Secrets, the load
balancer controller) are pinned here too; ``tests/test_versions.py`` proves none floats.
"""

from __future__ import annotations

# Pod Security Admission policy version: pinned to the cluster's minor version by the
# stack (StackSettings.pod_security_version), never "latest", so an upgrade of the API
# server does not silently tighten or loosen the profile.
POD_SECURITY_LEVEL = "restricted"

CHARTS: dict[str, dict[str, str]] = {}
IMAGES: dict[str, str] = {}
