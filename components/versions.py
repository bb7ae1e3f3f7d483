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
        "version": "2.9.0",
    },
    "aws-load-balancer-controller": {
        "repo": "https://aws.github.io/eks-charts",
        "chart": "aws-load-balancer-controller",
        "version": "3.5.0",
    },
    "reloader": {
        "repo": "https://stakater.github.io/stakater-charts",
        "chart": "reloader",
        "version": "2.2.16",
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
    # Pinned for the add-ons that come next; nothing deploys them yet.
    "metrics-server": {
        "repo": "https://kubernetes-sigs.github.io/metrics-server",
        "chart": "metrics-server",
        "version": "3.13.1",
    },
    "karpenter": {
        "repo": "oci://public.ecr.aws/karpenter",
        "chart": "karpenter",
        "version": "1.14.1",
    },
    "karpenter-crd": {
        "repo": "oci://public.ecr.aws/karpenter",
        "chart": "karpenter-crd",
        "version": "1.14.1",
    },
    "keda": {
        "repo": "https://kedacore.github.io/charts",
        "chart": "keda",
        "version": "2.20.2",
    },
    "fluent-bit": {
        "repo": "https://fluent.github.io/helm-charts",
        "chart": "fluent-bit",
        "version": "0.58.1",
    },
    "argo-rollouts": {
        "repo": "https://argoproj.github.io/argo-helm",
        "chart": "argo-rollouts",
        "version": "2.41.0",
    },
    "cluster-autoscaler": {
        "repo": "https://kubernetes.github.io/autoscaler",
        "chart": "cluster-autoscaler",
        "version": "9.59.0",
    },
}

# The External Secrets API version served by the pinned chart above: 2.x serves only v1 for
# ExternalSecret and (Cluster)SecretStore (its CRDs carry no v1beta1 any more).
EXTERNAL_SECRETS_API = "external-secrets.io/v1"
GENERATORS_API = "generators.external-secrets.io/v1alpha1"
PUSH_SECRETS_API = "external-secrets.io/v1alpha1"  # PushSecret is served at v1alpha1 only (chart 2.9.0)
# Rollout and AnalysisTemplate as argo-rollouts chart 2.41.0's CRDs serve them.
ROLLOUTS_API = "argoproj.io/v1alpha1"

# Images paved sets explicitly (the charts above pin the rest of theirs by chart version).
IMAGES: dict[str, str] = {
    # The appVersion of jaeger chart 4.11.1.
    "jaeger": "jaegertracing/jaeger:2.19.0",
    # The appVersion of opentelemetry-collector chart 0.170.0; the chart requires the image to
    # be named. The k8s distribution carries the OTLP receiver and exporter paved uses.
    "opentelemetry-collector": "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.158.0",
}
