"""Observability: per-service monitors, SLO rules, dashboards, tracing env; the monitoring stack.

The rule groups go through the real ``promtool``: ``check rules`` for every service of every
stack, and ``test rules`` unit tests generated from the same builders (so they follow the
code) proving the burn-rate alerts fire on an error spike, reset when it ends and stay
silent on healthy traffic, and that the latency, saturation, restart and metrics-down
alerts fire when they should. ``tests/promtool/`` holds one generated pair for reading and
for running ``promtool test rules`` by hand; a test keeps it current.

Without promtool these tests skip locally and fail in CI (the ``CI`` variable set).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pulumi
import pytest
import yaml
from conftest import ROOT, STACKS, planned

from components import observability as obs
from components.addons import prometheus
from components.dashboards import dashboard_configmap_args, dashboard_json
from components.monitoring import ServiceObservability, ServiceObservabilityArgs
from components.observability import ObservabilityStack, ObservabilityStackArgs
from components.slo import (
    ALERT_KINDS,
    PLATFORM_SERIES,
    alerting_rules,
    effective_slo,
    error_budget,
    prometheus_rule_groups,
)
from components.telemetry import (
    collector_egress_args,
    collector_endpoint,
    metrics_service_port,
    otel_env,
    scrape_policy_args,
    service_monitor_spec,
)
from components.versions import CHARTS, IMAGES
from paved import k8s_schema
from paved.catalog import load_catalog
from paved.metrics_contract import LATENCY_BUCKETS, all_series_names
from paved.model import Service, Team
from paved.naming import dashboard_uid
from paved.stack import list_stacks, load_stack

FIXTURES = ROOT / "tests" / "promtool"
RUNBOOK_DIR = ROOT / "docs" / "runbooks"
UPDATE = os.environ.get("PAVED_UPDATE_FIXTURES") == "1"


def _catalog(stack: str):
    settings = {env: load_stack(ROOT, env) for env in list_stacks(ROOT)}
    return settings[stack], load_catalog(ROOT / "services_catalog.yaml", settings).for_environment(stack)


def _every_service():
    for stack in STACKS:
        settings, catalog = _catalog(stack)
        for svc in catalog.services:
            yield stack, settings, svc, catalog.team(svc.team)


PROD, PROD_CATALOG = _catalog("prod")
DEV, _ = _catalog("dev")
TEAM = PROD_CATALOG.team("checkout")


def service(**changes) -> Service:
    base = {
        "name": "orders", "team": "checkout", "description": "Takes orders.", "image": "reg.example/orders:1.8.2",
        "port": 8080, "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "scaling": {"min": 2, "max": 4}, "slo": {"availability": 99.9, "latencyP99Ms": 300},
    }
    base.update(changes)
    return Service.model_validate(base)


# --- promtool ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool (``PAVED_PROMTOOL`` or on PATH); CI must have it (Debian package `prometheus`)."""
    path = os.environ.get("PAVED_PROMTOOL") or shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is required in CI: apt-get install -y prometheus (provides /usr/bin/promtool)")
        pytest.skip("promtool not installed (apt-get install prometheus); CI runs these tests")
    return path


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.ignore_aliases = lambda self, data: True  # spell repeated annotations out, no &id001


def dump(doc) -> str:
    """YAML with multi-line PromQL as literal blocks, the way a person would write it."""
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=120)


