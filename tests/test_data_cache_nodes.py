"""Node-based caches (paved:data.cacheMode nodes): the stack setting and its errors, the
replication group's spec, the plan of staging (which runs its caches on nodes), a protected
stack on nodes, the rules, `paved cost` and `paved diff`. Not verified against AWS.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path

import pytest
from policy_harness import mutate, resource_violations, sample
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE

from components import data as d
from components.dashboards import dashboard_json
from conftest import ROOT, by_type, copy_project, planned
from paved.cost import CostError, estimate
from paved.errors import InputError
from paved.resources import REPLICATION_GROUP, SERVERLESS_CACHE
from paved.stack import load_stack
from policies.rules.aws import sec_066_cache_encryption_auth as sec_066
from policies.rules.cost import cost_014_cache_node_cap as cost_014
from test_data_component import _settings, _svc

NODES = "cacheMode: nodes\n    cacheNodes: {nodeType: cache.t4g.small, count: 2}\n"


def _with_stack(tmp_path: Path, stack: str, old: str, new: str) -> Path:
    root = copy_project(tmp_path)
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return root


def _nodes_settings(stack: str, count: int = 2):
    s = _settings(stack)
    from paved.stack import CacheNodes

    data = s.data.model_copy(update={"cache_mode": "nodes",
                                     "cache_nodes": CacheNodes(node_type="cache.t4g.small", count=count)})
    return s.model_copy(update={"data": data})


# --- the stack setting --------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "message"), [
    ("cacheMode: serverless", "cacheMode: nodes", "data.cacheNodes (nodeType, count) is required with cacheMode: nodes"),
    ("cacheMode: serverless", "cacheMode: servers", "paved:data.cacheMode: Input should be 'serverless' or 'nodes'"),
    ("cacheMode: serverless", "cacheMode: nodes\n    cacheNodes: {nodeType: t4g.small}", "cacheNodes.nodeType"),
    ("cacheMode: serverless", "cacheMode: serverless\n    cacheNodes: {nodeType: cache.t4g.small}",
     "data.cacheNodes applies only with cacheMode: nodes"),
    ("cacheMode: serverless", "cacheMode: nodes\n    cacheNodes: {nodeType: cache.t4g.small, count: 1}",
     "must be at least 2 with multiAz"),
    ("cacheMode: serverless", "cacheMode: nodes\n    cacheNodes: {nodeType: cache.t4g.small, count: 2, size: 3}",
     "cacheNodes.size: unknown setting"),
])
def test_bad_cache_settings_name_the_file_line_and_field(tmp_path, old, new, message):
    root = _with_stack(tmp_path, "prod", old, new)
    with pytest.raises(InputError) as err:
        load_stack(root, "prod")
    text = str(err.value)
    assert "stacks/Pulumi.prod.yaml:" in text and message in text, text


def test_one_node_is_allowed_where_the_stack_is_single_zone(tmp_path):
    root = _with_stack(tmp_path, "dev", "cacheMode: serverless",
                       "cacheMode: nodes\n    cacheNodes: {nodeType: cache.t4g.micro, count: 1}")
    nodes = load_stack(root, "dev").data.cache_nodes
    assert (nodes.node_type, nodes.count) == ("cache.t4g.micro", 1)


# --- the replication group ----------------------------------------------------------------


def test_the_replication_group_in_a_protected_stack_fails_over_across_zones():
    _, svc = _svc("prod", "orders")
    a = d.replication_group_args(_nodes_settings("prod"), svc.name, svc.data.cache, "arn:key", "subnets", "sg-1",
                                 "group", {})
    assert (a.replication_group_id, a.engine, a.engine_version, a.node_type, a.num_cache_clusters) == (
        "prod-orders", "valkey", "8.0", "cache.t4g.small", 2)
    assert a.automatic_failover_enabled is True and a.multi_az_enabled is True
    assert a.transit_encryption_enabled is True and a.transit_encryption_mode == "required"
    assert a.at_rest_encryption_enabled is True and a.kms_key_id == "arn:key"
    assert a.user_group_ids == ["group"] and a.auth_token is None
    assert a.subnet_group_name == "subnets" and a.security_group_ids == ["sg-1"] and a.port == 6379
    assert a.snapshot_retention_limit == 14 and a.final_snapshot_identifier == "prod-orders-final"


def test_one_node_has_no_failover_and_dev_leaves_no_final_snapshot():
    _, svc = _svc("dev", "orders")
    a = d.replication_group_args(_nodes_settings("dev", count=1), svc.name, svc.data.cache, "k", "s", "g", "u", {})
    assert a.automatic_failover_enabled is False and a.multi_az_enabled is False
    assert a.final_snapshot_identifier is None and a.snapshot_retention_limit == 1
    assert d.cache_subnet_group_args("dev", svc.name, ["subnet-1"], {}).name == "dev-orders"
    with pytest.raises(ValueError, match="cacheNodes"):
        d.replication_group_args(_settings("dev"), svc.name, svc.data.cache, "k", "s", "g", "u", {})


def test_node_alarms_watch_each_node():
    _, orders = _svc("staging", "orders")
    nodes = load_stack(ROOT, "staging").data.cache_nodes
    specs = {a.role: a for a in d.cache_alarms("staging", orders, nodes)}
    assert set(specs) == {f"cache-{n}-{m}" for n in ("001", "002") for m in ("cpu", "engine-cpu", "memory", "evictions")}
    assert specs["cache-002-engine-cpu"].dimensions == {"CacheClusterId": "staging-orders-002"}
    assert {s.metric for s in specs.values()} == {"CPUUtilization", "EngineCPUUtilization",
                                                   "DatabaseMemoryUsagePercentage", "Evictions"}
    assert all(s.namespace == "AWS/ElastiCache" for s in specs.values())


def test_staging_plans_a_replication_group_with_the_same_contract():
    plan = planned("staging")[0]
    assert not by_type(plan, SERVERLESS_CACHE)
    (group,) = by_type(plan, REPLICATION_GROUP)
    i = group["inputs"]
    assert (i["nodeType"], i["numCacheClusters"], i["automaticFailoverEnabled"]) == ("cache.t4g.micro", 2, True)
    assert i["transitEncryptionMode"] == "required" and i["kmsKeyId"].startswith("arn:aws:kms:"), group["urn"]
    (subnets,) = by_type(plan, "aws:elasticache/subnetGroup:SubnetGroup")
    assert i["subnetGroupName"] == subnets["inputs"]["name"] == "staging-orders"
    assert len(subnets["inputs"]["subnetIds"]) == load_stack(ROOT, "staging").network.zones
    (users,) = by_type(plan, "aws:elasticache/userGroup:UserGroup")
    assert i["userGroupIds"] == [users["inputs"]["userGroupId"]]
    # The pods get the primary endpoint; the role may connect to the group and its user only.
    envs = [e for r in plan["resources"] if r["service"] == "orders"
            for e in json.loads(json.dumps(r["inputs"])).get("spec", {}).get("template", {}).get("spec", {})
            .get("containers", [{}])[0].get("env", [])]
    hosts = {e["value"] for e in envs if e["name"] == "PAVED_CACHE_HOST"}
    assert hosts == {"master.staging-orders.7d87cf.ng.0001.us-e1.cache.amazonaws.com"}, hosts
    # The IAM token of a replication group names no ResourceType (sample_services/pavedkit/cache.py).
    assert {e["value"] for e in envs if e["name"] == "PAVED_CACHE_KIND"} == {"nodes"}
    assert {e["value"] for e in envs if e["name"] == "PAVED_CACHE_NAME"} == {i["replicationGroupId"]}
    (policy,) = [r for r in by_type(plan, "aws:iam/rolePolicy:RolePolicy") if r["name"] == "orders-identity-policy"]
    (connect,) = [s for s in json.loads(policy["inputs"]["policy"])["Statement"] if s["Sid"] == "ConnectToOwnCache"]
    assert sorted(connect["Resource"]) == [
        "arn:aws:elasticache:us-east-1:123456789012:replicationgroup:staging-orders",
        "arn:aws:elasticache:us-east-1:123456789012:user:staging-orders"]
    alarms = [r["inputs"]["dimensions"] for r in by_type(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
              if r["name"].startswith("orders-data-alarm-cache-")]
    assert {a["CacheClusterId"] for a in alarms} == {"staging-orders-001", "staging-orders-002"}


def test_the_dashboard_shows_each_node():
    catalog, orders = _svc("staging", "orders")
    dashboard = dashboard_json(orders, catalog.team(orders.team), load_stack(ROOT, "staging"))
    targets = [t for p in dashboard["panels"] for t in p.get("targets", []) if t.get("namespace") == "AWS/ElastiCache"]
    assert {(t["metricName"], t["dimensions"]["CacheClusterId"]) for t in targets} == {
        (m, f"staging-orders-00{n}") for m in ("CPUUtilization", "EngineCPUUtilization",
                                               "DatabaseMemoryUsagePercentage", "Evictions") for n in (1, 2)}


def test_a_protected_stack_on_nodes_protects_retains_and_stays_in_budget(tmp_path):
    from paved import plan as planner

    root = _with_stack(tmp_path, "prod", "cacheMode: serverless\n", NODES)
    doc, _ = planner.build("prod", root / "services_catalog.yaml", root)
    (group,) = by_type(doc, REPLICATION_GROUP)
    assert (group["options"]["protect"], group["options"]["retainOnDelete"]) == (True, True), group["urn"]
    i = group["inputs"]
    assert i["multiAzEnabled"] is True and i["automaticFailoverEnabled"] is True and i["numCacheClusters"] == 2
    assert i["finalSnapshotIdentifier"] == "prod-orders-final" and i["snapshotRetentionLimit"] == 14
    est = estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"]])
    node_lines = {ln.item: ln.amount for ln in est.infrastructure if ln.resource == "orders-data-cache-nodes"}
    assert node_lines == {"ElastiCache valkey 2 x cache.t4g.small": Decimal(2) * 730 * Decimal("0.0256")}


# --- the rules ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def group() -> dict:
    return sample("staging", REPLICATION_GROUP)


def test_sec_066_applies_to_the_replication_group(group):
    cases = {
        "ok": group, "tls-unknown": mutate(group, "transitEncryptionEnabled", UNKNOWN_BOOLEAN_VALUE),
        "plaintext": mutate(group, "transitEncryptionEnabled", False),
        "no-tls-flag": mutate(group, "transitEncryptionEnabled", None),
        "preferred": mutate(group, "transitEncryptionMode", "preferred"),
        "not-at-rest": mutate(group, "atRestEncryptionEnabled", False),
        "aws-key": mutate(group, "kmsKeyId", None),
        "open": mutate(group, "userGroupIds", []),
    }
    found = {n: " | ".join(m) for n, p in cases.items()
             if (m := resource_violations(sec_066.RULE, REPLICATION_GROUP, p, name=n))}
    assert set(found) == {"plaintext", "no-tls-flag", "preferred", "not-at-rest", "aws-key", "open"}
    assert "transitEncryptionEnabled" in found["plaintext"] and "required" in found["preferred"]
    assert "atRestEncryptionEnabled" in found["not-at-rest"] and "kmsKeyId" in found["aws-key"]
    assert "userGroupIds" in found["open"]


def test_cost_014_caps_node_type_and_count(group):
    config = {"allowedNodeTypes": ["cache.t4g.micro"], "maxNodes": 2}
    cases = {"ok": group, "big": mutate(group, "nodeType", "cache.r7g.4xlarge"),
             "many": mutate(group, "numCacheClusters", 5.0)}
    found = {n: " | ".join(m) for n, p in cases.items()
             if (m := resource_violations(cost_014.RULE, REPLICATION_GROUP, p, name=n, config=config))}
    assert set(found) == {"big", "many"} and "not cache.r7g.4xlarge" in found["big"] and "at most 2" in found["many"]
    assert not resource_violations(cost_014.RULE, REPLICATION_GROUP, group)  # the defaults admit staging's


# --- cost and diff ------------------------------------------------------------------------


def test_nodes_are_priced_per_node_hour_by_engine():
    valkey = {"engine": "valkey", "nodeType": "cache.t4g.micro", "numCacheClusters": 2.0}
    est = estimate([(REPLICATION_GROUP, valkey, "v"),
                    (REPLICATION_GROUP, dict(valkey, engine="redis", numCacheClusters=1.0), "r")])
    got = {f"{ln.item} [{ln.resource}]": ln.amount for ln in est.infrastructure}
    assert got["ElastiCache valkey 2 x cache.t4g.micro [v]"] == Decimal(1460) * Decimal("0.0128")
    assert got["ElastiCache redis 1 x cache.t4g.micro [r]"] == Decimal(730) * Decimal("0.016")
    with pytest.raises(CostError, match="elasticacheNodeValkey"):
        estimate([(REPLICATION_GROUP, dict(valkey, nodeType="cache.x9.huge"), "x")])


def test_replacing_the_replication_group_is_data_loss(repo, capsys):  # noqa: F811
    from paved import diff
    from test_diff import git

    path = repo / "components" / "data.py"
    text = path.read_text()
    old = 'return _short(f"{environment}-{service}", MAX_CACHE_NAME)'
    assert old in text
    path.write_text(text.replace(old, 'return _short(f"{environment}-{service}-cache", MAX_CACHE_NAME)'))
    git(repo, "commit", "--quiet", "-am", "new cache names")
    args = argparse.Namespace(stack="staging", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 1
    risks = {r["name"]: r for r in json.loads(capsys.readouterr().out)["dataLossRisks"]}
    nodes = risks["orders-data-cache-nodes"]
    assert nodes["op"] == "replace" and nodes["dataLoss"]["stateful"]
    assert "replicationGroupId" in json.dumps(nodes)



def test_switching_the_cache_mode_is_data_loss(repo, capsys):  # noqa: F811
    from paved import diff
    from test_diff import git

    path = repo / "stacks" / "Pulumi.prod.yaml"
    path.write_text(path.read_text().replace("cacheMode: serverless\n", NODES, 1))
    git(repo, "commit", "--quiet", "-am", "prod caches on nodes")
    args = argparse.Namespace(stack="prod", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 1
    risks = {r["name"]: r for r in json.loads(capsys.readouterr().out)["dataLossRisks"]}
    assert risks["orders-data-cache"]["op"] == "delete" and risks["orders-data-cache"]["dataLoss"]["protected"]


from test_diff import repo  # noqa: E402,F401 - the fixture
