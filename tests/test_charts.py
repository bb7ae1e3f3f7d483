"""Chart expansion: every Chart v4's children are what the real helm renders, registered the
way Chart v4 registers them, and every check sees them."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import STACKS, planned
from paved import charts, k8s_schema, plan
from paved.charts import CHART_TYPE
from paved.cli import main
from paved.crd_schema import CrdIndex
from paved.engine import SECRET_SIG, clean


def _children(result, chart_urn):
    return [r for r in result.resources if r.parent == chart_urn and r.custom]


def _unmasked(value):
    """A recorded input with Pulumi's secret wrappers removed (the test compares values)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return _unmasked(value["value"])
        return {k: _unmasked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unmasked(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.fixture(scope="session")
def helm() -> str:
    return charts.find_helm(Path(__file__).resolve().parent.parent)


def _helm_objects(helm: str, rec, result, tmp: Path) -> list[dict]:
    """``helm template`` run here, independently of paved.charts, for one recorded Chart."""
    inputs = _unmasked(rec.inputs)
    values = tmp / f"{rec.name}.yaml"
    values.write_text(yaml.safe_dump(inputs.get("values") or {}))
    archive = Path(os.environ["PAVED_CHART_CACHE"]) / f"{inputs['chart']}-{inputs['version']}.tgz"
    apis = []
    for r in result.resources:
        if r.type == "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition":
            spec = r.inputs["spec"]
            for v in spec["versions"]:
                if v.get("served", True):
                    apis += ["--api-versions", f"{spec['group']}/{v['name']}",
                             "--api-versions", f"{spec['group']}/{v['name']}/{spec['names']['kind']}"]
    out = subprocess.run([helm, "template", inputs.get("name") or rec.name, str(archive), "--namespace", inputs["namespace"],
                          "--kube-version", f"{result.settings.kubernetes_version}.0", "--include-crds", "--no-hooks",
                          "-f", str(values), *apis], check=True, capture_output=True, text=True).stdout
    objs = []
    for doc in yaml.load_all(out, Loader=charts._Loader):
        if doc:
            objs += doc["items"] if isinstance(doc.get("items"), list) else [doc]
    return objs


def _generated_blanked(obj):
    """aws-load-balancer-controller generates its webhook CA and certificate in the template
    (genCA / genSignedCert), so two renders differ there and only there."""
    if isinstance(obj, dict):
        if obj.get("kind") == "Secret" and obj.get("type") == "kubernetes.io/tls":
            obj = {**obj, "data": {k: "<generated>" for k in obj.get("data") or {}}}
        return {k: ("<generated>" if k == "caBundle" else _generated_blanked(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_generated_blanked(v) for v in obj]
    return obj


def _key(obj: dict) -> tuple:
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_children_are_exactly_what_helm_renders(stack, helm, tmp_path):
    result = planned(stack)[1]
    chart_recs = [r for r in result.resources if r.type == CHART_TYPE]
    # ESO, Reloader, kube-prometheus-stack, Jaeger, the collector, the LB controller,
    # metrics-server, Cluster Autoscaler, KEDA, Fluent Bit and Argo Rollouts (orders is a canary).
    assert len(chart_recs) == 11
    for rec in chart_recs:
        expected = _helm_objects(helm, rec, result, tmp_path)
        children = [_unmasked(c.inputs) for c in _children(result, rec.urn)]
        assert len(children) == len(expected), rec.urn
        # Chart v4 fills in the release namespace where a namespaced object has none.
        by_key = {}
        for obj in expected:
            if not obj["metadata"].get("namespace"):
                match = [c for c in children if _key(c)[:2] == _key(obj)[:2] and c["metadata"]["name"] == obj["metadata"]["name"]]
                assert len(match) == 1, (rec.urn, _key(obj))
                if match[0]["metadata"].get("namespace"):
                    assert match[0]["metadata"]["namespace"] == rec.inputs["namespace"], (rec.urn, _key(obj))
                    obj = copy.deepcopy(obj)
                    obj["metadata"]["namespace"] = rec.inputs["namespace"]
            by_key[_key(obj)] = obj
        assert {_key(c): _generated_blanked(c) for c in children} == {k: _generated_blanked(v) for k, v in by_key.items()}, rec.urn


def test_children_are_registered_like_chart_v4():
    result = planned("dev")[1]
    for rec in (r for r in result.resources if r.type == CHART_TYPE):
        kids = _children(result, rec.urn)
        assert kids, rec.urn
        for kid in kids:
            meta = kid.inputs["metadata"]
            name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            assert kid.name == f"{rec.name}:{name}", kid.urn
            group, _, version = kid.inputs["apiVersion"].rpartition("/")
            assert kid.type == f"kubernetes:{group or 'core'}/{version}:{kid.inputs['kind']}", kid.urn
            assert kid.urn == f"urn:pulumi:dev::paved::kubernetes:helm.sh/v4:Chart${kid.type}::{kid.name}"
            assert kid.provider == rec.provider and kid.service is None and kid.team is None, kid.urn
            assert set(kid.options) == {"protect", "retainOnDelete", "ignoreChanges", "aliases", "dependsOn", "version"}
            assert kid.options["version"] == rec.options["version"], kid.urn
        # CRDs and namespaces come before what depends on them, and each names them in dependsOn.
        order = {k.urn: i for i, k in enumerate(kids)}
        for kid in kids:
            assert all(order[d] < order[kid.urn] for d in kid.options["dependsOn"]), kid.urn
        crd_kinds = {k.inputs["spec"]["names"]["kind"]: k.urn for k in kids if k.inputs["kind"] == "CustomResourceDefinition"}
        for kid in kids:
            if kid.inputs["kind"] in crd_kinds:
                assert crd_kinds[kid.inputs["kind"]] in kid.options["dependsOn"], kid.urn


def test_chart_secrets_never_show_their_values():
    doc = planned("dev")[0]
    secrets = [r for r in doc["resources"] if r["type"] == "kubernetes:core/v1:Secret" and r["parent"]
               and "helm.sh/v4:Chart" in r["urn"]]
    assert secrets
    for s in secrets:
        for key in ("data", "stringData"):
            assert all(v == "[secret]" for v in (s["inputs"].get(key) or {}).values()), s["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_schema_checked(stack):
    """Built-in kinds against kubernetes-validate's strict schemas, custom kinds against the
    CRD the plan installs: no chart child is left with only an envelope check."""
    result = planned(stack)[1]
    crds = CrdIndex([clean(r.inputs) for r in result.resources if r.type == plan.CRD_TYPE])
    charts_urns = {r.urn for r in result.resources if r.type == CHART_TYPE}
    kids = [r for r in result.resources if r.parent in charts_urns]
    assert len(kids) > 150
    for kid in kids:
        inputs = clean(kid.inputs, keep_shape=True)
        if crds.knows(inputs):
            assert crds.validate(inputs) == [], kid.urn
        else:
            assert k8s_schema.validate_object(inputs, result.settings.kubernetes_version) == [], kid.urn


def test_a_bad_chart_child_fails_the_plan():
    result = copy.copy(planned("dev")[1])
    result.resources = list(result.resources)
    charts_urns = {r.urn for r in result.resources if r.type == CHART_TYPE}
    for kind, field in (("Deployment", ("spec", "bogus")), ("ServiceMonitor", ("spec", "endpointz"))):
        i = next(i for i, r in enumerate(result.resources) if r.parent in charts_urns and r.inputs["kind"] == kind)
        bad = copy.copy(result.resources[i])
        bad.inputs = copy.deepcopy(bad.inputs)
        bad.inputs[field[0]][field[1]] = 1
        resources = list(result.resources)
        resources[i] = bad
        broken = copy.copy(result)
        broken.resources = resources
        with pytest.raises(plan.ProgramError, match=field[1]):
            plan.check(broken)


def test_missing_archive_is_one_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PAVED_CHART_CACHE", str(tmp_path))
    assert main(["plan", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert "chart external-secrets 2.9.0 is not in the chart cache" in err and str(tmp_path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_helm_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PAVED_HELM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(charts.ChartError, match=r"make tools.*PAVED_HELM"):
        charts.find_helm(tmp_path)


def test_helm_failure_shows_its_stderr(tmp_path, monkeypatch):
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho 'Error: template: boom' >&2\nexit 1\n")
    fake.chmod(0o755)
    spec = charts.spec_of("c", {"chart": "reloader", "version": "2.2.16", "namespace": "r", "values": {"x": 1}},
                          tmp_path, Path(os.environ["PAVED_CHART_CACHE"]))
    with pytest.raises(charts.ChartError, match="Error: template: boom"):
        charts.template(str(fake), spec, "1.35.0", (), tmp_path / "cache")


def test_no_charts_skips_expansion_and_says_so(capsys):
    assert main(["plan", "--stack", "dev", "--no-charts"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("note: chart contents were not checked (--no-charts)")
    assert main(["plan", "--stack", "dev", "--no-charts", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["chartContents"] is False
    assert not [r for r in doc["resources"] if r["parent"] and "$kubernetes:helm.sh/v4:Chart$" in f"${r['urn']}"]
    assert "PAVED_NO_CHARTS" not in os.environ


def test_second_expansion_does_not_call_helm(tmp_path, monkeypatch):
    result = planned("dev")[1]
    rec = next(r for r in result.resources if r.type == CHART_TYPE and r.name.endswith("reloader"))
    monkeypatch.setenv("PAVED_RENDER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(charts, "_renders", {})
    root = Path(__file__).resolve().parent.parent
    before = charts.stats["helm"]
    first = charts.expand([rec], result.settings.kubernetes_version, root)
    assert charts.stats["helm"] - before == 1 and len(first) == 7
    again = charts.expand([rec], result.settings.kubernetes_version, root)  # in-process cache
    monkeypatch.setattr(charts, "_renders", {})
    from_disk = charts.expand([rec], result.settings.kubernetes_version, root)  # on-disk cache
    assert charts.stats["helm"] - before == 1
    assert [r.inputs for r in again] == [r.inputs for r in first] == [r.inputs for r in from_disk]


def test_charts_pull_command_line(tmp_path, monkeypatch, capsys):
    log = tmp_path / "argv.log"
    fake = tmp_path / "helm"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PAVED_HELM", str(fake))
    cache = tmp_path / "cache"
    assert main(["charts", "pull", "--cache", str(cache)]) == 0
    lines = log.read_text().splitlines()
    from components.versions import CHARTS

    assert len(lines) == len(CHARTS)
    assert f"pull external-secrets --repo https://charts.external-secrets.io --version 2.9.0 --destination {cache}" in lines
    assert f"pull oci://public.ecr.aws/karpenter/karpenter --version 1.14.1 --destination {cache}" in lines
    (cache / "reloader-2.2.16.tgz").write_text("")
    log.unlink()
    assert main(["charts", "pull", "--cache", str(cache)]) == 0
    assert not any(" reloader " in f" {line} " for line in log.read_text().splitlines())
    assert "reloader-2.2.16.tgz: already in" in capsys.readouterr().out
