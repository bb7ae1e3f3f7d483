"""ServiceObservability: what makes a catalog service observable the moment it is added.

From one effective catalog entry (with its team and stack) the pure builders here derive:

- a ServiceMonitor for the service's metrics port and path; every series it scrapes carries
  the contract's ``service`` and ``namespace`` labels;
- a PrometheusRule: error-ratio recording rules, multi-window multi-burn-rate availability
  alerts (Google SRE workbook, "Alerting on SLOs", 30-day budget), p99 latency above the
  target, saturation (autoscaler at its maximum), restarts, and metrics gone missing. Every
  alert has a severity, a summary and a runbook link into ``docs/runbooks/``;
- a Grafana dashboard with the four golden signals, as a ConfigMap Grafana's sidecar loads;
- the OpenTelemetry environment for the Deployment (pointing at the collector in
  ``monitoring``);
- two NetworkPolicies: Prometheus may scrape the metrics port, the pods may reach the collector.

Rules and dashboards query only the metrics contract (``paved/metrics_contract.py``) plus the
platform series listed in :data:`PLATFORM_SERIES` (kube-state-metrics, cAdvisor, ``up``).

A service without an ``slo`` in the catalog gets :data:`DEFAULT_SLO` (99.5 %, p99 1000 ms):
a user who adds a service expects to hear about it when it fails hard, and 99.5 % pages only
at ~7 % errors for an hour. Every alert says which SLO it uses and where it came from, so a
team that disagrees declares its own ``slo`` instead of silencing the alert.

This module imports nothing from ``components.service`` so that the service can import
:func:`otel_env` from here without an import cycle.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import ConfigMapInitArgs, ServicePortArgs
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.labels import image_version, selector_labels, team_labels
from components.namespace import NAMESPACE_NAME_LABEL
from paved.metrics_contract import (
    EVENTS_CONSUMED,
    EVENTS_PRODUCED,
    HTTP_DURATION,
    HTTP_IN_FLIGHT,
    HTTP_REQUESTS,
    NAMESPACE_LABEL,
    SERVICE_LABEL,
)
from paved.model import Service, Slo, Team
from paved.stack import StackSettings

PROMETHEUS_API = "monitoring.coreos.com/v1"
MONITORING_NAMESPACE = "monitoring"
# The ObservabilityStack labels its pods with this key; NetworkPolicies in team namespaces
# select Prometheus and the collector by it (chart-independent, unlike the charts' own labels).
ROLE_LABEL = "paved.dev/observability"
PROMETHEUS_ROLE = "prometheus"
COLLECTOR_ROLE = "otel-collector"
COLLECTOR_SERVICE = "otel-collector"
OTLP_GRPC_PORT = 4317
OTLP_HTTP_PORT = 4318
COLLECTOR_HOST = f"{COLLECTOR_SERVICE}.{MONITORING_NAMESPACE}.svc.cluster.local"

# Port names of the service's container and Service; they must equal components.service's
# HTTP_PORT_NAME / METRICS_PORT_NAME (tests/test_monitoring.py checks).
HTTP_PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"

DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
# Grafana's sidecar files the dashboard into the folder this annotation names (the team).
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
PROMETHEUS_DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
JAEGER_DATASOURCE_UID = "jaeger"
SCRAPE_INTERVAL = "30s"
RUNBOOKS = "docs/runbooks"

DEFAULT_SLO = Slo(availability=99.5, latency_p99_ms=1000)
PAGE = "critical"
TICKET = "warning"

# Series outside the metrics contract that rules and dashboards may query, and where each
# comes from. Anything else must be in paved/metrics_contract.py.
PLATFORM_SERIES: dict[str, str] = {
    "up": "Prometheus: 1 when the last scrape of a target succeeded",
    "kube_horizontalpodautoscaler_status_current_replicas": "kube-state-metrics",
    "kube_horizontalpodautoscaler_spec_max_replicas": "kube-state-metrics",
    "kube_pod_container_status_restarts_total": "kube-state-metrics",
    "kube_pod_container_resource_limits": "kube-state-metrics",
    "container_cpu_usage_seconds_total": "cAdvisor (kubelet)",
    "container_memory_working_set_bytes": "cAdvisor (kubelet)",
}


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window condition: burn rate above ``factor`` over both windows."""

    long: str
    short: str
    factor: Decimal


