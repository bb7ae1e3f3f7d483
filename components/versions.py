"""Every version paved pins, in one place.

``tests/test_versions.py`` proves none floats: no ``latest``, no ranges, nothing empty.
"""

from __future__ import annotations

# Pod Security Admission policy version: pinned to the cluster's minor version by the
# stack (StackSettings.pod_security_version), never "latest", so an upgrade of the API
# server does not silently tighten or loosen the profile.
POD_SECURITY_LEVEL = "restricted"

# EKS managed add-ons, per Kubernetes minor version (the add-on builds AWS publishes for
# that version). A stack on a version missing here fails with the version named.
EKS_ADDONS: dict[str, dict[str, str]] = {
    "1.35": {
        "vpc-cni": "v1.21.1-eksbuild.1",
        "coredns": "v1.12.4-eksbuild.1",
        "kube-proxy": "v1.35.0-eksbuild.2",
        "eks-pod-identity-agent": "v1.3.10-eksbuild.1",
    },
}

# Helm charts: repository, chart name and exact version.
CHARTS: dict[str, dict[str, str]] = {
    "external-secrets": {
        "repo": "https://charts.external-secrets.io",
        "chart": "external-secrets",
        "version": "0.10.7",
    },
    "aws-load-balancer-controller": {
        "repo": "https://aws.github.io/eks-charts",
        "chart": "aws-load-balancer-controller",
        "version": "1.13.3",
    },
    "reloader": {
        "repo": "https://stakater.github.io/stakater-charts",
        "chart": "reloader",
        "version": "1.2.1",
    },
}

# The External Secrets API version served by the pinned chart above.
EXTERNAL_SECRETS_API = "external-secrets.io/v1beta1"

IMAGES: dict[str, str] = {}
