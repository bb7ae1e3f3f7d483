"""The plan document's shape, the text table, render output, and secret masking."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import copy_project, planned
from paved import engine, plan, render


def test_plan_document_shape(stack_plan):
    assert stack_plan["project"] == "paved"
    assert set(stack_plan) >= {"project", "stack", "resources", "outputs"}
    for r in stack_plan["resources"]:
        assert set(r) >= {"urn", "type", "name", "parent", "provider", "service", "team", "inputs", "options"}, r
        assert r["urn"].startswith(f"urn:pulumi:{stack_plan['stack']}::paved::"), r["urn"]
        assert r["urn"].endswith("::" + r["name"]), r["urn"]
        base = {"protect", "retainOnDelete", "ignoreChanges", "aliases", "dependsOn"}
        assert set(r["options"]) in (base, base | {"version"}), r["urn"]


def test_service_and_team_attribution():
    doc = planned("dev")[0]
    charts = {r["urn"] for r in doc["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"}
    platform = [r for r in doc["resources"] if r["type"] == "kubernetes:apps/v1:Deployment" and r["parent"] in charts]
    assert platform and all(r["service"] is None and r["team"] is None for r in platform)  # what charts install
    deployments = {r["service"]: r["team"] for r in doc["resources"]  # orders: its Argo Rollout
                   if r["type"] in ("kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout")
                   and r["parent"] not in charts}
    assert deployments == {
        "orders": "checkout", "payments": "checkout", "inventory": "fulfillment",
        "shipping": "fulfillment", "notifications": "engagement", "analytics": "data",
    }
    ns = {r["inputs"]["metadata"]["name"]: r for r in doc["resources"] if r["type"] == "kubernetes:core/v1:Namespace"}
    assert all(r["team"] == name and r["service"] is None for name, r in ns.items() if name in deployments.values())
    assert ns["external-secrets"]["team"] is None  # a platform operator's namespace
    by_name = {r["name"]: r for r in doc["resources"]}
    # Resources created by platform components on a service's behalf still belong to it.
    assert (by_name["paved-secrets-orders-db-password"]["service"], by_name["paved-secrets-orders-db-password"]["team"]) == ("orders", "checkout")
    assert by_name["paved-kafka-topic-order-placed"]["service"] == "orders"
    assert by_name["payments-identity-role"]["team"] == "checkout"
    provider = next(r for r in doc["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["team"] is None and provider["service"] is None


def test_no_integral_floats_left(stack_plan):
    def walk(v, where):
        if isinstance(v, float):
            assert not v.is_integer(), f"{where}: {v}"
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(x, f"{where}.{k}")
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, f"{where}[{i}]")

    for r in stack_plan["resources"]:
        walk(r["inputs"], r["urn"])


def test_text_table_has_rows_per_service_and_totals():
    doc = planned("dev")[0]
    out = plan.text(doc)
    lines = out.splitlines()
    assert lines[0].startswith("Plan for stack dev")
    assert any(line.startswith("checkout") and " orders " in line for line in lines)
    total = next(line for line in lines if line.startswith("total"))
    n_owned = sum(1 for r in doc["resources"] if r["custom"] and r["team"])
    assert total.split()[-1] == str(n_owned)
    assert "6 services" in total
    n_platform = sum(1 for r in doc["resources"] if r["custom"] and not r["team"])
    assert f"Platform resources (no team): {n_platform}" in out
    assert "eks/Cluster 1" in out and "msk/Cluster 1" in out and "external-secrets 2.9.0" in out


def test_secret_inputs_are_masked_everywhere():
    assert engine.clean({"a": {engine.SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}}) == {"a": "[secret]"}


def test_secret_never_reaches_plan_or_render(tmp_path):
    """A program that passes a Pulumi secret into a resource: the value appears nowhere."""
    root = copy_project(
        tmp_path,
        "import pulumi, pulumi_kubernetes as k8s\n"
        "k8s.core.v1.Secret('s', metadata=k8s.meta.v1.ObjectMetaArgs(name='s', namespace='checkout'),\n"
        "    string_data={'password': pulumi.Output.secret('hunter2-very-secret')})\n"
        "pulumi.export('leak', pulumi.Output.secret('hunter2-very-secret'))\n",
    )
    doc, _ = plan.build("dev", root / "services_catalog.yaml", root)
    text = json.dumps(doc)
    assert "hunter2-very-secret" not in text
    assert "[secret]" in text
    render.write(doc, tmp_path / "out")
    for f in (tmp_path / "out").rglob("*.yaml"):
        assert "hunter2-very-secret" not in f.read_text()


def test_render_writes_schema_valid_manifests(tmp_path):
    doc = planned("prod")[0]
    files = render.write(doc, tmp_path)
    objects = [r for r in doc["resources"] if plan.is_kubernetes_object(r["type"], r["custom"])]
    assert len(files) == len(objects)
    # The real kubernetes-validate command line, strict, at the stack's version.
    exe = Path(sys.executable).with_name("kubernetes-validate")
    proc = subprocess.run([str(exe), "-k", "1.35.0", "--strict", *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deployment = yaml.safe_load((tmp_path / "checkout" / "deployment-payments.yaml").read_text())
    assert deployment["kind"] == "Deployment" and list(deployment)[:3] == ["apiVersion", "kind", "metadata"]
    rollout = yaml.safe_load((tmp_path / "checkout" / "rollout-orders.yaml").read_text())  # orders: Argo Rollouts
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1" and rollout["spec"]["strategy"]["canary"]["steps"]


def test_schema_violation_is_an_error(tmp_path):
    root = copy_project(
        tmp_path,
        "import pulumi_kubernetes as k8s\n"
        "k8s.apps.v1.Deployment('d', metadata={'name': 'd', 'namespace': 'x'},\n"
        "    spec={'selector': {'matchLabels': {'a': 'b'}}, 'replicaz': 2,\n"
        "          'template': {'metadata': {'labels': {'a': 'b'}}, 'spec': {'containers': [{'name': 'c', 'image': 'i:1'}]}}})\n"
    )
    with pytest.raises(engine.ProgramError, match="replicaz"):
        plan.build("dev", root / "services_catalog.yaml", root)


def test_runs_do_not_leak_into_each_other(tmp_path):
    """Regression: set_mocks reused the root stack, so one run's exports showed up in the next."""
    root = copy_project(tmp_path, "import pulumi\npulumi.export('only_here', 1)\n")
    first, _ = plan.build("dev", root / "services_catalog.yaml", root)
    assert first["outputs"] == {"only_here": 1}
    second, _ = plan.build("dev")
    assert "only_here" not in second["outputs"]
    assert len(second["resources"]) == len(planned("dev")[0]["resources"])


SDKS = {"aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes"}


def test_plan_records_the_provider_plugin_version_it_was_checked_against(stack_plan):
    from importlib.metadata import version

    for r in stack_plan["resources"]:
        package = r["type"].split(":")[0] if not r["type"].startswith("pulumi:providers:") else r["type"].split(":")[2]
        if package in SDKS and (r["custom"] or "version" in r["options"]):
            assert r["options"].get("version") == version(SDKS[package]), r["urn"]
        elif package == "paved":
            assert "version" not in r["options"], r["urn"]


def test_provider_sdks_are_pinned_to_the_installed_versions():
    import tomllib
    from importlib.metadata import version

    from conftest import ROOT

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0].strip(): d.split("==")[1].strip() for d in deps if d.startswith("pulumi")}
    assert set(pins) == {"pulumi", "pulumi-kubernetes", "pulumi-aws", "pulumi-policy"}, deps
    for name, pinned in pins.items():
        assert pinned == version(name), f"pyproject.toml pins {name}=={pinned}; {version(name)} is installed"