def run_promtool(promtool: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([promtool, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    assert proc.returncode == 0, f"promtool {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


# --- synthetic series for promtool unit tests ------------------------------------------------

PER_MINUTE = 10_000  # requests per minute: fine enough for a 0.05 % budget


def _labels(d: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in d.items()) + "}"


def _counter(segments: list[tuple[int, int]]) -> str:
    """promtool expanding notation for a counter growing ``per_min`` for ``minutes`` per segment."""
    parts, value, first = [], 0, True
    for per_min, minutes in segments:
        if first:
            parts.append(f"{value}+{per_min}x{minutes}")
            value += per_min * minutes
            first = False
        else:
            start = value + per_min
            parts.append(f"{start}+{per_min}x{minutes - 1}")
            value = start + per_min * (minutes - 1)
    return " ".join(parts)


def _http(svc: Service, team: Team, status: str) -> dict[str, str]:
    return {"__name__": "http_server_requests_total", "namespace": team.namespace_name, "service": svc.name,
            "job": svc.name, "pod": f"{svc.name}-7d9c8-abcde", "method": "GET", "route": "/things/{id}", "status": status}


def _series(name_and_labels: dict[str, str]) -> str:
    labels = dict(name_and_labels)
    name = labels.pop("__name__")
    return name + _labels(labels)


def _requests(svc: Service, team: Team, segments: list[tuple[int, int]]) -> list[dict]:
    """Request counters with ``errors`` of PER_MINUTE failing per minute, per (errors, minutes) segment."""
    ok = [(PER_MINUTE - errors, minutes) for errors, minutes in segments]
    bad = [(errors, minutes) for errors, minutes in segments]
    return [{"series": _series(_http(svc, team, "200")), "values": _counter(ok)},
            {"series": _series(_http(svc, team, "503")), "values": _counter(bad)}]


def _histogram(svc: Service, team: Team, seconds: float, minutes: int) -> list[dict]:
    """Duration buckets with every request taking about ``seconds``."""
    out = []
    for le in [*LATENCY_BUCKETS, math.inf]:
        labels = _http(svc, team, "200")
        labels["__name__"] = "http_server_request_duration_seconds_bucket"
        labels["le"] = "+Inf" if le == math.inf else repr(le)
        per_min = PER_MINUTE if le >= seconds else 0
        out.append({"series": _series(labels), "values": _counter([(per_min, minutes)])})
    return out


def _slow_and_fast(target_s: float) -> tuple[float, float]:
    """A duration well above the target (inside the bucket above it) and one well below."""
    above = [b for b in LATENCY_BUCKETS if b > target_s]
    slow = (above[0] + (above[1] if len(above) > 1 else above[0] * 2)) / 2 if above else target_s * 2
    return slow, LATENCY_BUCKETS[0] / 2


def _expected(rule: dict, extra: dict[str, str]) -> dict:
    return {"exp_labels": {**extra, **rule["labels"]}, "exp_annotations": rule["annotations"]}


def unit_tests(svc: Service, team: Team, rules_file: str) -> dict:
    """A ``promtool test rules`` document for one service, derived from its rules."""
    rules = {r["alert"]: r for r in alerting_rules(svc, team)}
    ns = team.namespace_name
    by_service = {"namespace": ns, "service": svc.name}
    slo, _ = effective_slo(svc)
    budget = error_budget(slo)
    spike = math.ceil(Decimal(16) * budget * PER_MINUTE)  # 16x the budget: above the 14.4x page threshold
    healthy = math.floor(Decimal("0.5") * budget * PER_MINUTE)  # half the budget: nothing to alert on
    assert 0 < healthy and spike < PER_MINUTE, f"{svc.name}: SLO {slo.availability} too loose for this test"
    fast, slow_burn = rules["ServiceErrorBudgetBurnFast"], rules["ServiceErrorBudgetBurnSlow"]
    tests = []

    # 1. An error spike pages within minutes and opens a ticket; once it ends the page resets
    #    when the short windows (5m, 30m) are clean, although the 1h and 6h windows still
    #    hold the spike.
    tests.append({
        "name": f"{svc.name}: error spike pages, then resets when it stops",
        "interval": "1m",
        "input_series": _requests(svc, team, [(spike, 60), (healthy, 60)]),
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": fast["alert"], "exp_alerts": [_expected(fast, by_service)]},
            {"eval_time": "50m", "alertname": fast["alert"], "exp_alerts": [_expected(fast, by_service)]},
            {"eval_time": "50m", "alertname": slow_burn["alert"], "exp_alerts": [_expected(slow_burn, by_service)]},
            {"eval_time": "100m", "alertname": fast["alert"], "exp_alerts": []},
        ],
    })
    # 2. Healthy traffic (errors at half the budget) for six hours: silent throughout.
    tests.append({
        "name": f"{svc.name}: healthy traffic stays silent",
        "interval": "1m",
        "input_series": _requests(svc, team, [(healthy, 360)]),
        "alert_rule_test": [
            {"eval_time": t, "alertname": a, "exp_alerts": []}
            for t in ("10m", "1h", "3h", "6h") for a in (fast["alert"], slow_burn["alert"])
        ],
    })
    # 3. Latency above the p99 target for longer than 10 minutes fires; below it does not.
    latency = rules["ServiceLatencyP99AboveTarget"]
    slow, quick = _slow_and_fast(slo.latency_p99_ms / 1000)
    tests.append({
        "name": f"{svc.name}: p99 above {slo.latency_p99_ms} ms fires",
        "interval": "1m",
        "input_series": _histogram(svc, team, slow, 30),
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": latency["alert"], "exp_alerts": []},  # still pending
            {"eval_time": "20m", "alertname": latency["alert"], "exp_alerts": [_expected(latency, by_service)]},
        ],
    })
    tests.append({
        "name": f"{svc.name}: p99 below {slo.latency_p99_ms} ms is silent",
        "interval": "1m",
        "input_series": _histogram(svc, team, quick, 30),
        "alert_rule_test": [{"eval_time": "20m", "alertname": latency["alert"], "exp_alerts": []}],
    })
    # 4. Saturation: the autoscaler at its maximum for 15 minutes.
    saturated = rules["ServiceAutoscalerAtMax"]
    hpa = {"namespace": ns, "horizontalpodautoscaler": svc.name, "job": "kube-state-metrics",
           "service": "kube-state-metrics", "instance": "10.0.1.7:8080"}
    top = svc.scaling.max
    tests.append({
        "name": f"{svc.name}: autoscaler at its maximum fires after 15m",
        "interval": "1m",
        "input_series": [
            {"series": "kube_horizontalpodautoscaler_status_current_replicas" + _labels(hpa), "values": f"{top}x40"},
            {"series": "kube_horizontalpodautoscaler_spec_max_replicas" + _labels(hpa), "values": f"{top}x40"},
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": saturated["alert"], "exp_alerts": []},
            {"eval_time": "20m", "alertname": saturated["alert"], "exp_alerts": [
                _expected(saturated, {"namespace": ns, "horizontalpodautoscaler": svc.name})]},
        ],
    })
    tests.append({
        "name": f"{svc.name}: autoscaler below its maximum is silent",
        "interval": "1m",
        "input_series": [
            {"series": "kube_horizontalpodautoscaler_status_current_replicas" + _labels(hpa), "values": f"{max(top - 1, 0)}x40"},
            {"series": "kube_horizontalpodautoscaler_spec_max_replicas" + _labels(hpa), "values": f"{top}x40"},
        ],
        "alert_rule_test": [{"eval_time": "30m", "alertname": saturated["alert"], "exp_alerts": []}],
    })
    # 5. Restarts: one a minute fires; a steady counter does not.
    restarting = rules["ServicePodRestarting"]
    pod = {"namespace": ns, "pod": f"{svc.name}-7d9c8-abcde", "container": svc.name, "job": "kube-state-metrics",
           "uid": "0f1e2d3c"}
    tests.append({
        "name": f"{svc.name}: restarting containers fire, steady ones do not",
        "interval": "1m",
        "input_series": [{"series": "kube_pod_container_status_restarts_total" + _labels(pod), "values": "3x20 4+1x20"}],
        "alert_rule_test": [
            {"eval_time": "15m", "alertname": restarting["alert"], "exp_alerts": []},
            {"eval_time": "35m", "alertname": restarting["alert"], "exp_alerts": [
                _expected(restarting, {"namespace": ns, "container": svc.name})]},
        ],
    })
    # 6. Metrics down: no scrape target at all, or every target failing.
    down = rules["ServiceMetricsDown"]
    target = {"namespace": ns, "service": svc.name, "job": svc.name, "instance": "10.0.2.9:8080"}
    tests.append({
        "name": f"{svc.name}: no scrape target fires",
        "interval": "1m",
        "input_series": [{"series": "up" + _labels({**target, "service": "someone-else"}), "values": "1x20"}],
        "alert_rule_test": [{"eval_time": "15m", "alertname": down["alert"], "exp_alerts": [_expected(down, by_service)]}],
    })
    tests.append({
        "name": f"{svc.name}: failing scrapes fire, healthy ones do not",
        "interval": "1m",
        "input_series": [{"series": "up" + _labels(target), "values": "1x20 0x20"}],
        "alert_rule_test": [
            {"eval_time": "15m", "alertname": down["alert"], "exp_alerts": []},
            {"eval_time": "35m", "alertname": down["alert"], "exp_alerts": [_expected(down, by_service)]},
        ],
    })
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}


