"""Catalog `data` blocks and the stacks' paved:data: each error with its file, line and field.

Every bad catalog is tests/catalogs/minimal.yaml with a `data` block added to one service
(and, for the stack checks, a copy of the repo's stacks with paved:data changed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paved.catalog import load_catalog
from paved.errors import InputError
from paved.stack import load_stack
from tests.test_validate import BASE, ROOT, expect, line_of, mutate, validate

ANCHOR = "    calls: [inventory]\n"


def with_data(block: str, text: str = BASE, anchor: str = ANCHOR) -> str:
    """The minimal catalog with ``block`` (indented YAML under orders) after ``anchor``."""
    return mutate(anchor, anchor + block, text)


POSTGRES = "    data:\n      postgres: {instanceClass: db.t4g.micro, storageGb: 20}\n"


def test_a_postgres_block_is_valid_and_gets_defaults(tmp_path, capsys):
    res = validate(tmp_path, capsys, with_data(POSTGRES))
    assert res.rc == 0, res.err
    envs = {e: load_stack(ROOT, e) for e in ("dev", "staging", "prod")}
    catalog = load_catalog(tmp_path / "catalog.yaml", envs)
    pg = catalog.service("orders").data.postgres
    assert (pg.instance_class, pg.storage_gb, pg.engine_version, pg.migrate) == ("db.t4g.micro", 20, "17", None)


def test_per_environment_override_of_the_instance_class(tmp_path, capsys):
    text = with_data(POSTGRES)
    text = mutate("        scaling: {min: 2, max: 6}\n",
                  "        scaling: {min: 2, max: 6}\n        data:\n          postgres: {instanceClass: db.t4g.medium}\n",
                  text)
    res = validate(tmp_path, capsys, text)
    assert res.rc == 0, res.err
    envs = {e: load_stack(ROOT, e) for e in ("dev", "staging", "prod")}
    catalog = load_catalog(tmp_path / "catalog.yaml", envs)
    assert catalog.for_environment("prod").service("orders").data.postgres.instance_class == "db.t4g.medium"
    assert catalog.for_environment("prod").service("orders").data.postgres.storage_gb == 20
    assert catalog.for_environment("dev").service("orders").data.postgres.instance_class == "db.t4g.micro"


def test_an_instance_class_outside_the_stack_caps(tmp_path, capsys):
    text = with_data("    data:\n      postgres: {instanceClass: db.r7g.4xlarge}\n")
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    messages = [m for _, m in res.at("services[orders].data.postgres.instanceClass")]
    assert messages and all("allowedInstanceClasses" in m for m in messages), res.err
    assert any("(in environment dev)" in m for m in messages)
    assert res.at("services[orders].data.postgres.instanceClass")[0][0] == line_of(text, "db.r7g.4xlarge")


@pytest.mark.parametrize(("block", "field", "needle", "message"), [
    ("    data:\n      cache: {engine: memcached}\n", "cache.engine", "memcached", "'valkey' or 'redis'"),
    ("    data:\n      postgres: {instanceClass: db.t4g.micro, storageGb: 5}\n", "postgres.storageGb", "storageGb: 5",
     "greater than or equal to 20"),
    ("    data:\n      postgres: {engineVersion: \"12\"}\n", "postgres.engineVersion", "engineVersion", "pattern"),
    ("    data:\n      postgress: {}\n", "postgress", "postgress", "did you mean 'postgres'"),
], ids=["unknown-engine", "storage-below-minimum", "unsupported-version", "misspelled-field"])
def test_one_bad_data_field(tmp_path, capsys, block, field, needle, message):
    text = with_data(block)
    res = validate(tmp_path, capsys, text)
    expect(res, f"services[orders].data.{field}", line_of(text, needle), message)


def test_an_empty_data_block(tmp_path, capsys):
    text = with_data("    data: {}\n")
    res = validate(tmp_path, capsys, text)
    expect(res, "services[orders].data", line_of(text, "data: {}"), "declares no datastore")


TABLE = "    data:\n      tables:\n        - {name: stock, hashKey: {name: sku}}\n"


def test_two_services_claiming_one_table(tmp_path, capsys):
    text = with_data(TABLE)
    text = with_data(TABLE, text, anchor="      consumes: [order-placed]\n")
    res = validate(tmp_path, capsys, text)
    expect(res, "services[inventory].data.tables[stock].name", line_of(text, "name: stock", last=True),
           "already claimed by service 'orders'")


def test_a_key_attribute_with_two_types(tmp_path, capsys):
    text = with_data("    data:\n      tables:\n        - name: stock\n          hashKey: {name: sku, type: S}\n"
                     "          gsis:\n            - {name: by-sku, hashKey: {name: sku, type: N}}\n")
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    assert any("an attribute has one type" in m for _, m in res.reported and
               [(r.line, r.rest) for r in res.reported]), res.err


def test_provisioned_capacity_above_the_stack_cap(tmp_path, capsys):
    text = with_data("    data:\n      tables:\n        - {name: stock, hashKey: {name: sku}, capacity: {read: 5000, write: 5}}\n")
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    assert any("maxProvisionedCapacity" in r.rest for r in res.reported), res.err


@pytest.mark.parametrize("name", ["PGHOST", "PGPASSWORD", "PAVED_TABLE_STOCK"])
def test_the_data_contract_variables_are_refused_in_env(tmp_path, capsys, name):
    text = mutate("      KEYBOARD_LAYOUT: us", f"      {name}: x")
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    assert any("set by paved itself" in r.rest for r in res.reported), res.err


def test_aws_region_is_refused_only_where_paved_sets_it(tmp_path, capsys):
    text = mutate("      KEYBOARD_LAYOUT: us", "      AWS_REGION: eu-west-1", with_data(TABLE))
    res = validate(tmp_path, capsys, text)
    expect(res, "services[orders].env.AWS_REGION", line_of(text, "AWS_REGION"), "set by paved for a service with datastores")
    assert validate(tmp_path, capsys, mutate("      KEYBOARD_LAYOUT: us", "      AWS_REGION: eu-west-1")).rc == 0


# --- the stack side ----------------------------------------------------------------------------


def _stacks_copy(tmp_path: Path, old: str, new: str, env: str = "dev") -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "stacks", root / "stacks")
    f = root / "stacks" / f"Pulumi.{env}.yaml"
    text = f.read_text()
    assert text.count(old) == 1, old
    f.write_text(text.replace(old, new))
    return root


def test_a_data_block_where_the_stack_forbids_data(tmp_path, capsys, monkeypatch):
    root = _stacks_copy(tmp_path, "    allowed: true\n", "    allowed: false\n")
    (root / "catalog.yaml").write_text(with_data(POSTGRES))
    envs = {e: load_stack(root, e) for e in ("dev", "staging", "prod")}
    with pytest.raises(InputError) as err:
        load_catalog(root / "catalog.yaml", envs)
    text = str(err.value)
    assert "services[orders].data: the service declares datastores, but the stack sets paved:data.allowed: false" in text
    assert "(in environment dev)" in text and "(in environment prod)" not in text
    assert f":{line_of(with_data(POSTGRES), '    data:')}:" in text


def test_prod_keeps_backups_at_least_a_week(tmp_path):
    root = _stacks_copy(tmp_path, "    backupRetentionDays: 14\n", "    backupRetentionDays: 3\n", env="prod")
    with pytest.raises(InputError) as err:
        load_stack(root, "prod")
    assert "backupRetentionDays (3) is below 7" in str(err.value)


def test_prod_requires_multi_az(tmp_path):
    root = _stacks_copy(tmp_path, "    multiAz: true\n", "    multiAz: false\n", env="prod")
    with pytest.raises(InputError) as err:
        load_stack(root, "prod")
    assert "multiAz must be true" in str(err.value)


def test_a_stack_without_paved_data_allows_none(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "stacks", root / "stacks")
    f = root / "stacks" / "Pulumi.staging.yaml"
    text = f.read_text()
    f.write_text(text[:text.index("  paved:data:")])
    (root / "catalog.yaml").write_text(with_data(POSTGRES))
    envs = {e: load_stack(root, e) for e in ("dev", "staging", "prod")}
    with pytest.raises(InputError) as err:
        load_catalog(root / "catalog.yaml", envs)
    assert "the stack sets no paved:data" in str(err.value) and "(in environment staging)" in str(err.value)
