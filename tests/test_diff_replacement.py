"""The replacement table: one data file, checked against the provider versions it names.

The installed Python SDKs carry no provider schema (only ``pulumi-plugin.json``), so the
table cannot be generated from them; these tests fail when that changes, and when an
installed SDK is newer than the version the table was checked against.
"""

from __future__ import annotations

import json

from paved.diff import replacement


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("+")[0].split("-")[0].split("."))


def test_installed_sdks_are_not_newer_than_the_table():
    installed, checked = replacement.sdk_versions(), replacement.checked_against()
    assert set(installed) == set(checked) == set(replacement.SDKS)
    for sdk, version in installed.items():
        assert _version(version) <= _version(checked[sdk]), (
            f"{sdk} {version} is installed but paved/data/replacement.json was checked against {checked[sdk]}: "
            f"compare the provider's replaceOnChanges / ForceNew properties for every type in the table (and the "
            f"types the program creates), update the table, then set checkedAgainst.{sdk} to {version}")


def test_sdks_ship_no_schema_to_generate_the_table_from():
    # If an SDK starts bundling its provider schema, generate (or check) the table from it.
    assert replacement.bundled_schemas() == []


def test_table_file_is_well_formed():
    doc = json.loads(replacement.TABLE_FILE.read_text())
    assert doc["checkedAgainst"] and doc["about"]
    for token, paths in doc["replaceOnChange"].items():
        assert token.count(":") == 2 and isinstance(paths, list), token
        assert all(isinstance(p, str) and p and " " not in p for p in paths), token
        assert len(set(paths)) == len(paths), f"{token}: a path twice"
    assert list(doc["replaceOnChange"]) == sorted(doc["replaceOnChange"]), "kept sorted, so a type is found once"


def test_kubernetes_names_always_force_replacement():
    assert replacement.replacement_paths("kubernetes:core/v1:ConfigMap")[:2] == ("metadata.name", "metadata.namespace")
    assert "metadata.name" not in replacement.replacement_paths("aws:iam/role:Role")