def _write_pair(directory: Path, svc: Service, team: Team) -> tuple[Path, Path]:
    rules = directory / f"{svc.name}.rules.yaml"
    tests = directory / f"{svc.name}.test.yaml"
    rules.write_text(dump({"groups": prometheus_rule_groups(svc, team, PROD)}))
    tests.write_text(dump(unit_tests(svc, team, rules.name)))
    return rules, tests


# --- promtool checks ----------------------------------------------------------------------


def test_promtool_accepts_every_rule_group_of_every_stack(promtool, tmp_path):
    files = []
    for stack, settings, svc, team in _every_service():
        path = tmp_path / f"{stack}-{svc.name}.yaml"
        path.write_text(dump({"groups": prometheus_rule_groups(svc, team, settings)}))
        files.append(str(path))
    out = run_promtool(promtool, "check", "rules", *files).stdout
    assert out.count("SUCCESS") == len(files), out


def _unit_test_services() -> list[tuple[Service, Team]]:
    pairs = [(svc, PROD_CATALOG.team(svc.team)) for svc in PROD_CATALOG.services]
    pairs.append((service(name="no-slo", slo=None), TEAM))  # the default SLO is exercised too
    pairs.append((service(name="metrics-apart", metrics={"path": "/internal/metrics", "port": 9102}), TEAM))
    return pairs


@pytest.mark.parametrize("svc,team", _unit_test_services(), ids=lambda v: v.name if isinstance(v, Service) else "")
def test_promtool_unit_tests_pass(promtool, tmp_path, svc, team):
    _, tests = _write_pair(tmp_path, svc, team)
    out = run_promtool(promtool, "test", "rules", tests.name, cwd=tmp_path).stdout
    assert "SUCCESS" in out, out


