"""Datastore observability: Grafana's CloudWatch data source, its read-only role and egress, and
the datastore panels on each service's dashboard. Builders without Pulumi first, then the
planned stacks (the real program under mocks). Not verified against AWS or a real Grafana.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.addons import prometheus
from components.dashboards import CLOUDWATCH_DATASOURCE_UID, dashboard_configmap_args, dashboard_json, datastore_panels
from components.observability import network_policy_specs
from conftest import STACKS, by_type, planned
from paved.layers import PlatformFacts
from test_data_component import _settings, _svc

READ_ONLY_PREFIXES = ("Get", "List", "Describe")


def _cloudwatch_targets(dashboard: dict) -> list[dict]:
    return [t for p in dashboard["panels"] for t in p.get("targets", [])
            if t["datasource"]["uid"] == CLOUDWATCH_DATASOURCE_UID]


# --- Grafana's data source and role --------------------------------------------------------


def test_grafana_values_carry_the_cloudwatch_data_source_only_where_asked():
    settings = _settings("prod")
    values = prometheus.kube_prometheus_stack_values(settings, [], grafana_annotations={
        "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/grafana"})
    grafana = values["grafana"]
    (cw,) = [d for d in grafana["additionalDataSources"] if d["type"] == "cloudwatch"]
    assert cw["uid"] == CLOUDWATCH_DATASOURCE_UID and cw["editable"] is False
    assert cw["jsonData"] == {"authType": "default", "defaultRegion": settings.aws_region}
    assert "secureJsonData" not in cw  # no keys: the pod's role
    assert grafana["serviceAccount"] == {"name": "grafana",
                                         "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/grafana"}}
    # Pod Identity: the data source, no annotation.
    grafana = prometheus.kube_prometheus_stack_values(settings, [], grafana_annotations={})["grafana"]
    assert any(d["type"] == "cloudwatch" for d in grafana["additionalDataSources"])
    assert grafana["serviceAccount"] == {"name": "grafana"}
    # No service has data: no data source.
    grafana = prometheus.kube_prometheus_stack_values(settings, [])["grafana"]
    assert [d["type"] for d in grafana["additionalDataSources"]] == ["jaeger"]


def test_grafana_s_policy_is_read_only_and_scoped_where_aws_allows():
    statements = prometheus.grafana_cloudwatch_statements("aws", "us-east-1", "123456789012", "prod")
    for st in statements:
        assert st["Effect"] == "Allow"
        for action in st["Action"]:
            service, _, verb = action.partition(":")
            assert service == "cloudwatch" and verb.startswith(READ_ONLY_PREFIXES) and "*" not in action, action
    wildcard = {a for st in statements if st["Resource"] == "*" for a in st["Action"]}
    # Only the calls AWS offers no resource-level permission for use "*" (and PAVED-SEC-055 lists them).
    assert wildcard == {"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics",
                        "cloudwatch:DescribeAlarmsForMetric"}
    from policies.rules.aws.sec_055_iam_no_wildcard_resources import UNSCOPABLE
    assert wildcard <= set(UNSCOPABLE)
    (alarms,) = [st for st in statements if st["Resource"] != "*"]
    assert alarms["Resource"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:paved-prod-*"


def test_grafana_may_reach_cloudwatch_and_its_credentials_only_with_data():
    settings = _settings("prod")
    assert "allow-grafana-cloudwatch" not in network_policy_specs(settings)
    spec = network_policy_specs(settings, cloudwatch=True)["allow-grafana-cloudwatch"]
    assert spec.pod_selector.match_labels == {"paved.dev/observability": "grafana"} and spec.policy_types == ["Egress"]
    vpc, *agent = spec.egress
    assert vpc.to[0].ip_block.cidr == settings.network.cidr and [p.port for p in vpc.ports] == [443]
    assert bool(agent) == (settings.cluster.identity == "podIdentity")
    irsa = settings.model_copy(update={"cluster": settings.cluster.model_copy(update={"identity": "irsa"})})
    assert len(network_policy_specs(irsa, cloudwatch=True)["allow-grafana-cloudwatch"].egress) == 1


def test_the_platform_fact_follows_the_catalog():
    catalog, _ = _svc("prod", "orders")
    facts = PlatformFacts.of(catalog)
    assert facts.data is True
    bare = dataclasses.replace(catalog, services=tuple(
        s.model_copy(update={"data": None}) for s in catalog.services))
    assert PlatformFacts.of(bare).data is False
    assert PlatformFacts.of(bare).digest() != facts.digest()


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_provisions_the_data_source_role_and_endpoint(stack):
    plan = planned(stack)[0]
    (endpoint,) = [r for r in by_type(plan, "aws:ec2/vpcEndpoint:VpcEndpoint") if r["name"].endswith("-monitoring")]
    assert endpoint["inputs"]["serviceName"] == "com.amazonaws.us-east-1.monitoring", endpoint["urn"]
    assert endpoint["inputs"]["privateDnsEnabled"] is True, endpoint["urn"]
    (policy,) = [r for r in by_type(plan, "aws:iam/rolePolicy:RolePolicy") if r["name"].endswith("-grafana-policy")]
    document = json.loads(policy["inputs"]["policy"])
    actions = {a for st in document["Statement"] for a in st["Action"]}
    assert all(a.split(":")[1].startswith(READ_ONLY_PREFIXES) for a in actions), policy["urn"]
    (chart,) = [r for r in by_type(plan, "kubernetes:helm.sh/v4:Chart") if r["name"].endswith("kube-prometheus-stack")]
    sources = chart["inputs"]["values"]["grafana"]["additionalDataSources"]
    assert any(d["uid"] == CLOUDWATCH_DATASOURCE_UID for d in sources), chart["urn"]
    # Grafana's ServiceAccount is the one its role is bound to.
    (account,) = [r for r in by_type(plan, "kubernetes:core/v1:ServiceAccount")
                  if r["name"].endswith("monitoring/grafana")]
    bindings = [r for r in by_type(plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if r["name"].endswith("-grafana-pod-identity")]
    if bindings:
        assert (bindings[0]["inputs"]["namespace"], bindings[0]["inputs"]["serviceAccount"]) == ("monitoring", "grafana")
    else:
        assert "eks.amazonaws.com/role-arn" in account["inputs"]["metadata"]["annotations"], account["urn"]


def test_in_layered_stacks_the_data_source_is_the_platform_s_and_the_panels_the_teams(tmp_path):
    from conftest import copy_project
    from paved import plan as planner

    root = copy_project(tmp_path)
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text() + "  paved:layout: layered\n")
    doc, _ = planner.build("dev", root / "services_catalog.yaml", root)
    where = {r["name"]: r["stack"] for r in doc["resources"]}
    assert where["paved-network-endpoint-monitoring"] == where["paved-observability-grafana-policy"] == "dev"
    (chart,) = [r for r in by_type(doc, "kubernetes:helm.sh/v4:Chart") if r["name"].endswith("kube-prometheus-stack")]
    assert chart["stack"] == "dev"
    assert any(d["uid"] == CLOUDWATCH_DATASOURCE_UID for d in chart["inputs"]["values"]["grafana"]["additionalDataSources"])
    (dashboard,) = [r for r in by_type(doc, "kubernetes:core/v1:ConfigMap") if r["name"] == "orders-dashboard"]
    assert dashboard["stack"] == "dev.checkout"
    assert _cloudwatch_targets(json.loads(next(iter(dashboard["inputs"]["data"].values()))))


# --- the dashboards -----------------------------------------------------------------------


def test_a_service_with_data_gets_its_datastore_panels_with_its_identifiers():
    catalog, orders = _svc("prod", "orders")
    settings = _settings("prod")
    dashboard = dashboard_json(orders, catalog.team(orders.team), settings)
    targets = _cloudwatch_targets(dashboard)
    seen = {(t["namespace"], t["metricName"]): t["dimensions"] for t in targets}
    db = {"DBInstanceIdentifier": "paved-prod-orders"}
    for metric in ("CPUUtilization", "DatabaseConnections", "FreeStorageSpace", "ReadLatency", "WriteLatency"):
        assert seen[("AWS/RDS", metric)] == db, metric
    cache = {"clusterId": "prod-orders"}
    assert seen[("AWS/ElastiCache", "ElastiCacheProcessingUnits")] == cache
    assert seen[("AWS/ElastiCache", "BytesUsedForCache")] == cache
    for t in targets:
        assert t["matchExact"] is True and t["statistic"] in ("Average", "Maximum", "Minimum", "Sum") and t["refId"]

    catalog, inventory = _svc("prod", "inventory")
    targets = _cloudwatch_targets(dashboard_json(inventory, catalog.team(inventory.team), settings))
    tables = {t["dimensions"]["TableName"] for t in targets}
    assert tables == {"prod-stock", "prod-reservations"}
    for table in tables:
        metrics = {t["metricName"] for t in targets if t["dimensions"] == {"TableName": table}}
        assert metrics == {"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents",
                           "WriteThrottleEvents"}, table


def test_a_service_without_data_has_no_datastore_panel():
    catalog = _svc("prod", "orders")[0]
    without = [s for s in catalog.services if s.data is None or s.data.empty]
    assert without
    for svc in without:
        assert datastore_panels(svc, _settings("prod")) == []
        dashboard = dashboard_json(svc, catalog.team(svc.team), _settings("prod"))
        assert _cloudwatch_targets(dashboard) == [] and "Datastores (CloudWatch)" not in {
            p["title"] for p in dashboard["panels"]}


def test_datastore_panels_keep_the_dashboard_valid():
    catalog, orders = _svc("prod", "orders")
    team = catalog.team(orders.team)
    (text,) = dashboard_configmap_args(orders, team, _settings("prod")).data.values()
    dashboard = json.loads(text)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    boxes = [(p["gridPos"]["x"], p["gridPos"]["y"], p["gridPos"]["w"], p["gridPos"]["h"]) for p in dashboard["panels"]]
    for i, (x, y, w, h) in enumerate(boxes):
        assert 0 <= x and x + w <= 24
        for (x2, y2, w2, h2) in boxes[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y, "panels overlap"
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"] == panel["datasource"], panel["title"]