# SRE workbook, "Alerting on SLOs" (30-day budget): page when 2 % of the budget goes in 1 h
# (14.4x) or 5 % in 6 h (6x); ticket when 10 % goes in 1 day (3x) or in 3 days (1x). Each long
# window is paired with a short one (1/12 of it) so the alert resets soon after the burn stops.
PAGE_WINDOWS = (BurnWindow("1h", "5m", Decimal("14.4")), BurnWindow("6h", "30m", Decimal("6")))
TICKET_WINDOWS = (BurnWindow("1d", "2h", Decimal("3")), BurnWindow("3d", "6h", Decimal("1")))
ERROR_RATIO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
LATENCY_RULE_FOR = "10m"
SATURATION_RULE_FOR = "15m"
RESTART_WINDOW = "15m"
RESTART_THRESHOLD = 2
METRICS_DOWN_FOR = "10m"

ALERT_KINDS = ("error-budget-burn", "latency-slo", "autoscaler-at-max", "pod-restarts", "metrics-down")
LATENCY_P99_RECORD = f"service:{HTTP_DURATION.name}:p99_rate5m"


def error_ratio_record(window: str) -> str:
    """Name of the recording rule holding a service's 5xx share of requests over ``window``."""
    # Recording-rule convention level:metric:operations, with "_total" dropped once rated.
    return f"service:{HTTP_REQUESTS.name.removesuffix('_total')}:error_ratio_rate{window}"


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


# --- small helpers ------------------------------------------------------------------------


def effective_slo(service: Service) -> tuple[Slo, bool]:
    """The service's SLO and whether the catalog declares it (False: :data:`DEFAULT_SLO`)."""
    return (service.slo, True) if service.slo is not None else (DEFAULT_SLO, False)


def error_budget(slo: Slo) -> Decimal:
    """Allowed share of failed requests: ``1 - availability/100`` (99.9 → 0.001), exact."""
    return (Decimal(100) - Decimal(str(slo.availability))) / Decimal(100)


def _num(value: Decimal | float | int) -> str:
    """A PromQL number literal without float noise or exponent (0.0144, not 0.014400000000000001)."""
    return format(Decimal(str(value)).normalize(), "f")


def _selector(service: Service, team: Team, extra: str = "") -> str:
    base = f'{NAMESPACE_LABEL}="{team.namespace_name}",{SERVICE_LABEL}="{service.name}"'
    return f"{base},{extra}" if extra else base


def _k8s_selector(service: Service, team: Team, object_label: str) -> str:
    # kube-state-metrics and cAdvisor name the object in their own label (the HPA, the
    # container); both are named after the service.
    return f'namespace="{team.namespace_name}",{object_label}="{service.name}"'


def object_labels(service: Service, team: Team, settings: StackSettings) -> dict[str, str]:
    """Labels of the service's observability objects: its selector and ownership labels, but no
    version label, so an image bump does not rewrite its monitor, rules, dashboard and policies."""
    return {**selector_labels(service), **team_labels(team, settings.environment),
            "app.kubernetes.io/component": "observability"}


def metrics_port(service: Service) -> int:
    """The container port Prometheus scrapes: catalog ``metrics.port``, else the service port."""
    return service.metrics.port or service.port


def metrics_port_name(service: Service) -> str:
    """The named Service port the ServiceMonitor selects."""
    return METRICS_PORT_NAME if metrics_port(service) != service.port else HTTP_PORT_NAME


def metrics_service_port(service: Service) -> ServicePortArgs | None:
    """The extra Service port a separate metrics port needs (a ServiceMonitor scrapes Service
    ports by name); None when metrics are served on the service port."""
    if metrics_port_name(service) == HTTP_PORT_NAME:
        return None
    return ServicePortArgs(name=METRICS_PORT_NAME, port=metrics_port(service), target_port=METRICS_PORT_NAME,
                           protocol="TCP")