def test_committed_promtool_fixtures_are_current(promtool, tmp_path):
    """tests/promtool/ is what the builders generate (PAVED_UPDATE_FIXTURES=1 rewrites it)."""
    svc = PROD_CATALOG.service("orders")
    team = PROD_CATALOG.team(svc.team)
    if UPDATE:
        FIXTURES.mkdir(exist_ok=True)
        _write_pair(FIXTURES, svc, team)
    rules, tests = _write_pair(tmp_path, svc, team)
    for generated in (rules, tests):
        committed = FIXTURES / generated.name
        assert committed.exists() and committed.read_text() == generated.read_text(), (
            f"{committed} is stale: PAVED_UPDATE_FIXTURES=1 pytest tests/test_monitoring.py -k fixtures")
    run_promtool(promtool, "test", "rules", tests.name, cwd=FIXTURES)


def test_a_burn_rate_test_that_should_fail_does(promtool, tmp_path):
    """The harness can fail: expecting a page on healthy traffic is reported by promtool."""
    svc = service()
    _, tests = _write_pair(tmp_path, svc, TEAM)
    doc = yaml.safe_load(tests.read_text())
    healthy = next(t for t in doc["tests"] if "healthy" in t["name"])
    fast = next(r for r in alerting_rules(svc, TEAM) if r["alert"] == "ServiceErrorBudgetBurnFast")
    healthy["alert_rule_test"] = [{"eval_time": "6h", "alertname": fast["alert"],
                                   "exp_alerts": [_expected(fast, {"namespace": "checkout", "service": "orders"})]}]
    doc["tests"] = [healthy]
    tests.write_text(dump(doc))
    proc = subprocess.run([promtool, "test", "rules", tests.name], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0 and "FAILED" in (proc.stdout + proc.stderr)


# --- rules: shape and content ---------------------------------------------------------------

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
    "inf", "nan",
}


