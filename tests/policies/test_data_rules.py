"""The datastore rules (PAVED-SEC-060..066, REL-012..014, COST-012..013): each starts from the
repo's own planned resource (the prod plan: a passing fixture), mutates one input per failing
case, and asserts the violating case names and a message substring."""

from __future__ import annotations

from typing import Any

import pytest
from policy_harness import mutate, resource_violations, sample
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UNKNOWN_STRING_VALUE

from paved.resources import DYNAMODB_TABLE, RDS_INSTANCE, RDS_PARAMETER_GROUP, SERVERLESS_CACHE
from policies.rules.aws import sec_060_rds_cmk_encryption as sec_060
from policies.rules.aws import sec_061_rds_no_public_access as sec_061
from policies.rules.aws import sec_062_rds_iam_auth as sec_062
from policies.rules.aws import sec_063_rds_force_ssl as sec_063
from policies.rules.aws import sec_064_rds_supported_engine as sec_064
from policies.rules.aws import sec_065_dynamodb_pitr_cmk as sec_065
from policies.rules.aws import sec_066_cache_encryption_auth as sec_066
from policies.rules.cost import cost_012_rds_instance_class as cost_012
from policies.rules.cost import cost_013_dynamodb_capacity_cap as cost_013
from policies.rules.reliability import rel_012_rds_backup_retention as rel_012
from policies.rules.reliability import rel_013_rds_deletion_protection as rel_013
from policies.rules.reliability import rel_014_rds_multi_az as rel_014

PROD = {"requireDeletionProtection": True}


@pytest.fixture(scope="module")
def db() -> dict[str, Any]:
    return sample("prod", RDS_INSTANCE, service="orders")


def violators(rule, resource_type: str, cases: dict[str, dict], config: dict | None = None) -> dict[str, str]:
    found = {n: resource_violations(rule, resource_type, p, name=n, config=config) for n, p in cases.items()}
    return {n: " | ".join(m) for n, m in found.items() if m}


def test_sec_060_rds_cmk(db):
    found = violators(sec_060.RULE, RDS_INSTANCE, {
        "ok": db, "key-unknown": mutate(db, "kmsKeyId", UNKNOWN_STRING_VALUE),
        "aws-key": mutate(db, "kmsKeyId", None), "plain": mutate(db, "storageEncrypted", False)})
    assert set(found) == {"aws-key", "plain"}
    assert "kmsKeyId" in found["aws-key"] and "storageEncrypted" in found["plain"]


def test_sec_061_rds_not_public(db):
    found = violators(sec_061.RULE, RDS_INSTANCE, {
        "ok": db, "public": mutate(db, "publiclyAccessible", True),
        "public-unknown": mutate(db, "publiclyAccessible", UNKNOWN_BOOLEAN_VALUE),
        "default-vpc": mutate(db, "dbSubnetGroupName", None)})
    assert set(found) == {"public", "public-unknown", "default-vpc"}
    assert "publiclyAccessible" in found["public"] and "dbSubnetGroupName" in found["default-vpc"]


def test_sec_062_rds_iam_auth(db):
    found = violators(sec_062.RULE, RDS_INSTANCE, {
        "ok": db, "no-iam": mutate(db, "iamDatabaseAuthenticationEnabled", False),
        "static-password": mutate(db, "password", "hunter2"),
        "self-managed": mutate(db, "manageMasterUserPassword", None)})
    assert set(found) == {"no-iam", "static-password", "self-managed"}
    assert "iamDatabaseAuthenticationEnabled" in found["no-iam"]
    assert "manageMasterUserPassword" in found["static-password"]


def test_sec_063_rds_force_ssl(db):
    params = sample("prod", RDS_PARAMETER_GROUP, service="orders")
    found = violators(sec_063.RULE, RDS_PARAMETER_GROUP, {
        "ok": params,
        "off": mutate(params, "parameters", [{"name": "rds.force_ssl", "value": "0"}]),
        "missing": mutate(params, "parameters", [{"name": "log_connections", "value": "1"}]),
        "mysql": mutate(mutate(params, "family", "mysql8.0"), "parameters", [])})
    assert set(found) == {"off", "missing"} and "rds.force_ssl" in found["off"]
    found = violators(sec_063.RULE, RDS_INSTANCE, {
        "ok": db, "default-group": mutate(db, "parameterGroupName", "default.postgres17"),
        "no-group": mutate(db, "parameterGroupName", None)})
    assert set(found) == {"default-group", "no-group"}


