"""Prices of the services' datastores (components/data.py): RDS instances and storage,
DynamoDB tables, ElastiCache Serverless caches and node-based replication groups. Same shape as the other pricers of
:mod:`paved.cost.estimate`: each adds ``quantity × unit price`` lines, or a "not priced" note.

DynamoDB on-demand bills per request: the estimate takes the stack's assumed monthly
requests per table (``paved:data.requests``); without them the requests are not priced.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paved.cost.output import quantity_text
from paved.resources import UNKNOWN, items, lookup, number


@dataclass(frozen=True)
class TableRequests:
    """Assumed on-demand requests per table and month, in millions."""

    reads_millions: Decimal
    writes_millions: Decimal


# What the budget rules assume when no stack is at hand: paved:data.requests' defaults.
DEFAULT_TABLE_REQUESTS = TableRequests(Decimal(10), Decimal(2))


def rds_instance(it: Any, prices: Any, lines: list, unpriced: list[str], line: Any) -> None:
    """Instance hours by class (twice for multi-AZ) and gp3 storage. Backups up to the provisioned
    storage are free; beyond it they are usage (rdsBackupStorage in the price file), not estimated."""
    cls, multi = lookup(it.props, "instanceClass"), lookup(it.props, "multiAz")
    if not isinstance(cls, str) or multi is UNKNOWN:
        unpriced.append(f"RDS instance {it.name}: instanceClass or multiAz unknown at preview, not priced")
        return
    az = "MultiAz" if multi is True else ""
    label = " (multi-AZ)" if multi is True else ""
    lines.append(line(f"RDS PostgreSQL 1 x {cls}{label}", it.name, prices.hours_per_month, "h",
                      prices.get(f"rdsInstance{az}.{cls}", f"RDS instance {it.name} class {cls!r}")))
    storage = number(lookup(it.props, "allocatedStorage"))
    if storage is None or storage is UNKNOWN:
        unpriced.append(f"RDS instance {it.name}: allocatedStorage unknown, storage not priced")
    else:
        lines.append(line(f"RDS storage {quantity_text(storage)} GB gp3{label}", it.name, storage, "GB-month",
                          prices.get(f"rdsStorageGp3{az}", f"RDS instance {it.name} storage")))


def dynamodb_table(it: Any, prices: Any, lines: list, unpriced: list[str], line: Any,
                   requests: TableRequests | None) -> None:
    """Provisioned capacity hours (table and indexes), or the assumed on-demand requests."""
    if lookup(it.props, "billingMode") == "PROVISIONED":
        for unit, key, what in (("readCapacity", "dynamodbReadCapacity", "RCU"),
                                ("writeCapacity", "dynamodbWriteCapacity", "WCU")):
            total = Decimal(0)
            for node in [it.props, *items(it.props, "globalSecondaryIndexes")]:
                value = number(lookup(node, unit))
                if isinstance(value, Decimal):
                    total += value
            lines.append(line(f"DynamoDB {quantity_text(total)} {what} provisioned", it.name,
                              total * prices.hours_per_month, f"{what}-h", prices.get(key, f"table {it.name}")))
        return
    if requests is None:
        unpriced.append(f"DynamoDB table {it.name}: on-demand requests not priced (no assumed volume; the stack's "
                        "paved:data.requests gives one)")
        return
    lines.append(line(f"DynamoDB on-demand reads (assumed {quantity_text(requests.reads_millions)} M/month)", it.name,
                      requests.reads_millions, "M requests", prices.get("dynamodbReadRequest", f"table {it.name}")))
    lines.append(line(f"DynamoDB on-demand writes (assumed {quantity_text(requests.writes_millions)} M/month)",
                      it.name, requests.writes_millions, "M requests",
                      prices.get("dynamodbWriteRequest", f"table {it.name}")))


# ElastiCache Serverless bills at least this much data storage per hour, whatever is stored.
MIN_CACHE_STORAGE_GB = {"valkey": Decimal("0.1"), "redis": Decimal(1)}


def serverless_cache(it: Any, prices: Any, lines: list, unpriced: list[str], line: Any) -> None:
    """Data storage at the engine's billed minimum: the floor of the bill. Storage up to the limit
    and ECPUs are usage (docs/data.md lists what is not estimated)."""
    engine = lookup(it.props, "engine")
    if engine not in MIN_CACHE_STORAGE_GB:
        unpriced.append(f"ElastiCache cache {it.name}: engine unknown, not priced")
        return
    price = prices.get(f"elasticacheServerlessStorage.{engine}", f"cache {it.name}")
    floor = MIN_CACHE_STORAGE_GB[engine]
    lines.append(line(f"ElastiCache Serverless {engine} storage, billed minimum {quantity_text(floor)} GB", it.name,
                      floor * prices.hours_per_month, "GB-h", price))


# The price-file group of each engine's node-hours.
NODE_PRICE_GROUPS = {"valkey": "elasticacheNodeValkey", "redis": "elasticacheNodeRedis"}


def replication_group(it: Any, prices: Any, lines: list, unpriced: list[str], line: Any) -> None:
    """Node-hours: every node of the group (primary and replicas) bills its type's hourly rate.
    Backup storage beyond the free allowance and data transfer are usage, not estimated."""
    engine, node_type = lookup(it.props, "engine"), lookup(it.props, "nodeType")
    count = number(lookup(it.props, "numCacheClusters"))
    if engine not in NODE_PRICE_GROUPS or not isinstance(node_type, str) or not isinstance(count, Decimal):
        unpriced.append(f"ElastiCache replication group {it.name}: engine, nodeType or numCacheClusters unknown, "
                        "not priced")
        return
    price = prices.get(f"{NODE_PRICE_GROUPS[engine]}.{node_type}", f"cache {it.name} node type {node_type!r}")
    lines.append(line(f"ElastiCache {engine} {quantity_text(count)} x {node_type}", it.name,
                      count * prices.hours_per_month, "node-h", price))


def table_requests(root: Any, stack: str) -> TableRequests | None:
    """The stack's assumed DynamoDB traffic per table (paved:data.requests), or None without paved:data."""
    from paved.stack import load_stack

    data = load_stack(root, stack).data
    if data is None:
        return None
    return TableRequests(Decimal(str(data.requests.reads_millions)), Decimal(str(data.requests.writes_millions)))