def series_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (not functions, keywords or label names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # grouping labels
    names = set()
    for m in re.finditer(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def test_series_name_parser():
    expr = ('histogram_quantile(0.99, sum by (namespace, le) (rate(x_bucket{a="b{c}"}[5m]))) > on (a) '
            'group_left (b) y and absent(up{q="1"}) or vector(0) / $__range')
    assert series_names(expr) == {"x_bucket", "y", "up"}


def allowed_series() -> set[str]:
    return set(all_series_names()) | set(PLATFORM_SERIES)


@pytest.mark.parametrize("stack", STACKS)
def test_rules_query_only_contract_platform_and_own_records(stack):
    settings, catalog = _catalog(stack)
    for svc in catalog.services:
        groups = prometheus_rule_groups(svc, catalog.team(svc.team), settings)
        records = {r["record"] for g in groups for r in g["rules"] if "record" in r}
        for rule in (r for g in groups for r in g["rules"]):
            unknown = series_names(rule["expr"]) - allowed_series() - records
            assert not unknown, f"{svc.name} {rule.get('alert') or rule.get('record')}: {unknown}"


def test_every_alert_has_severity_summary_and_an_existing_runbook():
    for stack, settings, svc, team in _every_service():
        for rule in alerting_rules(svc, team):
            assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
            assert rule["labels"]["team"] == team.name and rule["labels"]["service"] == svc.name
            notes = rule["annotations"]
            assert notes["summary"] and svc.name in notes["summary"], rule["alert"]
            assert (ROOT / notes["runbook_url"]).is_file(), f"{stack}/{svc.name} {rule['alert']}: {notes['runbook_url']}"


@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_each_alert_kind_has_a_runbook_with_meaning_checks_and_mitigation(kind):
    text = (RUNBOOK_DIR / f"{kind}.md").read_text()
    for heading in ("## What it means", "## What to check", "## How to mitigate"):
        assert heading in text, f"{kind}.md lacks {heading!r}"
    index = (RUNBOOK_DIR / "README.md").read_text()
    assert f"({kind}.md)" in index


def test_burn_rate_thresholds_follow_the_sre_workbook():
    rules = {r["alert"]: r for r in alerting_rules(service(), TEAM)}
    fast, slow = rules["ServiceErrorBudgetBurnFast"]["expr"], rules["ServiceErrorBudgetBurnSlow"]["expr"]
    for window, factor in (("1h", "14.4"), ("5m", "14.4"), ("6h", "6"), ("30m", "6")):
        assert re.search(rf"error_ratio_rate{window}\{{[^}}]*\}} > \({re.escape(factor)} \* 0\.001\)", fast), window
    for window, factor in (("1d", "3"), ("2h", "3"), ("3d", "1"), ("6h", "1")):
        assert re.search(rf"error_ratio_rate{window}\{{[^}}]*\}} > \({factor} \* 0\.001\)", slow), window
    assert rules["ServiceErrorBudgetBurnFast"]["labels"]["severity"] == "critical"
    assert rules["ServiceErrorBudgetBurnSlow"]["labels"]["severity"] == "warning"
    assert error_budget(service(slo={"availability": 99.95, "latencyP99Ms": 1}).slo) == Decimal("0.0005")


def test_latency_alert_compares_the_p99_with_the_target_in_seconds():
    rule = next(r for r in alerting_rules(service(slo={"availability": 99.9, "latencyP99Ms": 250}), TEAM)
                if r["alert"] == "ServiceLatencyP99AboveTarget")
    assert rule["expr"].endswith("> 0.25") and rule["for"] == "10m"


def test_services_without_slo_get_the_documented_default():
    svc = service(slo=None)
    slo, declared = effective_slo(svc)
    assert (slo.availability, slo.latency_p99_ms, declared) == (99.5, 1000, False)
    for rule in alerting_rules(svc, TEAM):
        assert "paved default" in rule["annotations"]["slo"], rule["alert"]
    assert "(catalog)" in alerting_rules(service(), TEAM)[0]["annotations"]["slo"]


def test_saturation_and_restart_alerts_use_kube_state_metrics_labels():
    rules = {r["alert"]: r for r in alerting_rules(service(), TEAM)}
    sat = rules["ServiceAutoscalerAtMax"]
    assert 'horizontalpodautoscaler="orders"' in sat["expr"] and sat["for"] == "15m"
    assert 'container="orders"' in rules["ServicePodRestarting"]["expr"]


# --- scraping, tracing, network ------------------------------------------------------------


def test_the_service_monitor_scrapes_a_port_the_service_and_its_container_have():
    from components.service import MicroserviceArgs, container_spec, service_args

    for svc in (service(), service(metrics={"path": "/internal/metrics", "port": 9102})):
        args = MicroserviceArgs(service=svc, team=TEAM, settings=PROD)
        service_ports = {p.name: p.target_port for p in service_args(args).spec.ports}
        container_ports = {p.name for p in container_spec(args).ports}
        (endpoint,) = service_monitor_spec(svc, TEAM)["endpoints"]
        assert endpoint["port"] in service_ports, (svc.name, endpoint["port"], service_ports)
        assert service_ports[endpoint["port"]] in container_ports, (svc.name, service_ports, container_ports)


def test_service_monitor_scrapes_the_catalog_port_and_path():
    spec = service_monitor_spec(service(), TEAM)
    endpoint = spec["endpoints"][0]
    assert spec["selector"]["matchLabels"] == {"app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders"}
    assert spec["namespaceSelector"] == {"matchNames": ["checkout"]}
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert {"action": "replace", "targetLabel": "service", "replacement": "orders"} in endpoint["relabelings"]
    assert metrics_service_port(service()) is None

    apart = service(metrics={"path": "/internal/metrics", "port": 9102})
    endpoint = service_monitor_spec(apart, TEAM)["endpoints"][0]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/internal/metrics")
    port = metrics_service_port(apart)
    assert (port.name, port.port, port.target_port) == ("metrics", 9102, "metrics")


def test_otel_env_points_at_the_collector_and_samples_per_stack():
    env = otel_env(service(), TEAM, PROD)
    assert env["OTEL_SERVICE_NAME"] == "orders"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.monitoring.svc.cluster.local:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.1"
    assert otel_env(service(), TEAM, DEV)["OTEL_TRACES_SAMPLER_ARG"] == "1"
    attributes = dict(kv.split("=", 1) for kv in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
    assert attributes == {"service.namespace": "checkout", "service.version": "1.8.2",
                          "deployment.environment.name": "prod", "team": "checkout"}
    assert env["OTEL_METRICS_EXPORTER"] == "none"  # metrics are scraped; the collector has no metrics pipeline
    assert all(isinstance(v, str) for v in env.values())


def test_network_policies_admit_prometheus_and_reach_the_collector():
    scrape = scrape_policy_args(service(metrics={"port": 9102}), TEAM, PROD)
    rule = scrape.spec.ingress[0]
    peer = rule.from_[0]
    assert scrape.spec.policy_types == ["Ingress"]
    assert peer.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "monitoring"}
    assert peer.pod_selector.match_labels == {"paved.dev/observability": "prometheus"}
    assert [(p.protocol, p.port) for p in rule.ports] == [("TCP", 9102)]
    egress = collector_egress_args(service(), TEAM, PROD)
    assert egress.spec.policy_types == ["Egress"]
    assert egress.spec.egress[0].to[0].pod_selector.match_labels == {"paved.dev/observability": "otel-collector"}
    assert sorted(p.port for p in egress.spec.egress[0].ports) == [4317, 4318]
    assert scrape.metadata.namespace == egress.metadata.namespace == "checkout"


# --- dashboards ---------------------------------------------------------------------------


def _queries(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", []) if "expr" in t]


def test_dashboards_are_json_with_golden_signals_and_query_only_allowed_series():
    for stack, settings, svc, team in _every_service():
        configmap = dashboard_configmap_args(svc, team, settings)
        assert configmap.metadata.labels["grafana_dashboard"] == "1"
        assert configmap.metadata.annotations == {"grafana_folder": team.name}
        (key, text), = configmap.data.items()
        assert key == f"{svc.name}.json"
        dashboard = json.loads(text)
        assert dashboard["uid"] == f"paved-{svc.name}" and len(dashboard["uid"]) <= 40
        titles = {p["title"] for p in dashboard["panels"]}
        assert {"Latency", "Traffic", "Errors"} <= titles and any(t.startswith("Saturation") for t in titles)
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids))
        for expr in _queries(dashboard):
            unknown = series_names(expr) - allowed_series()
            assert not unknown, f"{stack}/{svc.name}: {expr} uses {unknown}"
        kafka = any("kafka_" in q for q in _queries(dashboard))
        assert kafka == bool(svc.kafka.produces or svc.kafka.consumes), f"{stack}/{svc.name}"


def test_platform_series_are_the_explicit_allowed_set():
    """The non-contract series rules and dashboards use are exactly the listed ones."""
    used = set()
    for _, settings, svc, team in _every_service():
        exprs = [r["expr"] for g in prometheus_rule_groups(svc, team, settings) for r in g["rules"]]
        exprs += _queries(dashboard_json(svc, team, settings))
        used |= {n for e in exprs for n in series_names(e)}
    assert used - set(all_series_names()) - {n for n in used if n.startswith("service:")} == set(PLATFORM_SERIES)


def test_long_service_names_get_a_short_stable_dashboard_uid():
    long = service(name="a" * 60)
    assert len(dashboard_uid(long)) <= 40 and dashboard_uid(long) == dashboard_uid(long)


# --- versions -----------------------------------------------------------------------------

EXACT = re.compile(r"^\d+\.\d+\.\d+$")


@pytest.mark.parametrize("key", ["kube-prometheus-stack", "jaeger", "opentelemetry-collector"])
def test_monitoring_charts_are_pinned_exactly(key):
    pinned = CHARTS[key]
    assert EXACT.match(pinned["version"]), pinned
    assert pinned["repo"].startswith("https://")


@pytest.mark.parametrize("key", ["jaeger", "opentelemetry-collector"])
def test_monitoring_images_are_pinned_exactly(key):
    repository, _, tag = IMAGES[key].rpartition(":")
    assert repository and EXACT.match(tag), IMAGES[key]


# --- the components under Pulumi's mocks --------------------------------------------------


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, []


def run_components(build) -> tuple[list, list]:
    """Run ``build`` under Pulumi's mocks; (recorded resources, (type, name, opts) of each)."""
    recorder = _Recorder()
    pulumi.runtime.settings.set_root_resource(None)  # a fresh stack, as paved.engine does
    pulumi.runtime.set_mocks(recorder, project="paved", stack="test", preview=False)
    seen: list = []

    def transform(a: pulumi.ResourceTransformationArgs):
        seen.append((a.type_, a.name, a.opts))

    pulumi.runtime.register_stack_transformation(transform)

    @pulumi.runtime.test
    def program():
        return pulumi.Output.all(*build())

    program()
    return recorder.resources, seen


def _by_kind(resources, kind: str) -> list[dict]:
    return [r.inputs for r in resources if r.inputs.get("kind") == kind]


CRD_GROUPS = ("monitoring.coreos.com/", "external-secrets.io/", "generators.external-secrets.io/")


def _check_schema(resources, k8s_version: str) -> None:
    """Built-in kinds against the Kubernetes schema, as `paved plan` checks them (no schema ships for CRDs)."""
    for r in resources:
        group = r.typ.split(":")[1] if r.typ.count(":") == 2 else ""
        if r.typ.startswith("kubernetes:") and not group.startswith(("helm.sh/",) + CRD_GROUPS):
            assert k8s_schema.validate_object(r.inputs, k8s_version) == [], (r.typ, r.name)


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_of_every_stack_gets_monitor_rules_dashboard_and_policies(stack):
    settings, catalog = _catalog(stack)

    def build():
        return [ServiceObservability(svc.name, ServiceObservabilityArgs(svc, catalog.team(svc.team), settings)).rule_name
                for svc in catalog.services]

    resources, seen = run_components(build)
    _check_schema(resources, settings.kubernetes_version)
    for svc in catalog.services:
        ns = catalog.team(svc.team).namespace_name
        mine = [r for r in resources if r.name.startswith(f"{svc.name}-")]
        kinds = sorted(r.inputs.get("kind") for r in mine)
        assert kinds == ["ConfigMap", "NetworkPolicy", "NetworkPolicy", "PrometheusRule", "ServiceMonitor"], (svc.name, kinds)
        assert all(r.inputs["metadata"]["namespace"] == ns for r in mine)
        rule = next(r.inputs for r in mine if r.inputs["kind"] == "PrometheusRule")
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        assert {g["name"] for g in rule["spec"]["groups"]} == {f"paved.{ns}.{svc.name}.recording",
                                                                f"paved.{ns}.{svc.name}.alerts"}
    components = [(t, n) for t, n, _ in seen if t == "paved:monitoring:ServiceObservability"]
    assert len(components) == len(catalog.services)


def test_renamed_service_keeps_its_observability_resources():
    svc = service(name="orders-v2", formerNames=["orders"])
    _, seen = run_components(lambda: [ServiceObservability(svc.name, ServiceObservabilityArgs(svc, TEAM, PROD)).rule_name])
    children = [(n, o) for t, n, o in seen if t != "paved:monitoring:ServiceObservability"]
    assert len(children) == 5
    for name, opts in children:
        names = [a.name for a in opts.aliases if isinstance(a.name, str)]  # the SDK adds type aliases of its own
        assert names == [name.replace("orders-v2", "orders")], name


def test_observability_team_must_match_the_service():
    other = Team.model_validate({"name": "data", "owner": "a@b.c", "costCenter": "c", "quota": {"cpu": "1", "memory": "1Gi", "pods": 1}})
    with pytest.raises(ValueError, match="belongs to team 'checkout'"):
        run_components(lambda: [ServiceObservability("orders", ServiceObservabilityArgs(service(), other, PROD)).rule_name])


class _Store(pulumi.CustomResource):
    def __init__(self, name: str):
        super().__init__("test:index:Store", name, {})


def _stack(settings, bootstrap="b-2.paved.x.kafka.us-east-1.amazonaws.com:9098,b-1.paved.x.kafka.us-east-1.amazonaws.com:9098"):
    def build():
        stack = ObservabilityStack("paved-observability", ObservabilityStackArgs(
            settings=settings, secret_store=_Store("store"), kafka_bootstrap=bootstrap, storage_class="gp3"))
        return [stack.collector_endpoint, stack.namespace_name]

    return run_components(build)


def _charts(resources) -> dict[str, dict]:
    return {r.inputs["chart"]: r.inputs for r in resources if r.typ == "kubernetes:helm.sh/v4:Chart"}


@pytest.mark.parametrize("stack", STACKS)
def test_observability_stack_installs_three_pinned_charts_and_the_collector(stack):
    settings = load_stack(ROOT, stack)
    resources, seen = _stack(settings)
    _check_schema(resources, settings.kubernetes_version)
    charts = _charts(resources)
    assert set(charts) == {"kube-prometheus-stack", "jaeger", "opentelemetry-collector"}
    for key, inputs in charts.items():
        assert inputs["version"] == CHARTS[key]["version"] and inputs["namespace"] == "monitoring"
        assert inputs["repositoryOpts"]["repo"] == CHARTS[key]["repo"]
    o = settings.observability
    prom = charts["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]
    assert prom["retention"] == o.prometheus_retention and prom["replicas"] == o.prometheus_replicas
    assert prom["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == f"{o.prometheus_storage_gib}Gi"
    assert prom["serviceMonitorSelectorNilUsesHelmValues"] is False and prom["ruleSelectorNilUsesHelmValues"] is False
    assert prom["podMetadata"]["labels"] == {"paved.dev/observability": "prometheus"}
    grafana = charts["kube-prometheus-stack"]["values"]["grafana"]
    assert grafana["admin"]["existingSecret"] == "grafana-admin" and "adminPassword" not in grafana
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    assert charts["kube-prometheus-stack"]["values"]["nodeExporter"] == {"enabled": False}
    collector = charts["opentelemetry-collector"]["values"]
    assert collector["mode"] == "deployment" and collector["image"]["repository"]
    pipeline = collector["alternateConfig"]["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and pipeline["exporters"] == ["otlp_grpc/jaeger"]
    assert collector["alternateConfig"]["exporters"]["otlp_grpc/jaeger"]["endpoint"] == "jaeger.monitoring.svc.cluster.local:4317"
    jaeger = charts["jaeger"]["values"]
    backends = jaeger["userconfig"]["extensions"]["jaeger_storage"]["backends"]["primary"]
    assert list(backends) == [o.jaeger_storage]
    claims = [r.inputs for r in resources if r.typ == "kubernetes:core/v1:PersistentVolumeClaim"]
    if o.jaeger_storage == "badger":
        assert [c["spec"]["resources"]["requests"]["storage"] for c in claims] == [f"{o.jaeger_storage_gib}Gi"]
    else:
        assert claims == []


def test_msk_brokers_are_scraped_on_both_open_monitoring_exporters():
    resources, _ = _stack(PROD)
    jobs = _charts(resources)["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"]
    targets = {j["job_name"]: j["static_configs"][0]["targets"] for j in jobs}
    hosts = ["b-1.paved.x.kafka.us-east-1.amazonaws.com", "b-2.paved.x.kafka.us-east-1.amazonaws.com"]
    assert targets == {"msk-jmx-exporter": [f"{h}:11001" for h in hosts], "msk-node-exporter": [f"{h}:11002" for h in hosts]}
    assert prometheus.msk_scrape_configs(None, "c") == [] and prometheus.msk_scrape_configs(" , ", "c") == []
    resources, _ = _stack(PROD, bootstrap=None)
    assert _charts(resources)["kube-prometheus-stack"]["values"]["prometheus"]["prometheusSpec"]["additionalScrapeConfigs"] == []


def test_grafana_password_is_generated_in_the_cluster_never_in_state():
    resources, _ = _stack(PROD)
    (generator,) = _by_kind(resources, "Password")
    (secret,) = _by_kind(resources, "ExternalSecret")
    assert generator["apiVersion"] == "generators.external-secrets.io/v1alpha1"
    assert secret["spec"]["refreshInterval"] == "0"  # generated once, not rotated under Grafana
    ref = secret["spec"]["dataFrom"][0]["sourceRef"]["generatorRef"]
    assert (ref["kind"], ref["name"]) == ("Password", generator["metadata"]["name"])
    assert secret["spec"]["target"]["name"] == "grafana-admin"
    blob = json.dumps([r.inputs for r in resources])
    assert "adminPassword" not in blob and "admin-password\": \"{{ .password }}" in blob
    assert not any(r.typ == "kubernetes:core/v1:Secret" for r in resources)


def test_observability_stack_requires_the_secret_store():
    with pytest.raises(ValueError, match="secret_store is required"):
        run_components(lambda: [ObservabilityStack("o", ObservabilityStackArgs(settings=PROD, secret_store=None)).namespace_name])


def test_monitoring_namespace_is_a_recorded_baseline_exception_that_policies_accept():
    from policies.rules.kubernetes.sec_024_default_deny import RULE as DEFAULT_DENY
    from policies.rules.kubernetes.sec_025_pod_security_labels import RULE as POD_SECURITY
    from policy_harness import resource_violations, stack_violations

    resources, _ = _stack(PROD)
    (namespace,) = [r.inputs for r in resources if r.typ == "kubernetes:core/v1:Namespace"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == PROD.pod_security_version
    assert "node-exporter" in namespace["metadata"]["annotations"]["paved.dev/pod-security-exception"]
    assert resource_violations(POD_SECURITY, "kubernetes:core/v1:Namespace", namespace) == []
    k8s_objects = [(r.typ, r.name, r.inputs) for r in resources if r.typ.startswith("kubernetes:core") or "networking" in r.typ]
    assert stack_violations(DEFAULT_DENY, k8s_objects) == []


def test_monitoring_network_policies_allow_what_each_part_needs():
    specs = obs.network_policy_specs(PROD)
    assert set(specs) == {"default-deny", "allow-dns", "allow-same-namespace", "allow-kube-api",
                          "allow-prometheus-scrape", "allow-otlp"}
    scrape = specs["allow-prometheus-scrape"]
    vpc_ports = {(p.port, p.end_port) for rule in scrape.egress if rule.ports for p in rule.ports}
    assert vpc_ports == {(10250, None), (11001, 11002)}
    assert all(peer.ip_block.cidr == PROD.network.cidr for rule in scrape.egress if rule.ports for peer in rule.to)
    otlp = specs["allow-otlp"]
    assert otlp.pod_selector.match_labels == {"paved.dev/observability": "otel-collector"}
    assert sorted(p.port for p in otlp.ingress[0].ports) == [4317, 4318]
    assert "0.0.0.0/0" not in json.dumps(str(specs))


# --- the program ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_plan_has_the_stack_and_per_service_observability(stack):
    plan = planned(stack)[0]
    charts = {r["inputs"]["chart"] for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"}
    assert {"kube-prometheus-stack", "jaeger", "opentelemetry-collector"} <= charts
    _, catalog = _catalog(stack)
    for svc in catalog.services:
        kinds = {r["inputs"].get("kind") for r in plan["resources"] if r["service"] == svc.name}
        assert {"ServiceMonitor", "PrometheusRule", "ConfigMap"} <= kinds, f"{stack}/{svc.name}: {kinds}"
        deployment = next(r for r in plan["resources"]
                          if r["service"] == svc.name and r["type"] in ("kubernetes:apps/v1:Deployment",
                                                                        "kubernetes:argoproj.io/v1alpha1:Rollout"))
        env = {e["name"]: e.get("value") for e in deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OTEL_SERVICE_NAME"] == svc.name, deployment["urn"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector_endpoint(), deployment["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_planned_prometheus_rules_pass_promtool(promtool, tmp_path, stack):
    """The PrometheusRules exactly as `paved plan` records them are valid for promtool: paved's
    own pass its lint too; kube-prometheus-stack's parse (its apiserver availability group
    records code_verb:apiserver_request_total:increase1h twice, which promtool's lint flags)."""
    plan = planned(stack)[0]
    charts = {r["urn"] for r in plan["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"}
    own, from_charts = [], []
    for r in plan["resources"]:
        if r["type"] == "kubernetes:monitoring.coreos.com/v1:PrometheusRule":
            files = from_charts if r["parent"] in charts else own
            path = tmp_path / f"{len(own) + len(from_charts)}-{r['inputs']['metadata']['name']}.yaml"
            path.write_text(dump({"groups": r["inputs"]["spec"]["groups"]}))
            files.append(str(path))
    assert len(own) == len(_catalog(stack)[1].services)
    out = run_promtool(promtool, "check", "rules", *own).stdout
    assert out.count("SUCCESS") == len(own), out
    assert from_charts
    out = run_promtool(promtool, "check", "rules", "--lint=none", *from_charts).stdout
    assert out.count("SUCCESS") == len(from_charts), out
