"""ServiceObservability: what makes a catalog service observable the moment it is added.

From one effective catalog entry (with its team and stack) it registers, in the service's
team namespace:

- a ServiceMonitor for the service's metrics port and path (components/telemetry.py);
- a PrometheusRule of SLO recording rules and alerts (components/slo.py);
- a Grafana dashboard as a ConfigMap (components/dashboards.py);
- two NetworkPolicies: Prometheus may scrape the metrics port, the pods may reach the
  collector (components/telemetry.py).

The Deployment's OpenTelemetry environment comes from components/telemetry.py too, through
the Microservice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.dashboards import dashboard_configmap_args
from components.labels import observability_labels
from components.renames import former_aliases
from components.slo import RUNBOOKS, prometheus_rule_groups
from components.telemetry import (
    collector_egress_args,
    scrape_policy_args,
    service_monitor_spec,
)
from paved.model import Service, Team
from paved.naming import dashboard_uid
from paved.stack import StackSettings

PROMETHEUS_API = "monitoring.coreos.com/v1"

@dataclass(frozen=True)
class ServiceObservabilityArgs:
    """An effective catalog entry, its team and the stack.

    ``runbook_base_url`` prefixes every alert's ``runbook_url``; the default is the path in
    this repository, set it to where the repository is browsed (``https://…/blob/main/docs/runbooks``)
    to make the links clickable in notifications.
    """

    service: Service
    team: Team
    settings: StackSettings
    runbook_base_url: str = RUNBOOKS


class ServiceObservability(pulumi.ComponentResource):
    """A service's ServiceMonitor, PrometheusRule, dashboard ConfigMap and NetworkPolicies.

    Lives in the service's team namespace. The Prometheus Operator CRDs come with the
    ObservabilityStack, so create this with ``depends_on`` on that stack.
    """

    monitor_name: pulumi.Output[str]
    rule_name: pulumi.Output[str]
    dashboard_uid: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceObservabilityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:monitoring:ServiceObservability", name, None, opts)
        svc, team, s = args.service, args.team, args.settings
        if svc.team != team.name:
            raise ValueError(f"ServiceObservabilityArgs.team is {team.name!r} but service {svc.name!r} "
                             f"belongs to team {svc.team!r}")
        self.paved_service = svc.name
        self.paved_team = team.name

        def child(role: str) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, aliases=former_aliases(svc, role, within=name))

        labels = observability_labels(svc, team, s.environment)
        monitor = k8s.apiextensions.CustomResource(
            f"{name}-monitor", api_version=PROMETHEUS_API, kind="ServiceMonitor",
            metadata=ObjectMetaArgs(name=svc.name, namespace=team.namespace_name, labels=labels),
            spec=service_monitor_spec(svc, team), opts=child("monitor"))
        rule = k8s.apiextensions.CustomResource(
            f"{name}-rules", api_version=PROMETHEUS_API, kind="PrometheusRule",
            metadata=ObjectMetaArgs(name=f"{svc.name}-slo", namespace=team.namespace_name, labels=labels),
            spec={"groups": prometheus_rule_groups(svc, team, s, args.runbook_base_url)}, opts=child("rules"))
        k8s.core.v1.ConfigMap(f"{name}-dashboard", dashboard_configmap_args(svc, team, s), opts=child("dashboard"))
        k8s.networking.v1.NetworkPolicy(f"{name}-allow-prometheus", scrape_policy_args(svc, team, s),
                                        opts=child("allow-prometheus"))
        k8s.networking.v1.NetworkPolicy(f"{name}-allow-otel-collector", collector_egress_args(svc, team, s),
                                        opts=child("allow-otel-collector"))

        # Known names, tied to the resources so a reader of the outputs waits for them.
        self.monitor_name = monitor.id.apply(lambda _: svc.name)
        self.rule_name = rule.id.apply(lambda _: f"{svc.name}-slo")
        self.dashboard_uid = pulumi.Output.from_input(dashboard_uid(svc))
        self.register_outputs({"monitor_name": self.monitor_name, "rule_name": self.rule_name,
                               "dashboard_uid": self.dashboard_uid})
