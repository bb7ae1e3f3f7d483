"""`paved diff` flags a replaced datastore as data loss (the replace-forcing inputs of
paved/data/replacement.json for rds, dynamodb and elasticache)."""

from __future__ import annotations

import argparse
import json

from paved import diff
from test_diff import edit_catalog, git, repo  # noqa: F401 - `repo` is the fixture


def test_changing_a_table_hash_key_replaces_it_with_data_loss(repo, capsys):  # noqa: F811
    edit_catalog(repo, "hashKey: {name: sku, type: S}", "hashKey: {name: productId, type: S}")
    git(repo, "commit", "--quiet", "-am", "new partition key")
    args = argparse.Namespace(stack="prod", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 1
    captured = capsys.readouterr()
    assert "refusing (--fail-on-destroy)" in captured.err
    risks = {r["name"]: r for r in json.loads(captured.out)["dataLossRisks"]}
    table = risks["inventory-data-table-stock"]
    assert table["op"] == "replace" and table["dataLoss"]["stateful"] and table["dataLoss"]["protected"]
    args.format, args.fail_on_destroy = "text", False
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 0
    out = capsys.readouterr().out
    assert "DATA-LOSS RISK" in out and "loses the data it holds" in out


def test_a_bigger_instance_class_is_an_update_in_place(repo, capsys):  # noqa: F811
    # An instance class change is ModifyDBInstance, not a new database.
    edit_catalog(repo, "postgres: {instanceClass: db.t4g.medium, storageGb: 50, maxStorageGb: 200}",
                 "postgres: {instanceClass: db.m7g.large, storageGb: 50, maxStorageGb: 200}")
    git(repo, "commit", "--quiet", "-am", "bigger orders database")
    args = argparse.Namespace(stack="prod", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 0
    doc = json.loads(capsys.readouterr().out)
    ops = {r["name"]: r["op"] for g in doc["groups"] for r in g["resources"]}
    assert ops["orders-data-db"] == "update" and not doc["dataLossRisks"]


def test_renaming_the_database_identifier_is_data_loss(repo, capsys):  # noqa: F811
    # The identifier is paved-<env>-<service>: changing how it is built replaces every database.
    path = repo / "paved" / "naming.py"
    text = path.read_text()
    path.write_text(text.replace('return f"paved-{environment}-{service}"', 'return f"shop-{environment}-{service}"'))
    git(repo, "commit", "--quiet", "-am", "new identifiers")
    args = argparse.Namespace(stack="dev", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, repo / "services_catalog.yaml") == 1
    risks = {r["name"]: r for r in json.loads(capsys.readouterr().out)["dataLossRisks"]}
    assert risks["orders-data-db"]["op"] == "replace" and risks["orders-data-db"]["dataLoss"]["stateful"]
    assert "replacing a rds/Instance loses the data it holds" in risks["orders-data-db"]["dataLoss"]["message"]
