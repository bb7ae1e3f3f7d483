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
        "aws-ebs-csi-driver": "v1.53.0-eksbuild.1",
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
    # Prometheus Operator v0.93.1 with Prometheus, Alertmanager, Grafana (grafana-community
    # chart 12.11.1) and kube-state-metrics 8.4.0; the subcharts ship inside this version.
    "kube-prometheus-stack": {
        "repo": "https://prometheus-community.github.io/helm-charts",
        "chart": "kube-prometheus-stack",
        "version": "88.5.3",
    },
    # Jaeger v2 (all-in-one on the OpenTelemetry Collector core); image pinned in IMAGES.
    "jaeger": {
        "repo": "https://jaegertracing.github.io/helm-charts",
        "chart": "jaeger",
        "version": "4.11.1",
    },
    "opentelemetry-collector": {
        "repo": "https://open-telemetry.github.io/opentelemetry-helm-charts",
        "chart": "opentelemetry-collector",
        "version": "0.170.0",
    },
}

# The External Secrets API versions served by the pinned chart above.
EXTERNAL_SECRETS_API = "external-secrets.io/v1beta1"
GENERATORS_API = "generators.external-secrets.io/v1alpha1"

# Images paved sets explicitly (the charts above pin the rest of theirs by chart version).
IMAGES: dict[str, str] = {
    # The appVersion of jaeger chart 4.11.1.
    "jaeger": "jaegertracing/jaeger:2.19.0",
    # The appVersion of opentelemetry-collector chart 0.170.0; the chart requires the image to
    # be named. The k8s distribution carries the OTLP receiver and exporter paved uses.
    "opentelemetry-collector": "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.158.0",
}
