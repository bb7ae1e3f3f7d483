"""SLOs and the PrometheusRule generated from them, for one catalog service.

- recording rules: the 5xx share of requests per window, and p99 latency;
- multi-window multi-burn-rate availability alerts (Google SRE workbook, "Alerting on SLOs",
  30-day budget), p99 latency above the target, saturation (autoscaler at its maximum),
  restarts, and metrics gone missing. Every alert has a severity, a summary and a runbook
  link into ``docs/runbooks/``.

Rules query only the metrics contract (``paved/metrics_contract.py``) plus the platform
series listed in :data:`PLATFORM_SERIES` (kube-state-metrics, cAdvisor, ``up``); the
dashboards (components/dashboards.py) reuse the selectors and the SLO text from here.

A service without an ``slo`` in the catalog gets :data:`DEFAULT_SLO` (99.5 %, p99 1000 ms):
a user who adds a service expects to hear about it when it fails hard, and 99.5 % pages only
at ~7 % errors for an hour. Every alert says which SLO it uses and where it came from, so a
team that disagrees declares its own ``slo`` instead of silencing the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from paved.metrics_contract import (
    HTTP_DURATION,
    HTTP_REQUESTS,
    NAMESPACE_LABEL,
    SERVICE_LABEL,
)
from paved.model import Service, Slo, Team
from paved.naming import dashboard_uid
from paved.quantity import plain_number
from paved.stack import StackSettings

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


# --- SLO maths and selectors --------------------------------------------------------------


def effective_slo(service: Service) -> tuple[Slo, bool]:
    """The service's SLO and whether the catalog declares it (False: :data:`DEFAULT_SLO`)."""
    return (service.slo, True) if service.slo is not None else (DEFAULT_SLO, False)


def error_budget(slo: Slo) -> Decimal:
    """Allowed share of failed requests: ``1 - availability/100`` (99.9 → 0.001), exact."""
    return (Decimal(100) - Decimal(str(slo.availability))) / Decimal(100)


def service_selector(service: Service, team: Team, extra: str = "") -> str:
    """PromQL label matchers of the service's contract series (plus ``extra`` matchers)."""
    base = f'{NAMESPACE_LABEL}="{team.namespace_name}",{SERVICE_LABEL}="{service.name}"'
    return f"{base},{extra}" if extra else base


def object_selector(service: Service, team: Team, object_label: str) -> str:
    """PromQL label matchers of a platform series about the service's HPA or container."""
    # kube-state-metrics and cAdvisor name the object in their own label (the HPA, the
    # container); both are named after the service.
    return f'namespace="{team.namespace_name}",{object_label}="{service.name}"'


def runbook_url(kind: str, base: str = RUNBOOKS) -> str:
    """Where the runbook of one alert kind lives."""
    if kind not in ALERT_KINDS:
        raise ValueError(f"unknown alert kind {kind!r}; known: {', '.join(ALERT_KINDS)}")
    return f"{base.rstrip('/')}/{kind}.md"


# --- alerting -----------------------------------------------------------------------------


def slo_text(slo: Slo, declared: bool) -> str:
    """The SLO as alerts and the dashboard state it, with where it came from."""
    source = "catalog" if declared else "paved default: declare `slo` in the catalog"
    return f"{plain_number(slo.availability)}% availability, p99 {slo.latency_p99_ms} ms ({source})"


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
        "slo": slo_text(slo, declared),
    }


def _windows_text(windows: tuple[BurnWindow, ...]) -> str:
    first, *rest = [f"{plain_number(w.factor)}x its error budget over {w.long} and {w.short}" for w in windows]
    return first + "".join(f" (or {r})" for r in rest)


def _burn_condition(service: Service, team: Team, windows: tuple[BurnWindow, ...], budget: Decimal) -> str:
    sel = service_selector(service, team)
    pairs = []
    for w in windows:
        threshold = f"({plain_number(w.factor)} * {plain_number(budget)})"
        pairs.append(
            f"(\n  {error_ratio_record(w.long)}{{{sel}}} > {threshold}\nand\n"
            f"  {error_ratio_record(w.short)}{{{sel}}} > {threshold}\n)"
        )
    return "\nor\n".join(pairs)


def recording_rules(service: Service, team: Team) -> list[dict]:
    """Error ratio per window and p99 latency, each keeping only ``namespace`` and ``service``."""
    sel = service_selector(service, team)
    errors = service_selector(service, team, 'status=~"5.."')
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
    sel = service_selector(service, team)
    target_s = Decimal(slo.latency_p99_ms) / 1000
    hpa = object_selector(service, team, "horizontalpodautoscaler")
    container = object_selector(service, team, "container")
    hpa_by = "max by (namespace, horizontalpodautoscaler)"

    def alert(alertname: str, kind: str, expr: str, severity: str, summary: str, description: str,
              for_: str | None) -> dict:
        rule = {"alert": alertname, "expr": expr}
        if for_:
            rule["for"] = for_
        rule["labels"] = _labels(service, team, severity)
        rule["annotations"] = _annotations(service, kind, runbook_base, summary, description, slo, declared)
        return rule

    availability = f"{plain_number(slo.availability)}%"
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
            f"{LATENCY_P99_RECORD}{{{sel}}} > {plain_number(target_s)}",
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
