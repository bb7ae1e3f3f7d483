"""ServiceData and the migration Job: the spec builders without Pulumi, then the planned stacks.

The builders are checked on the repo's own catalog (orders: postgres + migrate, payments:
postgres, inventory: two tables and a cache); the plan checks read `paved plan`'s record of
the real program under mocks, with the URN in each message. Not verified against AWS.
"""

from __future__ import annotations

import json

import pytest

from components import data as d
from components.migration import job_name, migration_job_args
from components.service import MicroserviceArgs, pod_spec
from conftest import STACKS, by_type, planned
from paved.naming import table_env_name
from test_program import effective_catalog


def _svc(stack: str, name: str):
    catalog = effective_catalog(stack)
    return catalog, catalog.service(name)


def _settings(stack: str):
    from conftest import ROOT
    from paved.stack import load_stack

    return load_stack(ROOT, stack)


# --- pure builders ------------------------------------------------------------------------


def test_database_args_carry_every_guardrail_in_prod():
    _, svc = _svc("prod", "orders")
    a = d.database_args(svc, _settings("prod"), "arn:key", "subnets", "sg-1", "params", {})
    assert (a.engine, a.engine_version, a.instance_class, a.allocated_storage, a.max_allocated_storage) == (
        "postgres", "17", "db.t4g.medium", 50, 200)
    assert a.manage_master_user_password is True and a.password is None
    assert a.iam_database_authentication_enabled is True
    assert a.storage_encrypted is True and a.kms_key_id == "arn:key" and a.master_user_secret_kms_key_id == "arn:key"
    assert a.publicly_accessible is False and a.db_subnet_group_name == "subnets" and a.vpc_security_group_ids == ["sg-1"]
    assert a.multi_az is True and a.backup_retention_period == 14
    assert a.deletion_protection is True and a.skip_final_snapshot is False
    assert a.final_snapshot_identifier == "paved-prod-orders-final"


def test_database_args_in_dev_can_be_torn_down():
    _, svc = _svc("dev", "orders")
    a = d.database_args(svc, _settings("dev"), "arn:key", "subnets", "sg-1", "params", {})
    assert a.instance_class == "db.t4g.micro" and a.multi_az is False and a.backup_retention_period == 1
    assert a.deletion_protection is False and a.skip_final_snapshot is True and a.final_snapshot_identifier is None


def test_parameter_group_forces_tls():
    _, svc = _svc("prod", "orders")
    a = d.parameter_group_args(svc.data.postgres, {})
    assert a.family == "postgres17"
    assert {(p.name, p.value) for p in a.parameters} >= {("rds.force_ssl", "1")}


def test_table_args_are_on_demand_with_pitr_cmk_ttl_and_indexes():
    _, svc = _svc("prod", "inventory")
    levels, reservations = svc.data.tables
    a = d.table_args("prod", levels, "arn:key", True, {})
    assert a.name == "prod-stock" and a.billing_mode == "PAY_PER_REQUEST" and a.read_capacity is None
    assert a.point_in_time_recovery.enabled is True
    assert a.server_side_encryption.enabled is True and a.server_side_encryption.kms_key_arn == "arn:key"
    assert a.deletion_protection_enabled is True
    assert [(x.name, x.type) for x in a.attributes] == [("sku", "S"), ("warehouse", "S")]
    (gsi,) = a.global_secondary_indexes
    assert [(k.attribute_name, k.key_type) for k in gsi.key_schemas] == [("warehouse", "HASH"), ("sku", "RANGE")]
    b = d.table_args("dev", reservations, "arn:key", False, {})
    assert b.ttl.attribute_name == "expires_at" and b.ttl.enabled is True and b.range_key is None
    assert b.global_secondary_indexes is None and b.deletion_protection_enabled is False


def test_cache_uses_the_key_iam_users_only_and_a_disabled_default_user():
    _, svc = _svc("prod", "orders")
    cache = svc.data.cache
    a = d.serverless_cache_args(_settings("prod"), svc.name, cache, "arn:key", ["subnet-1"], "sg-1", "group", {})
    assert (a.name, a.engine, a.major_engine_version, a.kms_key_id, a.user_group_id) == (
        "prod-orders", "valkey", "8", "arn:key", "group")
    user = d.cache_user_args("prod", svc.name, cache, {})
    assert user.authentication_mode.type == "iam" and user.user_id == user.user_name == "prod-orders"
    assert "-@dangerous" in user.access_string
    off = d.default_cache_user_args("prod", svc.name, cache, {})
    assert off.user_name == "default" and off.access_string.startswith("off")


def test_the_cache_name_fits_elasticache():
    assert len(d.cache_name("staging", "a" * 60)) <= d.MAX_CACHE_NAME


