"""Central logs (issue 16): Fluent Bit to CloudWatch Logs, one group per team, the recorded
node-access exception, and logs in `paved cost`."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from policy_harness import mutate, resource_violations, sample

from components import logs
from components.addons import fluent_bit
from conftest import ROOT, STACKS, by_type, planned
from paved import cost
from paved.resources import LOG_GROUP
from paved.stack import load_stack
from policies.rules.kubernetes import node_access
from policies.rules.kubernetes import sec_003_run_as_non_root as sec_003
from policies.rules.kubernetes import sec_004_root_user_id as sec_004
from policies.rules.kubernetes import sec_009_host_path as sec_009
from policies.rules.kubernetes import sec_011_volume_types as sec_011
from policies.rules.kubernetes import sec_025_pod_security_labels as sec_025

DAEMONSET_T = "kubernetes:apps/v1:DaemonSet"
NAMESPACE_T = "kubernetes:core/v1:Namespace"
FLUENT_BIT = "paved-logs-fluent-bit:logging/fluent-bit"
NODE_RULES = (sec_003, sec_004, sec_009, sec_011)


def _teams(stack: str = "prod"):
    from paved.catalog import load_catalog

    return load_catalog(ROOT / "services_catalog.yaml", {e: load_stack(ROOT, e) for e in STACKS}).for_environment(stack).teams


# --- pure specs -------------------------------------------------------------------------------


def test_every_team_gets_its_own_pipeline_and_group():
    routes = logs.routes("prod", _teams())
    config = fluent_bit.pipeline(routes, "us-east-1")
    for team in _teams():
        ns = team.namespace_name
        assert f"Path /var/log/containers/*_{ns}_*.log\n" in config["inputs"]
        assert f"Kube_Tag_Prefix {team.name}.var.log.containers.\n" in config["filters"]
        assert f"Match {team.name}.*\n    region us-east-1\n    log_group_name /paved/prod/{team.name}\n" in config["outputs"]
    assert config["inputs"].count("multiline.parser cri") == len(routes)
    assert config["filters"].count("Merge_Log On") == len(routes)  # JSON lines keep their fields (trace_id)
    assert config["outputs"].count("auto_create_group Off") == len(routes)
    assert routes[-1].log_group == "/paved/prod/_platform" and "kube-system" in routes[-1].namespaces


def test_fluent_bit_may_only_write_to_its_groups():
    (statement,) = fluent_bit.writer_statements(["arn:aws:logs:us-east-1:1:log-group:/paved/prod/checkout"])
    assert statement["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert statement["Resource"] == ["arn:aws:logs:us-east-1:1:log-group:/paved/prod/checkout",
                                     "arn:aws:logs:us-east-1:1:log-group:/paved/prod/checkout:*"]


def test_log_key_lets_cloudwatch_logs_use_it_for_paved_groups_only():
    doc = json.loads(logs.key_policy("aws", "123456789012", "eu-west-1", "prod"))
    service = next(s for s in doc["Statement"] if s["Principal"].get("Service"))
    assert service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert service["Condition"] == {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:/paved/prod/*"}}


# --- the plan ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_log_groups_per_team_with_the_stacks_retention_and_key(stack):
    doc, settings = planned(stack)[0], load_stack(ROOT, stack)
    groups = {r["inputs"]["name"]: r for r in by_type(doc, LOG_GROUP) if r["inputs"]["name"].startswith("/paved/")}
    assert set(groups) == {f"/paved/{stack}/{t.name}" for t in _teams(stack)} | {f"/paved/{stack}/_platform"}
    for r in groups.values():
        assert r["inputs"]["retentionInDays"] == settings.logs.retention_days, r["urn"]
        assert bool(r["inputs"].get("kmsKeyId")) == settings.logs.kms, r["urn"]
    keys = [r for r in by_type(doc, "aws:kms/key:Key") if r["name"] == "paved-logs-key"]
    assert len(keys) == int(settings.logs.kms)
    endpoints = {r["inputs"]["serviceName"] for r in by_type(doc, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert f"com.amazonaws.{settings.aws_region}.logs" in endpoints


def test_fluent_bit_reads_only_var_log_read_only_in_the_logging_namespace():
    (ds,) = [r for r in by_type(planned("prod")[0], DAEMONSET_T) if r["name"] == FLUENT_BIT]
    assert node_access.host_paths(DAEMONSET_T, ds["inputs"]) == {"/var/log"}
    assert node_access.within(DAEMONSET_T, ds["inputs"])
    container = ds["inputs"]["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    ns = next(r for r in by_type(planned("prod")[0], NAMESPACE_T) if r["inputs"]["metadata"]["name"] == "logging")
    labels = ns["inputs"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert "hostPath" in ns["inputs"]["metadata"]["annotations"][logs.EXCEPTION_ANNOTATION]


def test_fluent_bit_role_writes_only_to_paved_groups():
    doc = planned("prod")[0]
    (policy,) = [r for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy") if r["name"] == "paved-logs-fluent-bit-policy"]
    (statement,) = json.loads(policy["inputs"]["policy"])["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert all(":log-group:/paved/prod/" in arn for arn in statement["Resource"]), statement["Resource"]
    assert len(statement["Resource"]) == 2 * (len(_teams()) + 1), statement["Resource"]


# --- the recorded exception -------------------------------------------------------------------


def fluent_bit_ds() -> dict:
    return sample("prod", DAEMONSET_T, name=FLUENT_BIT)


@pytest.mark.parametrize("rule", NODE_RULES, ids=lambda r: r.RULE.id)
def test_the_recorded_node_agent_passes_the_node_access_rules(rule):
    assert resource_violations(rule.RULE, DAEMONSET_T, fluent_bit_ds()) == []


@pytest.mark.parametrize(("path", "value", "caught"), [
    ("metadata.namespace", "checkout", NODE_RULES),  # the same pod elsewhere is not recorded
    ("spec.template.spec.volumes.1.hostPath.path", "/var/lib/kubelet", (sec_009, sec_011, sec_003, sec_004)),
    ("spec.template.spec.containers.0.volumeMounts.1.readOnly", False, (sec_009, sec_011, sec_003, sec_004)),
    ("spec.template.spec.containers.0.securityContext.capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
     (sec_003, sec_004, sec_009, sec_011)),
    ("spec.template.spec.containers.0.securityContext.allowPrivilegeEscalation", True, (sec_003, sec_004)),
])
def test_stepping_outside_the_record_is_caught(path, value, caught):
    ds = mutate(fluent_bit_ds(), path, value)
    for rule in caught:
        assert resource_violations(rule.RULE, DAEMONSET_T, ds), (rule.RULE.id, path)


def test_logging_may_enforce_privileged_but_must_audit_restricted():
    ns = sample("prod", NAMESPACE_T, name="paved-logs-ns")
    assert resource_violations(sec_025.RULE, NAMESPACE_T, ns) == []
    found = resource_violations(sec_025.RULE, NAMESPACE_T,
                                mutate(ns, "metadata.labels", {**ns["metadata"]["labels"],
                                                               "pod-security.kubernetes.io/audit": "privileged"}))
    assert any("audit: restricted (found privileged)" in m for m in found), found
    other = mutate(ns, "metadata.name", "checkout")
    assert any("enforce: restricted (found privileged)" in m for m in resource_violations(sec_025.RULE, NAMESPACE_T, other))


def test_the_recorded_exceptions_are_not_stale():
    """Each recorded node agent is in the plan with exactly its host paths, its namespace is a
    privileged namespace carrying the reason, and docs/exceptions.md lists it."""
    doc = planned("prod")[0]
    text = (ROOT / "docs" / "exceptions.md").read_text()
    privileged = sec_025.RULE.config["privilegedNamespaces"]["default"]
    for entry in node_access.RECORDED:
        found = [r for r in doc["resources"] if r["type"].endswith(f":{entry.kind}")
                 and r["inputs"]["metadata"].get("namespace") == entry.namespace
                 and r["inputs"]["metadata"].get("name") == entry.name]
        assert len(found) == 1, entry
        assert node_access.host_paths(found[0]["type"], found[0]["inputs"]) == set(entry.host_paths), entry
        assert entry.namespace in privileged and f"`{entry.namespace}/{entry.name}`" in text
    for name in privileged:
        ns = [r for r in by_type(doc, NAMESPACE_T) if r["inputs"]["metadata"]["name"] == name]
        assert ns and logs.EXCEPTION_ANNOTATION in ns[0]["inputs"]["metadata"].get("annotations", {}), name


# --- cost -------------------------------------------------------------------------------------


def test_cost_prices_each_groups_ingestion_and_storage_from_the_assumed_volume():
    doc = planned("prod")[0]
    est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"]])
    lines = {(ln.price.key, ln.resource): ln for ln in est.infrastructure if ln.price.key.startswith("cloudwatchLogs")}
    ingest = lines[("cloudwatchLogsIngestion", "paved-logs-team-data")]
    # data runs analytics at 2 replicas minimum in prod; prod assumes 1 GiB per pod and month.
    assert ingest.quantity == Decimal(2) * Decimal(2**30) / Decimal(10**9)
    store = lines[("cloudwatchLogsStorage", "paved-logs-team-data")]
    assert store.quantity == ingest.quantity * 30 / Decimal("30.4167")
    assert ingest.price.value == Decimal("0.5") and store.price.value == Decimal("0.03")
    # Other log groups (the control plane's, the brokers') carry no assumed volume and are not priced here.
    assert {r for _, r in lines} == {"paved-logs-platform", *(f"paved-logs-team-{t.name}" for t in _teams())}


def test_a_group_with_unknown_volume_is_listed_not_priced():
    group = {"name": "/paved/prod/x", "retentionInDays": 30,
             "tags": {logs.VOLUME_TAG: "1.0", logs.NAMESPACES_TAG: "x"}}
    est = cost.estimate([(LOG_GROUP, {**group, "retentionInDays": None}, "g")])
    assert any("log group g" in u for u in est.unpriced)
    assert cost.estimate([(LOG_GROUP, group, "g")]).unpriced == ()


# --- stack settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "field", "message"), [
    ("    retentionDays: 7\n", "    retentionDays: 8\n", "paved:logs.retentionDays", "the next longer is 14"),
    ("    gibPerPodMonth: 0.2", "    gibPerPodMonth: 0", "paved:logs.gibPerPodMonth", "greater than 0"),
    ("    kms: false\n", "    kms: false\n    kmsKey: x\n", "paved:logs.kmsKey", "unknown setting"),
])
def test_bad_logs_settings_are_refused_with_the_key(tmp_path, old, new, field, message):
    from conftest import copy_project
    from paved.errors import InputError

    root = copy_project(tmp_path)
    path = root / "stacks" / "Pulumi.dev.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as exc:
        load_stack(root, "dev")
    shown = str(exc.value)
    assert field in shown and message in shown, shown


def test_without_logs_settings_nothing_is_shipped(tmp_path):
    import re

    from conftest import copy_project
    from paved import plan

    root = copy_project(tmp_path)
    path = root / "stacks" / "Pulumi.dev.yaml"
    path.write_text(re.sub(r"  paved:logs:.*?\n(?=  paved:)", "", path.read_text(), flags=re.S))
    doc = plan.build("dev", root / "services_catalog.yaml", root)[0]
    assert not [r for r in doc["resources"] if r["type"].startswith("paved:logs:") or "fluent-bit" in r["name"]]
    assert not [r for r in by_type(doc, LOG_GROUP) if r["inputs"]["name"].startswith("/paved/")]
