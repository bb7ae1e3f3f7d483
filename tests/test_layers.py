"""Layers: an environment as a platform stack plus one stack per team (paved:layout: layered).

The repo's dev stack is planned once in each layout (a copy of the project whose dev stack says
``paved:layout: layered``), and the two are compared the way ``pulumi state move`` would move
state between them: same URN (but the stack), same type, name and inputs.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT, copy_project, planned
from paved import check, layered, migrate, plan
from paved.catalog import load_catalog
from paved.cli import main
from paved.errors import InputError, PavedError
from paved.layers import CONTRACT, PlatformFacts, catalog_digest, deployed_before, split_stack, team_catalog
from paved.stack import list_stacks, load_stack
from policies.registry import RULES


@pytest.fixture(scope="module")
def layered_root(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("layered"))
    for name in ("policies",):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text() + "  paved:layout: layered\n")
    return root


@pytest.fixture(scope="module")
def layered_dev(layered_root):
    doc, result = plan.build("dev", layered_root / "services_catalog.yaml", layered_root)
    return doc, result


def _tail(urn: str) -> str:
    return urn.split("::", 2)[2]


def test_stack_names():
    assert split_stack("prod") == ("prod", None)
    assert split_stack("prod.checkout") == ("prod", "checkout")
    for bad in ("prod.", "prod.a.b"):
        with pytest.raises(PavedError, match="ENV.TEAM"):
            split_stack(bad)
    assert deployed_before("prod", "prod.checkout") and not deployed_before("prod.checkout", "prod")
    assert not deployed_before("dev", "prod.checkout") and not deployed_before("prod", "prod")


def test_an_environment_is_a_platform_stack_then_one_stack_per_team(layered_dev):
    doc, result = layered_dev
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)})
    assert doc["layout"] == "layered" and doc["stack"] == "dev"
    assert [s["name"] for s in doc["stacks"]] == ["dev"] + [f"dev.{t.name}" for t in catalog.teams]
    assert [s["layer"] for s in doc["stacks"]] == ["platform"] + ["team"] * len(catalog.teams)
    for entry in doc["stacks"]:
        mine = [r for r in doc["resources"] if r["stack"] == entry["name"]]
        assert len(mine) == entry["resources"] > 0
        assert all(r["urn"].startswith(f"urn:pulumi:{entry['name']}::paved::") for r in mine)
    services = {r["service"]: r["stack"] for r in doc["resources"] if r["service"]}
    for svc in catalog.services:
        assert services[svc.name] == f"dev.{svc.team}", svc.name  # every service lives in its team's stack
    platform_types = {r["type"] for r in doc["resources"] if r["stack"] == "dev"}
    assert {"aws:eks/cluster:Cluster", "aws:msk/cluster:Cluster", "kubernetes:helm.sh/v4:Chart"} <= platform_types
    assert "kubernetes:apps/v1:Deployment" not in {r["type"] for r in doc["resources"]
                                                    if r["stack"] == "dev" and r["team"]}
    assert result is not None and len(result.resources) == len(doc["resources"])


def test_team_stacks_read_the_platform_contract(layered_dev):
    doc, _ = layered_dev
    platform_outputs = doc["stacks"][0]["outputs"]
    assert set(CONTRACT) <= set(platform_outputs), "the platform stack exports the whole contract"
    refs = [r for r in doc["resources"] if r["type"] == "pulumi:pulumi:StackReference"]
    assert sorted(r["stack"] for r in refs) == sorted(s["name"] for s in doc["stacks"][1:])
    assert {r["inputs"]["name"] for r in refs} == {"dev"}
    # The team stacks' Kubernetes provider talks to the platform's cluster, built from its outputs.
    providers = [r for r in doc["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    configs = {r["stack"]: r["inputs"]["kubeconfig"] for r in providers}
    assert len(set(configs.values())) == 1, "every stack's provider has the same kubeconfig"
    assert platform_outputs["clusterEndpoint"] in configs["dev"]


def test_contract_is_documented():
    text = (ROOT / "docs" / "layers.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert documented == list(CONTRACT), "docs/layers.md lists the contract's outputs in order"


def test_layered_plan_holds_the_single_plan_resource_for_resource(layered_dev):
    """Every resource of today's (single-stack) plan is in exactly one stack of the layered plan,
    with the same type, name and inputs: migrate-layout can move state without replacing anything."""
    single = planned("dev")[0]
    migration = migrate.compute(single, layered_dev[0])
    moved = {u for urns in migration.moved.values() for u in urns}
    assert len(moved) + len(migration.stays) == len(single["resources"]) and not migration.gone
    by_tail = {_tail(r["urn"]): r for r in layered_dev[0]["resources"] if r["stack"] != "dev"}
    for stack, urns in migration.moved.items():
        for urn in urns:
            assert by_tail[_tail(urn)]["stack"] == stack
    # Only the top of each moved tree is named: state move takes the children along.
    parents = {r["urn"]: r.get("parent") for r in single["resources"]}
    for stack, top in migration.moves.items():
        assert set(top) <= set(migration.moved[stack])
        assert not [u for u in top if parents[u] in set(migration.moved[stack])]
    # What only the layered layout has: per team stack its root, providers, the stack reference and the
    # component shells it rebuilds; per team an assume policy (which moves from the single plan).
    for stack, urns in migration.new.items():
        kinds = {u.split("::")[-2].rsplit("$", 1)[-1] for u in urns}
        assert kinds <= {"paved:platform:Platform", "pulumi:providers:aws", "pulumi:providers:kubernetes",
                         "pulumi:pulumi:StackReference", "paved:cluster:EksCluster", "paved:secrets:SecretStore",
                         "paved:kafka:KafkaCluster"}, (stack, kinds)


def test_a_changed_input_is_refused_by_the_migration(layered_dev):
    single = planned("dev")[0]
    changed = json.loads(json.dumps(layered_dev[0]))
    deployment = next(r for r in changed["resources"] if r["type"] == "kubernetes:apps/v1:Deployment")
    deployment["inputs"]["spec"]["replicas"] = 99
    with pytest.raises(migrate.MigrationError, match="inputs differ"):
        migrate.compute(single, changed)


def test_parallel_plans_equal_the_sequential_one(layered_root, layered_dev):
    doc, result = plan.build("dev", layered_root / "services_catalog.yaml", layered_root, jobs=2)
    assert result is None  # made in worker processes
    strip = migrate._comparable
    assert [(_tail(r["urn"]), r["stack"], strip(r["inputs"])) for r in doc["resources"]] == \
        [(_tail(r["urn"]), r["stack"], strip(r["inputs"])) for r in layered_dev[0]["resources"]]


def test_one_team_or_the_platform_alone(layered_root, layered_dev):
    team_doc, _ = plan.build("dev.checkout", layered_root / "services_catalog.yaml", layered_root)
    assert team_doc["stack"] == "dev.checkout" and {r["stack"] for r in team_doc["resources"]} == {"dev.checkout"}
    expected = [r for r in layered_dev[0]["resources"] if r["stack"] == "dev.checkout"]
    assert [r["urn"] for r in team_doc["resources"]] == [r["urn"] for r in expected]
    platform_doc, _ = plan.build("dev", layered_root / "services_catalog.yaml", layered_root, only="platform")
    assert {r["stack"] for r in platform_doc["resources"]} == {"dev"}
    assert not [r for r in platform_doc["resources"] if r["type"] == "kubernetes:apps/v1:Deployment" and r["team"]]


def test_layered_environment_passes_the_checks(layered_dev):
    """Ordering across layers: a team's ExternalSecrets and Ingress come after the platform's
    webhooks because the platform stack deploys first, not through dependsOn."""
    config = check.load_config(ROOT, "dev", RULES)
    mandatory = [v for v in check.run(layered_dev[0], config, RULES) if v.enforcement == "mandatory"]
    assert not mandatory, [f"{v.rule_id} {v.urn}" for v in mandatory]


def test_platform_reads_only_its_facts_and_a_team_only_its_entries():
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)}).for_environment("dev")
    facts = PlatformFacts.of(catalog)
    assert facts.kafka and facts.public
    # A service's own settings do not reach the platform's facts (so its plan can be reused).
    svc = catalog.services[0]
    changed = type(catalog)(file=catalog.file, teams=catalog.teams, environment=catalog.environment,
                            services=(svc.model_copy(update={"port": svc.port + 1}), *catalog.services[1:]))
    assert PlatformFacts.of(changed).digest() == facts.digest()
    own = team_catalog(catalog, svc.team)
    assert {s.team for s in own.services if s.team != svc.team} <= {t.name for t in own.teams}
    assert catalog_digest(team_catalog(changed, svc.team)) != catalog_digest(own)
    other = next(t.name for t in catalog.teams if t.name != svc.team and
                 not {p.name for p in team_catalog(catalog, t.name).services} & {svc.name})
    assert catalog_digest(team_catalog(changed, other)) == catalog_digest(team_catalog(catalog, other))


def test_layout_errors_are_one_line(layered_root, capsys, monkeypatch):
    monkeypatch.setenv("PAVED_ROOT", str(layered_root))
    assert main(["plan", "--stack", "dev", "--team", "nope"]) == 1
    assert "the catalog has no team 'nope'" in capsys.readouterr().err
    assert main(["plan", "--stack", "dev.a.b"]) in (1, 2)
    assert "ENV.TEAM" in capsys.readouterr().err
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))
    assert main(["plan", "--stack", "dev", "--team", "checkout"]) == 1
    assert "paved:layout single" in capsys.readouterr().err
    assert main(["migrate-layout", "--stack", "dev.checkout"]) == 2


def test_team_stack_file_may_set_team_settings_only(layered_root):
    own = layered_root / "stacks" / "Pulumi.dev.checkout.yaml"
    try:
        own.write_text("config:\n  paved:imagePullPolicy: IfNotPresent\n")
        from paved.stack import load_layer_stack

        assert load_layer_stack(layered_root, "dev", "checkout").image_pull_policy == "IfNotPresent"
        assert load_stack(layered_root, "dev").image_pull_policy == "Always"
        assert "dev.checkout" not in list_stacks(layered_root)
        own.write_text("config:\n  paved:clusterName: mine\n")
        with pytest.raises(InputError, match=r"Pulumi.dev.checkout.yaml:2:\d+: paved:clusterName: a team stack may set only"):
            load_layer_stack(layered_root, "dev", "checkout")
    finally:
        own.unlink(missing_ok=True)


def test_migrate_layout_prints_the_state_moves(capsys, monkeypatch):
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))
    assert main(["migrate-layout", "--stack", "dev", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    commands = out["commands"]
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)})
    assert [s["name"] for s in out["stacks"]] == [f"dev.{t.name}" for t in catalog.teams]
    assert commands[0] == "pulumi stack init dev.checkout --no-select"
    assert commands[1].startswith("pulumi state move --source dev --dest dev.checkout --yes 'urn:pulumi:dev::paved::")
    assert "Microservice::orders'" in commands[1] and "Microservice::shipping" not in commands[1]
    assert main(["migrate-layout", "--stack", "dev", "--run"]) == 2  # no Pulumi CLI here
    assert "needs the Pulumi CLI" in capsys.readouterr().err


def test_default_jobs_is_one_per_core():
    assert layered.default_jobs() >= 1


def _layered_repo(tmp_path: Path) -> Path:
    """A git repository of the project whose dev stack is layered, committed once (tag ``base``)."""
    import shutil

    from test_diff import PROJECT, git

    root = tmp_path / "repo"
    root.mkdir()
    for name in PROJECT:
        src = ROOT / name
        (shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__")) if src.is_dir()
         else shutil.copy(src, root / name))
    stack = root / "stacks" / "Pulumi.dev.yaml"
    stack.write_text(stack.read_text() + "  paved:layout: layered\n")
    git(root, "init", "--quiet")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "base")
    git(root, "tag", "base")
    return root


def _change_analytics(root: Path) -> None:
    """analytics' CPU limit, in the working tree: a change to one service of team data."""
    path = root / "services_catalog.yaml"
    text = path.read_text()
    limits = text.index("limits: {cpu: ", text.index("  - name: analytics"))
    path.write_text(text[:limits] + "limits: {cpu: 900m" + text[text.index(",", limits):])