def test_data_statements_are_scoped_to_the_service_s_own_resources():
    _, svc = _svc("prod", "inventory")
    st = {s["Sid"]: s for s in d.data_statements(
        svc, "us-east-1", "aws", "123456789012", "arn:key", None,
        ["arn:aws:dynamodb:us-east-1:123456789012:table/prod-stock"], [])}
    assert set(st) == {"UseOwnTables", "QueryOwnIndexes", "UseOwnDataKeyThroughDynamoDB"}
    assert st["QueryOwnIndexes"]["Resource"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/prod-stock/index/*"]
    _, orders = _svc("prod", "orders")
    (connect,) = d.data_statements(orders, "us-east-1", "aws", "123456789012", "arn:key", "db-ABC", [], [])
    assert connect["Resource"] == "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABC/orders"


def test_the_data_contract_names():
    _, orders = _svc("prod", "orders")
    env = d.data_env(orders, "prod", "us-east-1", "db.example", "cache.example")
    assert env == {"AWS_REGION": "us-east-1",
                   "PGHOST": "db.example", "PGPORT": "5432", "PGDATABASE": "orders", "PGUSER": "orders",
                   "PGSSLMODE": "verify-full", "PGSSLROOTCERT": d.RDS_CA_BUNDLE, "PAVED_DB_AUTH": "iam",
                   "PAVED_CACHE_HOST": "cache.example", "PAVED_CACHE_PORT": "6379", "PAVED_CACHE_TLS": "true",
                   "PAVED_CACHE_USER": "prod-orders", "PAVED_CACHE_NAME": "prod-orders",
                   "PAVED_CACHE_KIND": "serverless", "PAVED_CACHE_AUTH": "iam"}
    _, inventory = _svc("prod", "inventory")
    env = d.data_env(inventory, "prod", "us-east-1", None, None)
    # The names sample_services/inventory reads.
    assert env == {"AWS_REGION": "us-east-1", "PAVED_TABLE_STOCK": "prod-stock",
                   "PAVED_TABLE_RESERVATIONS": "prod-reservations"}
    assert table_env_name("stock-levels") == "PAVED_TABLE_STOCK_LEVELS"


def test_the_migration_job_runs_the_command_as_the_service_before_rollout():
    catalog, svc = _svc("prod", "orders")
    args = MicroserviceArgs(service=svc, team=catalog.team(svc.team), settings=_settings("prod"))
    pod = pod_spec(args)
    job = migration_job_args(svc, svc.data.postgres.migrate, "checkout", {"a": "b"}, pod, pod.containers[0])
    assert job.metadata.name == job_name(svc) and job.metadata.name.startswith("orders-migrate-")
    assert job.spec.ttl_seconds_after_finished is None  # a TTL-deleted Job would be drift, and run again
    assert job.spec.backoff_limit == 0 and job.spec.active_deadline_seconds == 600
    tpl = job.spec.template.spec
    assert tpl.restart_policy == "Never" and tpl.service_account_name == "orders"
    assert tpl.automount_service_account_token is False
    (c,) = tpl.containers
    assert c.command == ["python", "/app/service/app.py", "migrate"] and c.image == svc.image
    assert c.security_context == pod.containers[0].security_context and c.resources == pod.containers[0].resources
    assert c.liveness_probe is None and c.ports is None
    # The service's selectors (name + instance) never match the migration pod.
    labels = job.spec.template.metadata.labels
    assert labels["app.kubernetes.io/instance"] == "orders-migrate"


def test_a_new_image_is_a_new_job():
    _, svc = _svc("prod", "orders")
    bumped = svc.model_copy(update={"image": svc.image.replace("1.8.2", "1.8.3")})
    assert job_name(bumped) != job_name(svc) and len(job_name(bumped)) <= 63


# --- the planned stacks -------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_has_every_guardrail(stack):
    plan = planned(stack)[0]
    protect = stack == "prod"
    dbs = by_type(plan, "aws:rds/instance:Instance")
    assert sorted(r["service"] for r in dbs) == ["orders", "payments"]
    for db in dbs:
        i, urn = db["inputs"], db["urn"]
        assert i["manageMasterUserPassword"] is True and "password" not in i, urn
        assert i["iamDatabaseAuthenticationEnabled"] is True and i["publiclyAccessible"] is False, urn
        assert i["storageEncrypted"] is True and i["kmsKeyId"].startswith("arn:aws:kms:"), urn
        assert i["multiAz"] is protect and i["deletionProtection"] is protect, urn
        assert i["skipFinalSnapshot"] is (not protect), urn
        assert db["options"]["protect"] is protect and db["options"]["retainOnDelete"] is protect, urn
    for table in by_type(plan, "aws:dynamodb/table:Table"):
        assert table["inputs"]["pointInTimeRecovery"]["enabled"] is True, table["urn"]
        assert table["inputs"]["serverSideEncryption"]["kmsKeyArn"].startswith("arn:aws:kms:"), table["urn"]
        assert table["options"]["protect"] is protect, table["urn"]
    # staging runs its caches on nodes (paved:data.cacheMode), the others serverless.
    (cache,) = by_type(plan, "aws:elasticache/serverlessCache:ServerlessCache") + by_type(
        plan, "aws:elasticache/replicationGroup:ReplicationGroup")
    assert cache["options"]["protect"] is protect and cache["inputs"]["kmsKeyId"].startswith("arn:aws:kms:")
    # The database admits the cluster's nodes on 5432 and nothing else.
    rules = [r for r in by_type(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r["name"].endswith("-data-db-from-nodes")]
    assert len(rules) == 2
    for rule in rules:
        i = rule["inputs"]
        assert (i["fromPort"], i["toPort"], i["ipProtocol"]) == (5432, 5432, "tcp") and "cidrIpv4" not in i
        assert i["referencedSecurityGroupId"].startswith("sg-"), rule["urn"]


@pytest.mark.parametrize("stack", ["prod"])
def test_the_deployment_waits_for_the_migration_and_gets_the_contract(stack):
    plan = planned(stack)[0]
    job = next(j for j in by_type(plan, "kubernetes:batch/v1:Job") if j["service"] == "orders")
    # orders is a canary: its pods are an Argo Rollout's, with the same pod template.
    deployments = {r["service"]: r for t in ("kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout")
                   for r in by_type(plan, t) if r["service"]}
    assert job["urn"] in deployments["orders"]["options"]["dependsOn"]
    assert "pulumi.com/skipAwait" not in (job["inputs"]["metadata"].get("annotations") or {})
    env = {e["name"]: e.get("value") for e in
           deployments["orders"]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PGHOST"].startswith("paved-prod-orders.") and env["PGSSLMODE"] == "verify-full"
    assert env["PAVED_DB_AUTH"] == "iam" and "PGPASSWORD" not in env
    inv = {e["name"]: e.get("value") for e in
           deployments["inventory"]["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert inv["PAVED_TABLE_STOCK"] == "prod-stock" and inv["PAVED_TABLE_RESERVATIONS"] == "prod-reservations"
    assert env["PAVED_CACHE_TLS"] == "true" and env["PAVED_CACHE_USER"] == "prod-orders"
    job_env = {e["name"] for e in job["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {"PGHOST", "PGUSER", "PAVED_DB_AUTH"} <= job_env
    # The migration pods get their own NetworkPolicy: credentials and the database, no ingress.
    (policy,) = [r for r in by_type(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                 if r["name"] == "orders-migrate-netpol"]
    assert policy["inputs"]["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "orders-migrate"
    ports = {p["port"] for rule in policy["inputs"]["spec"]["egress"] for p in rule["ports"]}
    assert 5432 in ports and 9098 not in ports
    assert not policy["inputs"]["spec"].get("ingress")


def test_no_static_password_in_any_plan():
    for stack in STACKS:
        text = json.dumps([r for r in planned(stack)[0]["resources"] if r["type"].startswith("aws:rds")])
        assert '"password"' not in text and "masterPassword" not in text


def test_a_renamed_service_keeps_its_database_and_its_user(tmp_path):
    from paved import plan
    from test_renames import renamed_project

    root = renamed_project(tmp_path)
    doc, _ = plan.build("dev", root / "services_catalog.yaml", root)
    (db,) = [r for r in by_type(doc, "aws:rds/instance:Instance") if r["service"] == "orders-v2"]
    assert db["inputs"]["identifier"] == "paved-dev-orders" and db["inputs"]["dbName"] == "orders"
    assert {a["name"] for a in db["options"]["aliases"] if isinstance(a, dict)} == {"orders-data-db"}


def test_alarms_watch_the_database_and_the_cache():
    _, orders = _svc("prod", "orders")
    specs = {a.role: a for a in d.database_alarms("prod", orders)}
    assert set(specs) == {"db-cpu", "db-free-storage", "db-connections"}
    assert specs["db-free-storage"].threshold == 50 * 2**30 // 10  # 10% of 50 GiB
    assert specs["db-connections"].threshold == (4 * 2**30 // 9531392) * 8 // 10  # db.t4g.medium
    assert specs["db-cpu"].dimensions == {"DBInstanceIdentifier": "paved-prod-orders"}
    args = d.alarm_args("prod", orders, specs["db-cpu"], {})
    assert args.name == "paved-prod-orders-db-cpu" and args.treat_missing_data == "notBreaching"
    assert {a.role for a in d.cache_alarms("prod", orders)} == {"cache-storage", "cache-ecpu"}
    plan = planned("prod")[0]
    assert len(by_type(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")) == 3 + 2 + 3  # orders: db and cache; payments
