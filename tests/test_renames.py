"""formerNames: every resource of a renamed service is aliased to its old logical name."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, copy_project
from paved import plan
from paved.cli import main


def renamed_project(tmp_path: Path, former: str = "orders") -> Path:
    root = copy_project(tmp_path)
    text = (ROOT / "services_catalog.yaml").read_text()
    text = text.replace("  - name: orders\n    team: checkout\n", f"  - name: orders-v2\n    team: checkout\n    formerNames: [{former}]\n")
    text = text.replace("calls: [orders]", "calls: [orders-v2]").replace("calls: [orders, inventory]", "calls: [orders-v2, inventory]")
    (root / "services_catalog.yaml").write_text(text)
    return root


def test_every_resource_of_a_renamed_service_is_aliased(tmp_path):
    root = renamed_project(tmp_path)
    before = {r["name"] for r in plan.build("dev")[0]["resources"] if r["service"] == "orders"}
    after, _ = plan.build("dev", root / "services_catalog.yaml", root)
    mine = [r for r in after["resources"] if r["service"] == "orders-v2"]
    old_names = set()
    for r in mine:
        names = [a["name"] for a in r["options"]["aliases"] if isinstance(a, dict) and "name" in a]
        if r["type"] == "aws:msk/topic:Topic":
            assert names == [], r["urn"]  # topics are named by topic, not by service: nothing to alias
            continue
        assert len(names) == 1, r["urn"]
        assert names[0] == r["name"].replace("orders-v2", "orders"), r["urn"]
        old_names.add(names[0])
    # Every old resource of the service is claimed by exactly one alias: nothing is deleted.
    assert old_names == {n for n in before if "topic" not in n}


def test_former_name_must_not_be_a_current_service(tmp_path, capsys):
    root = renamed_project(tmp_path, former="payments")
    assert main(["validate", "--catalog", str(root / "services_catalog.yaml")]) == 1
    err = capsys.readouterr().err
    assert "services[orders-v2].formerNames[0]" in err and "'payments' is the name of a current service" in err


def _moved(tmp_path: Path, entry: str) -> Path:
    root = copy_project(tmp_path)
    text = (ROOT / "services_catalog.yaml").read_text()
    (root / "services_catalog.yaml").write_text(text.replace("  - name: orders\n    team: checkout\n", entry))
    return root


def test_a_moved_service_files_its_secrets_under_its_first_team(tmp_path):
    root = _moved(tmp_path, "  - name: orders\n    team: fulfillment\n    formerTeams: [checkout]\n")
    doc, _ = plan.build("dev", root / "services_catalog.yaml", root)
    names = {r["inputs"]["name"] for r in doc["resources"] if r["type"] == "aws:secretsmanager/secret:Secret"
             and r["service"] == "orders"}
    assert names == {"dev/checkout/orders/db-password"}
    es = next(r for r in doc["resources"] if r["type"].endswith(":ExternalSecret") and r["service"] == "orders")
    assert es["inputs"]["metadata"]["namespace"] == "fulfillment"
    assert es["inputs"]["spec"]["data"][0]["remoteRef"]["key"] == "dev/checkout/orders/db-password"


@pytest.mark.parametrize(("entry", "message"), [
    ("  - name: orders\n    team: checkout\n    formerTeams: [checkout]\n", "'checkout' is the service's current team"),
    ("  - name: orders\n    team: fulfillment\n    formerTeams: [checkout, checkout]\n", "team 'checkout' is listed twice"),
    ("  - name: orders\n    team: fulfillment\n    formerTeams: [Checkout]\n", "formerTeams[0]"),
])
def test_former_teams_are_validated(tmp_path, capsys, entry, message):
    root = _moved(tmp_path, entry)
    assert main(["validate", "--catalog", str(root / "services_catalog.yaml")]) == 1
    err = capsys.readouterr().err
    assert "services[orders].formerTeams" in err and message in err and "Traceback" not in err
    assert "services_catalog.yaml:" in err  # file and line
