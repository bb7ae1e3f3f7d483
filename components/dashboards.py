"""The Grafana dashboard of one catalog service: the four golden signals, from the metrics
contract and the platform series (components/slo.py), and for a service with ``data`` its
datastores' CloudWatch metrics, as a ConfigMap Grafana's sidecar loads into a folder per team."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pulumi_kubernetes.core.v1 import ConfigMapInitArgs
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.labels import observability_labels
from components.slo import (
    RESTART_THRESHOLD,
    RESTART_WINDOW,
    effective_slo,
    error_budget,
    object_selector,
    service_selector,
    slo_text,
)
from paved.metrics_contract import (
    EVENTS_CONSUMED,
    EVENTS_PRODUCED,
    HTTP_DURATION,
    HTTP_IN_FLIGHT,
    HTTP_REQUESTS,
)
from components.data import cache_name, cache_node_ids
from paved.model import Service, Team
from paved.naming import dashboard_uid, database_identifier, secret_owner, table_name
from paved.stack import StackSettings

DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
# Grafana's sidecar files the dashboard into the folder this annotation names (the team).
DASHBOARD_FOLDER_ANNOTATION = "grafana_folder"
PROMETHEUS_DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
JAEGER_DATASOURCE_UID = "jaeger"
# Grafana's CloudWatch data source (components/addons/prometheus.py provisions it where some
# service has data); the datastore panels name it by this uid.
CLOUDWATCH_DATASOURCE_UID = "cloudwatch"
CLOUDWATCH_DATASOURCE = {"type": "cloudwatch", "uid": CLOUDWATCH_DATASOURCE_UID}


def _target(expr: str, legend: str, ref: str) -> dict:
    return {"datasource": PROMETHEUS_DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _cloudwatch_target(namespace: str, metric: str, dimensions: dict[str, str], statistic: str, ref: str,
                       label: str) -> dict:
    """A CloudWatch metric query (the data source's Metric Search mode, exact dimensions)."""
    return {"datasource": CLOUDWATCH_DATASOURCE, "refId": ref, "queryMode": "Metrics", "metricQueryType": 0,
            "metricEditorMode": 0, "namespace": namespace, "metricName": metric, "dimensions": dimensions,
            "statistic": statistic, "matchExact": True, "region": "default", "period": "", "id": "",
            "expression": "", "label": label}


def _panel(pid: int, title: str, description: str, targets: list[dict], pos: tuple[int, int, int, int],
           unit: str, kind: str = "timeseries", threshold: float | None = None,
           datasource: dict = PROMETHEUS_DATASOURCE) -> dict:
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
        "datasource": datasource, "targets": targets,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
    }