def dashboard_uid(service: Service) -> str:
    """A stable Grafana uid (at most 40 characters) for the service's dashboard."""
    uid = f"paved-{service.name}"
    if len(uid) <= 40:
        return uid
    digest = hashlib.sha256(service.name.encode()).hexdigest()[:8]
    return f"{uid[:31]}-{digest}"


def runbook_url(kind: str, base: str = RUNBOOKS) -> str:
    """Where the runbook of one alert kind lives."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; known: {', '.join(ALERT_KINDS)}")
    return f"{base.rstrip('/')}/{kind}.md"


# --- scraping -----------------------------------------------------------------------------


def service_monitor_spec(service: Service, team: Team) -> dict:
    """The ServiceMonitor: the service's own Service, its metrics port and path.

    The operator already labels each series with the Service name and namespace; the
    relabeling pins ``service`` to the catalog name so rules never depend on how the
    Kubernetes Service happens to be named.
    """
    return {
        "selector": {"matchLabels": selector_labels(service)},
        "namespaceSelector": {"matchNames": [team.namespace_name]},
        "endpoints": [{
            "port": metrics_port_name(service),
            "path": service.metrics.path,
            "scheme": "http",
            "interval": SCRAPE_INTERVAL,
            "honorLabels": False,  # a service cannot overwrite service/namespace
            "relabelings": [{"action": "replace", "targetLabel": SERVICE_LABEL, "replacement": service.name}],
        }],
    }


# --- alerting -----------------------------------------------------------------------------


def _slo_text(slo: Slo, declared: bool) -> str:
    source = "catalog" if declared else "paved default: declare `slo` in the catalog"
    return f"{_num(slo.availability)}% availability, p99 {slo.latency_p99_ms} ms ({source})"


def _labels(service: Service, team: Team, severity: str) -> dict[str, str]:
    return {"severity": severity, "team": team.name, SERVICE_LABEL: service.name,
            NAMESPACE_LABEL: team.namespace_name}


def _annotations(service: Service, kind: str, base: str, summary: str, description: str,
                 slo: Slo, declared: bool) -> dict[str, str]:
    return {
        "summary": summary,
        "description": description,
        "runbook_url": runbook_url(kind, base),
        "dashboard": f"/d/{dashboard_uid(service)}",
        "slo": _slo_text(slo, declared),
    }


def _windows_text(windows: tuple[BurnWindow, ...]) -> str:
    first, *rest = [f"{_num(w.factor)}x its error budget over {w.long} and {w.short}" for w in windows]
    return first + "".join(f" (or {r})" for r in rest)


def _burn_condition(service: Service, team: Team, windows: tuple[BurnWindow, ...], budget: Decimal) -> str:
    sel = _selector(service, team)
    pairs = []
    for w in windows:
        threshold = f"({_num(w.factor)} * {_num(budget)})"
        pairs.append(
            f"(\n  {error_ratio_record(w.long)}{{{sel}}} > {threshold}\nand\n"
            f"  {error_ratio_record(w.short)}{{{sel}}} > {threshold}\n)"
        )
    return "\nor\n".join(pairs)


def recording_rules(service: Service, team: Team) -> list[dict]:
    """Error ratio per window and p99 latency, each keeping only ``namespace`` and ``service``."""
    sel = _selector(service, team)
    errors = _selector(service, team, 'status=~"5.."')
    by = f"sum by ({NAMESPACE_LABEL}, {SERVICE_LABEL})"
    rules = [
        {
            "record": error_ratio_record(w),
            "expr": f"{by} (rate({HTTP_REQUESTS.name}{{{errors}}}[{w}]))\n/\n"
                    f"{by} (rate({HTTP_REQUESTS.name}{{{sel}}}[{w}]))",
        }
        for w in ERROR_RATIO_WINDOWS
    ]
    rules.append({
        "record": LATENCY_P99_RECORD,
        "expr": f"histogram_quantile(0.99, sum by ({NAMESPACE_LABEL}, {SERVICE_LABEL}, le) "
                f"(rate({HTTP_DURATION.name}_bucket{{{sel}}}[5m])))",
    })
    return rules


def alerting_rules(service: Service, team: Team, runbook_base: str = RUNBOOKS) -> list[dict]:
    """The golden-signal alerts of one service, from its SLO (or the default)."""
    slo, declared = effective_slo(service)
    budget = error_budget(slo)
    name, ns = service.name, team.namespace_name
    sel = _selector(service, team)
    target_s = Decimal(slo.latency_p99_ms) / 1000
    hpa = _k8s_selector(service, team, "horizontalpodautoscaler")
    container = _k8s_selector(service, team, "container")
    hpa_by = "max by (namespace, horizontalpodautoscaler)"

    def alert(alertname: str, kind: str, expr: str, severity: str, summary: str, description: str,
              for_: str | None) -> dict:
        rule = {"alert": alertname, "expr": expr}
        if for_:
            rule["for"] = for_
        rule["labels"] = _labels(service, team, severity)
        rule["annotations"] = _annotations(service, kind, runbook_base, summary, description, slo, declared)
        return rule

    availability = f"{_num(slo.availability)}%"
    return [
        alert(
            "ServiceErrorBudgetBurnFast", "error-budget-burn", _burn_condition(service, team, PAGE_WINDOWS, budget),
            PAGE, f"{name} is burning its error budget fast ({availability} availability SLO)",
            f"{name} in {ns} fails more than {_windows_text(PAGE_WINDOWS)}: at this rate the 30-day budget "
            f"of the {availability} SLO is gone in days. Page.",
            "2m",
        ),
        alert(
            "ServiceErrorBudgetBurnSlow", "error-budget-burn", _burn_condition(service, team, TICKET_WINDOWS, budget),
            TICKET, f"{name} is slowly burning its error budget ({availability} availability SLO)",
            f"{name} in {ns} fails more than {_windows_text(TICKET_WINDOWS)}: the {availability} SLO "
            f"will be missed this month unless this is fixed. Ticket.",
            "15m",
        ),
        alert(
            "ServiceLatencyP99AboveTarget", "latency-slo",
            f"{LATENCY_P99_RECORD}{{{sel}}} > {_num(target_s)}",
            TICKET, f"{name} p99 latency is above {slo.latency_p99_ms} ms",
            f"The 99th percentile of {name}'s request duration in {ns} has stayed above the "
            f"{slo.latency_p99_ms} ms target for {LATENCY_RULE_FOR}.",
            LATENCY_RULE_FOR,
        ),
        alert(
            "ServiceAutoscalerAtMax", "autoscaler-at-max",
            f"{hpa_by} (kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}})\n>=\n"
            f"{hpa_by} (kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}})",
            TICKET, f"{name} has run at its autoscaler maximum for {SATURATION_RULE_FOR}",
            f"The HorizontalPodAutoscaler of {name} in {ns} cannot add replicas: the service is saturated and "
            f"more load will show as latency and errors.",
            SATURATION_RULE_FOR,
        ),
        alert(
            "ServicePodRestarting", "pod-restarts",
            f"sum by (namespace, container) (increase(kube_pod_container_status_restarts_total{{{container}}}"
            f"[{RESTART_WINDOW}])) > {RESTART_THRESHOLD}",
            TICKET, f"{name} containers restarted more than {RESTART_THRESHOLD} times in {RESTART_WINDOW}",
            f"Containers of {name} in {ns} are crashing or failing their liveness probe.",
            None,
        ),
        alert(
            "ServiceMetricsDown", "metrics-down",
            f"absent(up{{{sel}}})\nor\nmax by ({NAMESPACE_LABEL}, {SERVICE_LABEL}) (up{{{sel}}}) == 0",
            TICKET, f"Prometheus cannot scrape {name}",
            f"No target of {name} in {ns} has been scraped for {METRICS_DOWN_FOR}: its SLO alerts are blind.",
            METRICS_DOWN_FOR,
        ),
    ]


def prometheus_rule_groups(service: Service, team: Team, settings: StackSettings | None = None,
                           runbook_base: str = RUNBOOKS) -> list[dict]:
    """The PrometheusRule ``spec.groups`` of a service: one recording group, one alerting group.

    Plain dicts, so tests dump them to YAML for ``promtool check rules``. ``settings`` is
    accepted for symmetry with the other builders; nothing in the rules varies per stack
    (Prometheus's external labels carry the environment).
    """
    del settings
    prefix = f"paved.{team.namespace_name}.{service.name}"
    return [
        {"name": f"{prefix}.recording", "rules": recording_rules(service, team)},
        {"name": f"{prefix}.alerts", "rules": alerting_rules(service, team, runbook_base)},
    ]


# --- dashboard ----------------------------------------------------------------------------


def _target(expr: str, legend: str, ref: str) -> dict:
    return {"datasource": PROMETHEUS_DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _panel(pid: int, title: str, description: str, targets: list[dict], pos: tuple[int, int, int, int],
           unit: str, kind: str = "timeseries", threshold: float | None = None) -> dict:
    x, y, w, h = pos
    defaults: dict = {"unit": unit}
    if threshold is not None:
        # The SLO target drawn as a red line (time series) or colouring (stat).
        defaults["thresholds"] = {"mode": "absolute", "steps": [
            {"color": "green", "value": None}, {"color": "red", "value": threshold}]}
        if kind == "timeseries":
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return {
        "id": pid, "type": kind, "title": title, "description": description,
        "datasource": PROMETHEUS_DATASOURCE, "targets": targets,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
    }


def _row(pid: int, title: str, y: int) -> dict:
    return {"id": pid, "type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}}


def dashboard_json(service: Service, team: Team, settings: StackSettings) -> dict:
    """The service's Grafana dashboard: latency, traffic, errors and saturation (plus restarts,
    and Kafka throughput for services that use Kafka), from contract and platform series."""
    slo, declared = effective_slo(service)
    budget = float(error_budget(slo))
    sel = _selector(service, team)
    errors = _selector(service, team, 'status=~"5.."')
    hpa = _k8s_selector(service, team, "horizontalpodautoscaler")
    container = _k8s_selector(service, team, "container")
    req, dur = HTTP_REQUESTS.name, HTTP_DURATION.name
    ri = "$__rate_interval"
    target_s = slo.latency_p99_ms / 1000

    def error_ratio(window: str) -> str:
        # "or vector(0)": no 5xx series at all means a ratio of 0, not "no data".
        return f"(sum(rate({req}{{{errors}}}[{window}])) or vector(0)) / sum(rate({req}{{{sel}}}[{window}]))"

    def quantile(q: float, window: str) -> str:
        return f"histogram_quantile({q}, sum by (le) (rate({dur}_bucket{{{sel}}}[{window}])))"

    current = f"max(kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}})"
    maximum = f"max(kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}})"
    limit = "sum(kube_pod_container_resource_limits{%s,resource=\"%s\"})"
    cpu = f"sum(rate(container_cpu_usage_seconds_total{{{container}}}[{ri}])) / {limit % (container, 'cpu')}"
    memory = f"sum(container_memory_working_set_bytes{{{container}}}) / {limit % (container, 'memory')}"
    restarts = f"sum(increase(kube_pod_container_status_restarts_total{{{container}}}[{RESTART_WINDOW}]))"
    availability = (f"1 - ((sum(increase({req}{{{errors}}}[$__range])) or vector(0)) / "
                    f"sum(increase({req}{{{sel}}}[$__range])))")

    ids = iter(range(1, 100))
    panels = [
        _row(next(ids), f"SLO: {_slo_text(slo, declared)}", 0),
        _panel(next(ids), "Availability (dashboard range)", "Share of requests not answered 5xx.",
               [_target(availability, "availability", "A")], (0, 1, 6, 4), "percentunit", "stat"),
        _panel(next(ids), "p99 latency (now)", "99th percentile over the last 5 minutes.",
               [_target(quantile(0.99, "5m"), "p99", "A")], (6, 1, 6, 4), "s", "stat", threshold=target_s),
        _panel(next(ids), "Error ratio (now)", "5xx share over the last 5 minutes.",
               [_target(error_ratio("5m"), "errors", "A")], (12, 1, 6, 4), "percentunit", "stat", threshold=budget),
        _panel(next(ids), "Replicas used", "Current replicas as a share of the autoscaler's maximum.",
               [_target(f"{current} / {maximum}", "used", "A")], (18, 1, 6, 4), "percentunit", "stat", threshold=1.0),

        _row(next(ids), "Golden signals", 5),
        _panel(next(ids), "Latency", "Request duration percentiles; the red line is the p99 target.",
               [_target(quantile(q, ri), f"p{int(q * 100)}", ref) for q, ref in ((0.5, "A"), (0.9, "B"), (0.99, "C"))],
               (0, 6, 12, 8), "s", threshold=target_s),
        _panel(next(ids), "Traffic", "Requests per second by route.",
               [_target(f"sum by (route) (rate({req}{{{sel}}}[{ri}]))", "{{route}}", "A")], (12, 6, 12, 8), "reqps"),
        _panel(next(ids), "Errors", "Share of requests answered 5xx; the red line is the error budget.",
               [_target(error_ratio(ri), "5xx ratio", "A")], (0, 14, 12, 8), "percentunit", threshold=budget),
        _panel(next(ids), "Errors by route and status", "5xx responses per second.",
               [_target(f"sum by (route, status) (rate({req}{{{errors}}}[{ri}]))", "{{route}} {{status}}", "A")],
               (12, 14, 12, 8), "reqps"),
        _panel(next(ids), "Saturation: replicas", "Autoscaler replicas against its maximum.",
               [_target(current, "current", "A"), _target(maximum, "maximum", "B")], (0, 22, 8, 8), "short"),
        _panel(next(ids), "Saturation: CPU and memory", "Usage as a share of the containers' limits.",
               [_target(cpu, "cpu", "A"), _target(memory, "memory", "B")], (8, 22, 8, 8), "percentunit", threshold=0.9),
        _panel(next(ids), "Saturation: requests in flight", "Requests being served right now, all pods.",
               [_target(f"sum({HTTP_IN_FLIGHT.name}{{{sel}}})", "in flight", "A")], (16, 22, 8, 8), "short"),
        _panel(next(ids), "Restarts", f"Container restarts over {RESTART_WINDOW}.",
               [_target(restarts, "restarts", "A")], (0, 30, 12, 8), "short", threshold=float(RESTART_THRESHOLD)),
    ]
    if service.kafka.produces or service.kafka.consumes:
        y = 38
        panels.append(_row(next(ids), "Kafka", y))
        for x, (title, metric) in enumerate((("Events consumed", EVENTS_CONSUMED), ("Events produced", EVENTS_PRODUCED))):
            expr = f"sum by (topic, outcome) (rate({metric.name}{{{sel}}}[{ri}]))"
            panels.append(_panel(next(ids), title, "By topic and outcome.",
                                 [_target(expr, "{{topic}} {{outcome}}", "A")], (12 * x, y + 1, 12, 8), "ops"))

    explore = json.dumps({"datasource": JAEGER_DATASOURCE_UID,
                          "queries": [{"refId": "A", "queryType": "search", "service": service.name}]},
                         separators=(",", ":"))
    return {
        "uid": dashboard_uid(service),
        "title": f"{service.name} ({team.name}, {settings.environment})",
        "description": service.description,
        "tags": ["paved", "golden-signals", f"team:{team.name}"],
        "timezone": "utc",
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [{"title": "Traces in Jaeger", "type": "link", "targetBlank": True,
                   "url": f"/explore?left={explore}"}],
        "panels": panels,
    }


def dashboard_configmap_args(service: Service, team: Team, settings: StackSettings) -> ConfigMapInitArgs:
    """The dashboard as a ConfigMap Grafana's sidecar picks up, filed under the team's folder."""
    return ConfigMapInitArgs(
        metadata=ObjectMetaArgs(
            name=f"{service.name}-dashboard",
            namespace=team.namespace_name,
            labels={**object_labels(service, team, settings), DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE},
            annotations={DASHBOARD_FOLDER_ANNOTATION: team.name},
        ),
        data={f"{service.name}.json": json.dumps(dashboard_json(service, team, settings), indent=1, sort_keys=True)},
    )


# --- tracing ------------------------------------------------------------------------------


def collector_endpoint() -> str:
    """The OTLP/HTTP endpoint of the collector, as services reach it."""
    return f"http://{COLLECTOR_HOST}:{OTLP_HTTP_PORT}"


def otel_env(service: Service, team: Team, settings: StackSettings) -> dict[str, str]:
    """OpenTelemetry SDK environment: traces to the collector over OTLP/HTTP (the protocol the
    specification makes the default), sampled per stack and honouring the caller's decision.

    Metrics and logs exporters are off: metrics are scraped by Prometheus (the contract), and
    the collector only runs a traces pipeline.
    """
    attributes = {
        "service.namespace": team.namespace_name,
        "service.version": image_version(service.image),
        "deployment.environment.name": settings.environment,
        "team": team.name,
    }
    return {
        "OTEL_SERVICE_NAME": service.name,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector_endpoint(),
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_PROPAGATORS": "tracecontext,baggage",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": _num(settings.observability.trace_sampling_ratio),
        # Keys and values are label-safe (DNS names, image tags), so no percent-encoding is needed.
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(f"{k}={v}" for k, v in attributes.items()),
    }


# --- network ------------------------------------------------------------------------------


def _monitoring_pods(role: str) -> NetworkPolicyPeerArgs:
    return NetworkPolicyPeerArgs(
        namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: MONITORING_NAMESPACE}),
        pod_selector=LabelSelectorArgs(match_labels={ROLE_LABEL: role}),
    )


def scrape_ingress_rule(service: Service) -> NetworkPolicyIngressRuleArgs:
    """Ingress from the Prometheus pods in ``monitoring`` on the metrics port."""
    return NetworkPolicyIngressRuleArgs(
        from_=[_monitoring_pods(PROMETHEUS_ROLE)],
        ports=[NetworkPolicyPortArgs(protocol="TCP", port=metrics_port(service))],
    )


def collector_egress_rule() -> NetworkPolicyEgressRuleArgs:
    """Egress to the collector pods in ``monitoring`` on OTLP gRPC and HTTP."""
    return NetworkPolicyEgressRuleArgs(
        to=[_monitoring_pods(COLLECTOR_ROLE)],
        ports=[NetworkPolicyPortArgs(protocol="TCP", port=p) for p in (OTLP_GRPC_PORT, OTLP_HTTP_PORT)],
    )


def _netpol_meta(service: Service, team: Team, settings: StackSettings, suffix: str) -> ObjectMetaArgs:
    return ObjectMetaArgs(name=f"{service.name}-{suffix}", namespace=team.namespace_name,
                          labels=object_labels(service, team, settings))


def scrape_policy_args(service: Service, team: Team, settings: StackSettings) -> NetworkPolicyInitArgs:
    """NetworkPolicy letting Prometheus scrape the service (the team namespace denies by default)."""
    return NetworkPolicyInitArgs(
        metadata=_netpol_meta(service, team, settings, "allow-prometheus"),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=selector_labels(service)),
            policy_types=["Ingress"],
            ingress=[scrape_ingress_rule(service)],
        ),
    )


def collector_egress_args(service: Service, team: Team, settings: StackSettings) -> NetworkPolicyInitArgs:
    """NetworkPolicy letting the service send traces to the collector."""
    return NetworkPolicyInitArgs(
        metadata=_netpol_meta(service, team, settings, "allow-otel-collector"),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=selector_labels(service)),
            policy_types=["Egress"],
            egress=[collector_egress_rule()],
        ),
    )


# --- the component ------------------------------------------------------------------------


def _child_aliases(name: str, service: Service, role: str) -> list[pulumi.Alias]:
    # A renamed service keeps its observability resources: the child "<name>-<role>" was
    # "<name with the old service name>-<role>" (same scheme as components.renames).
    if not name.startswith(service.name):
        return []
    tail = name[len(service.name):]
    return [pulumi.Alias(name=f"{old}{tail}-{role}") for old in service.former_names]


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
            return pulumi.ResourceOptions(parent=self, aliases=_child_aliases(name, svc, role))

        labels = object_labels(svc, team, s)
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
