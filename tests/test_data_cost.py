"""`paved cost` prices the datastores: RDS hours by class (twice for multi-AZ) and storage,
DynamoDB on-demand at the stack's assumed requests (or provisioned capacity), the cache's
billed minimum storage; usage it cannot know is listed as not priced."""

from __future__ import annotations

from decimal import Decimal

from paved.cost import estimate, table_requests
from paved.cost.datastores import TableRequests
from paved.resources import DYNAMODB_TABLE, RDS_INSTANCE, SERVERLESS_CACHE
from conftest import ROOT

DB = {"instanceClass": "db.t4g.medium", "multiAz": True, "allocatedStorage": 50.0}
TABLE = {"billingMode": "PAY_PER_REQUEST", "hashKey": "sku"}
CACHE = {"engine": "valkey", "cacheUsageLimits": {"dataStorage": {"maximum": 1.0, "unit": "GB"}}}


def lines(est) -> dict[str, Decimal]:
    return {f"{ln.item} [{ln.resource}]": ln.amount for ln in est.infrastructure}


def test_rds_is_priced_by_class_multi_az_and_storage():
    est = estimate([(RDS_INSTANCE, DB, "orders-data-db"),
                    (RDS_INSTANCE, dict(DB, multiAz=False, instanceClass="db.t4g.micro", allocatedStorage=20.0), "b")])
    got = lines(est)
    assert got["RDS PostgreSQL 1 x db.t4g.medium (multi-AZ) [orders-data-db]"] == Decimal("730") * Decimal("0.13")
    assert got["RDS storage 50 GB gp3 (multi-AZ) [orders-data-db]"] == Decimal("50") * Decimal("0.23")
    assert got["RDS PostgreSQL 1 x db.t4g.micro [b]"] == Decimal("730") * Decimal("0.016")
    assert est.unpriced == ()


def test_an_unpriced_class_names_the_price_file():
    import pytest

    from paved.cost import CostError

    with pytest.raises(CostError, match="rdsInstance"):
        estimate([(RDS_INSTANCE, dict(DB, instanceClass="db.x2g.16xlarge"), "big")])


def test_dynamodb_on_demand_at_the_assumed_requests():
    est = estimate([(DYNAMODB_TABLE, TABLE, "t")], table_requests=TableRequests(Decimal(10), Decimal(2)))
    got = lines(est)
    assert got["DynamoDB on-demand reads (assumed 10 M/month) [t]"] == Decimal("1.25")
    assert got["DynamoDB on-demand writes (assumed 2 M/month) [t]"] == Decimal("1.25")
    assert lines(estimate([(DYNAMODB_TABLE, TABLE, "t")])) == got  # the budget rules' default: the stack defaults
    without = estimate([(DYNAMODB_TABLE, TABLE, "t")], table_requests=None)
    assert not without.infrastructure and any("no assumed volume" in u for u in without.unpriced)


def test_dynamodb_provisioned_capacity_includes_indexes():
    table = {"billingMode": "PROVISIONED", "readCapacity": 5.0, "writeCapacity": 2.0,
             "globalSecondaryIndexes": [{"name": "g", "readCapacity": 5.0, "writeCapacity": 2.0}]}
    got = lines(estimate([(DYNAMODB_TABLE, table, "t")]))
    assert got["DynamoDB 10 RCU provisioned [t]"] == Decimal(10) * 730 * Decimal("0.00013")
    assert got["DynamoDB 4 WCU provisioned [t]"] == Decimal(4) * 730 * Decimal("0.00065")


def test_cache_at_its_billed_minimum():
    est = estimate([(SERVERLESS_CACHE, CACHE, "c"), (SERVERLESS_CACHE, dict(CACHE, engine="redis"), "r")])
    assert lines(est)["ElastiCache Serverless valkey storage, billed minimum 0.1 GB [c]"] == Decimal("73") * Decimal("0.084")
    assert lines(est)["ElastiCache Serverless redis storage, billed minimum 1 GB [r]"] == Decimal("730") * Decimal("0.125")


def test_the_stacks_assume_request_volumes():
    assert table_requests(ROOT, "prod") == TableRequests(Decimal(10), Decimal(2))