def _row(pid: int, title: str, y: int) -> dict:
    return {"id": pid, "type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}}


@dataclass(frozen=True)
class DatastorePanel:
    """One datastore panel: CloudWatch metrics of one of the service's datastores."""

    title: str
    description: str
    unit: str
    targets: tuple[tuple[str, str, dict[str, str], str, str], ...]  # (namespace, metric, dimensions, statistic, legend)


def datastore_panels(service: Service, settings: StackSettings) -> list[DatastorePanel]:
    """The panels of the service's datastores, with their physical identifiers: the RDS instance,
    each DynamoDB table, the cache, serverless or its nodes per the stack (the alarms of
    components/data.py watch the same metrics)."""
    data = service.data
    if data is None or data.empty:
        return []
    environment = settings.environment
    owner = secret_owner(service)
    panels: list[DatastorePanel] = []
    if data.postgres is not None:
        db = {"DBInstanceIdentifier": database_identifier(environment, owner)}
        panels += [
            DatastorePanel("Database CPU", "RDS CPUUtilization (the alarm fires above 80% for 15 minutes).",
                           "percent", (("AWS/RDS", "CPUUtilization", db, "Average", "cpu"),)),
            DatastorePanel("Database connections", "RDS DatabaseConnections.", "short",
                           (("AWS/RDS", "DatabaseConnections", db, "Maximum", "connections"),)),
            DatastorePanel("Database free storage", "RDS FreeStorageSpace (the alarm fires below 10%).", "bytes",
                           (("AWS/RDS", "FreeStorageSpace", db, "Minimum", "free"),)),
            DatastorePanel("Database latency", "RDS ReadLatency and WriteLatency, seconds per I/O operation.", "s",
                           (("AWS/RDS", "ReadLatency", db, "Average", "read"),
                            ("AWS/RDS", "WriteLatency", db, "Average", "write"))),
        ]
    for table in data.tables:
        physical = table_name(environment, table.name)
        dims = {"TableName": physical}
        panels += [
            DatastorePanel(f"Table {table.name}: capacity", f"DynamoDB consumed capacity units of {physical} "
                           "(sum per period).", "short",
                           (("AWS/DynamoDB", "ConsumedReadCapacityUnits", dims, "Sum", "read"),
                            ("AWS/DynamoDB", "ConsumedWriteCapacityUnits", dims, "Sum", "write"))),
            DatastorePanel(f"Table {table.name}: throttled", f"Throttled read and write events of {physical}.",
                           "short",
                           (("AWS/DynamoDB", "ReadThrottleEvents", dims, "Sum", "read"),
                            ("AWS/DynamoDB", "WriteThrottleEvents", dims, "Sum", "write"))),
        ]
    nodes = settings.data.cache_nodes if settings.data is not None and settings.data.cache_mode == "nodes" else None
    if data.cache is not None and nodes is not None:
        ids = cache_node_ids(environment, owner, nodes.count)

        def per_node(metric: str, statistic: str) -> tuple:
            return tuple(("AWS/ElastiCache", metric, {"CacheClusterId": n}, statistic, n.rsplit("-", 1)[1])
                         for n in ids)

        panels += [
            DatastorePanel("Cache CPU", "Host CPUUtilization per node (the alarm fires above 90%).", "percent",
                           per_node("CPUUtilization", "Average")),
            DatastorePanel("Cache engine CPU", "EngineCPUUtilization per node: the engine's one thread "
                           "(the alarm fires above 80%).", "percent", per_node("EngineCPUUtilization", "Average")),
            DatastorePanel("Cache memory", "DatabaseMemoryUsagePercentage per node, of maxmemory.", "percent",
                           per_node("DatabaseMemoryUsagePercentage", "Maximum")),
            DatastorePanel("Cache evictions", "Keys evicted per node (sum per period).", "short",
                           per_node("Evictions", "Sum")),
        ]
    elif data.cache is not None:
        cache = {"clusterId": cache_name(environment, owner)}
        panels += [
            DatastorePanel("Cache ECPUs", "ElastiCache Serverless processing units consumed (sum per period).",
                           "short", (("AWS/ElastiCache", "ElastiCacheProcessingUnits", cache, "Sum", "ecpu"),)),
            DatastorePanel("Cache data storage", "ElastiCache Serverless BytesUsedForCache.", "bytes",
                           (("AWS/ElastiCache", "BytesUsedForCache", cache, "Maximum", "data"),)),
        ]
    return panels


def dashboard_json(service: Service, team: Team, settings: StackSettings) -> dict:
    """The service's Grafana dashboard: latency, traffic, errors and saturation (plus restarts,
    and Kafka throughput for services that use Kafka), from contract and platform series."""
    slo, declared = effective_slo(service)
    budget = float(error_budget(slo))
    sel = service_selector(service, team)
    errors = service_selector(service, team, 'status=~"5.."')
    hpa = object_selector(service, team, "horizontalpodautoscaler")
    container = object_selector(service, team, "container")
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

    ids = iter(range(1, 1000))
    panels = [
        _row(next(ids), f"SLO: {slo_text(slo, declared)}", 0),
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
    stores = datastore_panels(service, settings)
    if stores:
        y = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
        panels.append(_row(next(ids), "Datastores (CloudWatch)", y))
        for n, panel in enumerate(stores):
            targets = [_cloudwatch_target(ns, metric, dims, stat, chr(ord("A") + i), legend)
                       for i, (ns, metric, dims, stat, legend) in enumerate(panel.targets)]
            panels.append(_panel(next(ids), panel.title, panel.description, targets,
                                 (12 * (n % 2), y + 1 + 8 * (n // 2), 12, 8), panel.unit,
                                 datasource=CLOUDWATCH_DATASOURCE))

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
            labels={**observability_labels(service, team, settings.environment), DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE},
            annotations={DASHBOARD_FOLDER_ANNOTATION: team.name},
        ),
        data={f"{service.name}.json": json.dumps(dashboard_json(service, team, settings), indent=1, sort_keys=True)},
    )