def test_incremental_diff_equals_the_full_one(tmp_path):
    """paved diff of a one-service change in a layered environment plans only the team stacks whose
    input hashes differ, and reports what a full run of every stack reports."""
    from paved import diff
    from paved.diff import render_json

    root = _layered_repo(tmp_path)
    _change_analytics(root)
    incremental = diff.build(root, "dev", "base", root / "services_catalog.yaml")
    full = diff.build(root, "dev", "base", root / "services_catalog.yaml", full=True)
    inc, whole = render_json.as_json(incremental), render_json.as_json(full)
    # Planned: analytics' team only. The teams whose services call it or are called by it hold it
    # as a peer (name, team, port), which a CPU limit does not change (test_peer_entry).
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)}).for_environment("dev")
    touched = [catalog.service("analytics").team]
    assert [t.name for t in catalog.teams if t.name not in touched
            and "analytics" in {s.name for s in team_catalog(catalog, t.name).services}], "analytics has no peer team"
    assert f"incremental: {len(touched)} team stack(s) changed and were planned on both sides ({', '.join(touched)})" \
        in " ".join(inc["notes"]), inc["notes"]
    assert not any(n.startswith("incremental:") for n in whole["notes"])

    def changes(report):  # caBundle: the load balancer chart makes a new CA on every render
        return sorted((g["name"], r["type"], r["name"], r["op"]) for g in report["groups"] for r in g["resources"]
                      if "WebhookConfiguration" not in r["type"])

    assert changes(inc) == changes(whole)
    assert [("analytics", "kubernetes:apps/v1:Deployment", "analytics-deployment", "update")] == \
        [c for c in changes(inc) if c[1] == "kubernetes:apps/v1:Deployment"]
    for key in ("policyIntroduced", "policyFixed", "dataLossRisks", "create", "delete", "replace"):
        assert inc["summary"][key] == whole["summary"][key], key
    assert inc["summary"]["cost"]["delta"] == whole["summary"]["cost"]["delta"]
    assert inc["summary"]["cost"]["podsAtMax"]["delta"] == whole["summary"]["cost"]["podsAtMax"]["delta"]


