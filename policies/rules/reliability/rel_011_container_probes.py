"""PAVED-REL-011: every long-running container says when it is ready and when it is stuck."""

from __future__ import annotations

from collections.abc import Mapping

from paved.resources import items, kind_of, lookup, namespace_of, object_name, pod_spec
from policies.framework import Rule

# Pods that run until stopped; a Job's or CronJob's pod finishes, so it has nothing to be ready for.
LONG_RUNNING_TYPES = frozenset({
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
})
PROBES = ("readinessProbe", "livenessProbe")

# Recorded exceptions (namespace/workload/container): containers of the platform's charts that the
# upstream chart ships without one of the probes and whose values offer no way to add it. Grafana's
# dashboard and datasource sidecars only copy ConfigMaps into a shared folder; the External Secrets
# controller, its cert-controller and webhook, and the cluster autoscaler are run by leader
# election or serve only the API server. docs/policies.md lists them.
CHART_EXCEPTIONS = [
    "external-secrets/paved-secrets-eso-external-secrets/external-secrets",
    "external-secrets/paved-secrets-eso-external-secrets-cert-controller/cert-controller",
    "external-secrets/paved-secrets-eso-external-secrets-webhook/webhook",
    "monitoring/grafana/grafana-sc-dashboard",
    "monitoring/grafana/grafana-sc-datasources",
    "kube-system/paved-cluster-autoscaler-aws-cluster-autoscaler/aws-cluster-autoscaler",
]


def validate(args, report) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    exempt = set(args.get_config()["exceptions"])
    name = object_name(args.props, args.name)
    namespace = namespace_of(args.props)
    who = f"{kind_of(args.resource_type)} {name}"
    for container in items(pod, "containers"):  # init and ephemeral containers are not probed
        if not isinstance(container, Mapping):
            continue
        cname = lookup(container, "name", "?")
        if f"{namespace}/{name}/{cname}" in exempt:
            continue
        # A probe unknown at preview is set; only a missing (or null) one is reported.
        missing = [p for p in PROBES if lookup(container, p) is None]
        if missing:
            report(f"{who} container {cname} must set {' and '.join(missing)}.")


RULE = Rule(
    id="PAVED-REL-011",
    name="container-probes",
    description=(
        "Checks whether every container of a Deployment, StatefulSet, DaemonSet or ReplicaSet sets a readinessProbe "
        "(without it a pod gets traffic before it can serve, and a rollout goes on past pods that never become "
        "ready) and a livenessProbe (without it a hung process keeps its place until someone notices). Init and "
        "ephemeral containers, Jobs and CronJobs are not checked; recorded exceptions (namespace/workload/container) "
        "are skipped. A probe unknown at preview passes."
    ),
    severity="high",
    remediation=(
        "Serve /readyz and /healthz on the http port (what the Microservice component probes, see "
        "docs/metrics-contract.md); for a chart container, set its probes in the chart values, or record it in "
        "exceptions with the reason."
    ),
    anchors=("REL-K8S-007", "CKV_K8S_8", "CKV_K8S_9", "ks:pod-probes",
             "pol:readinessProbeMissing", "pol:livenessProbeMissing"),
    validate=validate,
    resource_types=LONG_RUNNING_TYPES,
    config={
        "exceptions": {"type": "array", "items": {"type": "string"}, "default": CHART_EXCEPTIONS,
                       "description": "Containers (namespace/workload/container) recorded as running without one of "
                       "the probes. A list here replaces the default, which holds the platform charts' containers."},
    },
    enforcement="mandatory",
)