def test_sec_064_rds_supported_engine(db):
    found = violators(sec_064.RULE, RDS_INSTANCE, {
        "ok": db, "minor": mutate(db, "engineVersion", "16.4"), "old": mutate(db, "engineVersion", "12.22"),
        "unpinned": mutate(db, "engineVersion", None), "mysql": mutate(db, "engine", "mysql")})
    assert set(found) == {"old", "unpinned", "mysql"}
    assert "not 12.22" in found["old"] and "engines postgres" in found["mysql"]


def test_sec_065_dynamodb_pitr_cmk():
    table = sample("prod", DYNAMODB_TABLE, name="inventory-data-table-stock")
    found = violators(sec_065.RULE, DYNAMODB_TABLE, {
        "ok": table, "no-pitr": mutate(table, "pointInTimeRecovery.enabled", False),
        "aws-owned": mutate(table, "serverSideEncryption", None),
        "no-key": mutate(table, "serverSideEncryption.kmsKeyArn", None)})
    assert set(found) == {"no-pitr", "aws-owned", "no-key"}
    assert "point-in-time" in found["no-pitr"] and "kmsKeyArn" in found["no-key"]


def test_sec_066_cache_encryption_auth():
    cache = sample("prod", SERVERLESS_CACHE)
    found = violators(sec_066.RULE, SERVERLESS_CACHE, {
        "ok": cache, "aws-key": mutate(cache, "kmsKeyId", None), "open": mutate(cache, "userGroupId", None)})
    assert set(found) == {"aws-key", "open"} and "userGroupId" in found["open"]


def test_rel_012_backup_retention(db):
    cases = {"ok": db, "short": mutate(db, "backupRetentionPeriod", 3.0), "none": mutate(db, "backupRetentionPeriod", None)}
    found = violators(rel_012.RULE, RDS_INSTANCE, cases, config={"minBackupRetentionDays": 7})
    assert set(found) == {"short", "none"} and "at least 7 days" in found["short"]
    assert not violators(rel_012.RULE, RDS_INSTANCE, {"short": cases["short"]})  # dev's default: 1 day


def test_rel_013_deletion_protection(db):
    cases = {"ok": db, "unprotected": mutate(db, "deletionProtection", False),
             "skip": mutate(db, "skipFinalSnapshot", True), "unnamed": mutate(db, "finalSnapshotIdentifier", None)}
    found = violators(rel_013.RULE, RDS_INSTANCE, cases, config=PROD)
    assert set(found) == {"unprotected", "skip", "unnamed"} and "final snapshot" in found["skip"]
    assert not violators(rel_013.RULE, RDS_INSTANCE, cases)  # not required outside protected stacks


def test_rel_014_multi_az(db):
    cases = {"ok": db, "single": mutate(db, "multiAz", False)}
    assert set(violators(rel_014.RULE, RDS_INSTANCE, cases, config={"requireMultiAz": True})) == {"single"}
    assert not violators(rel_014.RULE, RDS_INSTANCE, cases)


def test_cost_012_instance_class_cap(db):
    config = {"allowedInstanceClasses": ["db.t4g.medium"], "maxStorageGiB": 100}
    found = violators(cost_012.RULE, RDS_INSTANCE, {
        "ok": mutate(db, "maxAllocatedStorage", None), "big": mutate(db, "instanceClass", "db.r7g.4xlarge"),
        "disk": mutate(db, "allocatedStorage", 1000.0)}, config=config)
    assert set(found) == {"big", "disk"} and "not db.r7g.4xlarge" in found["big"]


def test_cost_013_capacity_cap():
    table = sample("prod", DYNAMODB_TABLE, name="inventory-data-table-stock")
    provisioned = mutate(mutate(mutate(table, "billingMode", "PROVISIONED"), "readCapacity", 5.0), "writeCapacity", 5.0)
    gsi = dict(provisioned["globalSecondaryIndexes"][0], readCapacity=500.0, writeCapacity=5.0)
    found = violators(cost_013.RULE, DYNAMODB_TABLE, {
        "on-demand": table, "small": mutate(provisioned, "globalSecondaryIndexes", []),
        "big": mutate(provisioned, "writeCapacity", 5000.0),
        "big-index": mutate(provisioned, "globalSecondaryIndexes", [gsi])})
    assert set(found) == {"big", "big-index"} and "index by-warehouse readCapacity" in found["big-index"]