def test_paved_stacks_lists_the_stacks_and_the_affected_ones(tmp_path, capsys, monkeypatch):
    """What the workflows preview and deploy: every stack, and with --base the ones a change affects."""
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))
    assert main(["stacks", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["stacks"]
    assert [(r["name"], r["layer"]) for r in rows] == [("dev", "single"), ("staging", "single"), ("prod", "single")]
    root = _layered_repo(tmp_path)
    stack = root / "stacks" / "Pulumi.dev.yaml"
    monkeypatch.setenv("PAVED_ROOT", str(root))
    monkeypatch.chdir(root)
    assert main(["stacks", "--stack", "dev", "--base", "HEAD", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["stacks"]
    assert [r["name"] for r in rows][0] == "dev" and not any(r["affected"] for r in rows)
    _change_analytics(root)
    assert main(["stacks", "--stack", "dev", "--layer", "team", "--base", "HEAD", "--affected", "--format", "matrix"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)}).for_environment("dev")
    touched = [f"dev.{catalog.service('analytics').team}"]  # its peers' stacks hold what a CPU limit leaves alone
    assert sorted(m["stack"] for m in matrix["include"]) == touched
    assert all(m["environment"] == "dev" for m in matrix["include"])
    # A change to a platform setting affects the platform stack and every team stack.
    stack.write_text(stack.read_text().replace("paved:kmsDeletionWindowDays: 7", "paved:kmsDeletionWindowDays: 8"))
    assert main(["stacks", "--stack", "dev", "--base", "HEAD", "--affected", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["stacks"]) == 1 + len(catalog.teams)


def test_peer_entry_is_what_a_team_stack_reads_of_another_team():
    """A team stack's catalog holds a service of another team as a peer: name, team, port and its
    calls to the team's own services. A change to anything else of it leaves the team's key
    (catalog_digest) alone; a change to its port reaches the team."""
    from paved.layers import PEER_FIELDS, catalog_digest, peer_entry

    catalog = load_catalog(ROOT / "services_catalog.yaml", {e: None for e in list_stacks(ROOT)}).for_environment("dev")
    analytics = catalog.service("analytics")
    caller_team = next(t.name for t in catalog.teams if t.name != analytics.team
                       and "analytics" in {s.name for s in team_catalog(catalog, t.name).services})
    seen = next(s for s in team_catalog(catalog, caller_team).services if s.name == "analytics")
    assert {f: getattr(seen, f) for f in PEER_FIELDS} == {f: getattr(analytics, f) for f in PEER_FIELDS}
    own = {s.name for s in catalog.services if s.team == caller_team}
    assert set(seen.calls) == set(analytics.calls) & own
    assert seen.image != analytics.image and seen.data is None and not seen.secrets
    assert peer_entry(seen, own) == seen  # a stub of a stub is the stub

    def digest(**change):
        changed = analytics.model_copy(update=change)
        other = replace(catalog, services=tuple(changed if s.name == "analytics" else s for s in catalog.services))
        return catalog_digest(team_catalog(other, caller_team))

    before = catalog_digest(team_catalog(catalog, caller_team))
    assert digest(image=analytics.image + "-next", env={"X": "1"}, description="other") == before
    assert digest(port=analytics.port + 1) != before


def test_a_policy_change_plans_every_stack(tmp_path):
    """The stack keys hold what a plan depends on, not what judges it: when the policy pack or its
    config differs between the sides, the unchanged stacks' violations may differ too, so the
    incremental diff does not apply."""
    from paved.diff import Incremental

    head, base = tmp_path / "head", tmp_path / "base"
    for root in (head, base):
        for name in ("paved", "components", "platform", "policies", "stacks"):
            shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "services_catalog.yaml", root / "services_catalog.yaml")
        stack = root / "stacks" / "Pulumi.dev.yaml"
        stack.write_text(stack.read_text() + "  paved:layout: layered\n")
    incremental = Incremental(head, "dev", head / "services_catalog.yaml", "services_catalog.yaml")
    assert incremental.same_code(base) is not None and not incremental.notes
    config = base / "policies" / "config" / "dev.json"
    config.write_text(config.read_text().replace("{", '{"paved-sec-020-image-digest-pinned": '
                                                 '{"enforcementLevel": "mandatory"}, ', 1))
    assert incremental.same_code(base) is None
    assert incremental.notes == ["the policy pack or its config changed: every stack was planned and checked"]
