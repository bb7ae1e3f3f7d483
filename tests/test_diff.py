"""``paved diff``: one git repository per test, one change per scenario, every format.

Each test copies the project into a fresh repository and commits it with a fixed author
and date, so every test's base is the same commit and its plan (made in a worktree, by a
subprocess running the base's own code) is computed once per stack for the whole module.
The change is then made in the working tree, as a developer would before opening a pull
request.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from paved import diff
from paved.diff import render_json, render_markdown, render_text
from paved.diff.replacement import REPLACE_ON_CHANGE, replace_reasons
from paved.diff.report import OPS, Report
from paved.errors import PavedError, UsageError

PROJECT = ("Pulumi.yaml", "services_catalog.yaml", "platform", "components", "paved", "policies", "stacks", "schemas",
           "sample_services")
FIXED = {"GIT_AUTHOR_NAME": "paved", "GIT_AUTHOR_EMAIL": "paved@example.com", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
         "GIT_COMMITTER_NAME": "paved", "GIT_COMMITTER_EMAIL": "paved@example.com", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **FIXED}
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=repo,
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding the project, committed once (tag ``base``)."""
    root = tmp_path / "repo"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=ignore)
        else:
            shutil.copy(src, root / name)
    git(root, "init", "--quiet")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "base")
    git(root, "tag", "base")
    return root


def edit_catalog(root: Path, old: str, new: str, count: int = 1) -> None:
    path = root / "services_catalog.yaml"
    text = path.read_text()
    assert text.count(old) >= count, f"{old!r} is not in the catalog"
    path.write_text(text.replace(old, new, count))


def report_for(root: Path, stack: str = "dev", base: str = "base") -> Report:
    return diff.build(root, stack, base, root / "services_catalog.yaml")


def ops(report: Report, group: str | None = None) -> dict[tuple[str, str], str]:
    """{(short type, name): op} of one service's group (all groups when None)."""
    return {(r["type"].rsplit(":", 1)[-1], r["name"]): r["op"] + ("+renamed" if r["renamed"] else "")
            for g in render_json.as_json(report)["groups"] if group is None or g["name"] == group for r in g["resources"]}


def group(report: Report, name: str) -> dict:
    found = [g for g in render_json.as_json(report)["groups"] if g["name"] == name]
    assert found, f"no group {name}: {[g['name'] for g in render_json.as_json(report)['groups']]}"
    return found[0]


def all_formats(report: Report) -> tuple[str, str, dict]:
    """(text, markdown, JSON round-tripped through a string) of one report."""
    md = render_markdown.markdown(report)
    assert len(md) <= render_markdown.COMMENT_LIMIT
    return render_text.text(report), md, json.loads(json.dumps(render_json.as_json(report)))


# --- scenarios ----------------------------------------------------------------------------

REVIEWS = """
  - name: reviews
    team: engagement
    description: Stores and serves product reviews.
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/reviews:1.0.0
    port: 8080
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: 200m, memory: 256Mi}
    scaling: {min: 2, max: 4}
    overrides:
      dev: {scaling: {min: 1, max: 2}}
"""


def test_adding_a_service_creates_its_resources_and_nothing_else(repo):
    (repo / "services_catalog.yaml").write_text((repo / "services_catalog.yaml").read_text() + REVIEWS)
    report = report_for(repo)
    text, md, data = all_formats(report)

    mine = ops(report, "reviews")
    assert {op for op in mine.values()} == {"create"}, mine
    assert {("Deployment", "reviews-deployment"), ("Service", "reviews-service"),
            ("HorizontalPodAutoscaler", "reviews-hpa")} <= set(mine)
    others = {k: v for k, v in ops(report).items() if k not in mine}
    assert others == {}, others
    assert data["summary"]["delete"] == 0 and data["summary"]["replace"] == 0 and data["summary"]["dataLossRisks"] == 0
    assert group(report, "reviews")["status"] == "created"
    assert "reviews (team engagement): new" in text and "+  create  Deployment reviews-deployment" in text
    assert "<b>reviews</b>" in md and "| **reviews** | engagement |" in md and "new" in md
    # Its pods claim node capacity; the AWS bill is unchanged until the nodes grow, but for the
    # log lines its one dev pod ships to CloudWatch Logs (dev assumes 0.2 GiB a month):
    # 0.2147 GB x $0.50 ingestion + 0.2147 GB x 7/30.4167 x $0.03 storage.
    cost = data["summary"]["cost"]
    assert cost["delta"] == pytest.approx(0.11) and cost["podsAtMax"]["delta"] > 0 and cost["currency"] == "USD"
    assert "pod requests at max replicas" in text


def test_changing_scaling_updates_only_the_autoscaler(repo):
    # orders in dev: {min: 1, max: 2} -> {min: 1, max: 3}
    edit_catalog(repo, "      dev:\n        scaling: {min: 1, max: 2}\n        env: {LOG_LEVEL: debug}",
                 "      dev:\n        scaling: {min: 1, max: 3}\n        env: {LOG_LEVEL: debug}")
    report = report_for(repo)
    text, md, data = all_formats(report)

    assert ops(report) == {("HorizontalPodAutoscaler", "orders-hpa"): "update"}
    (hpa,) = group(report, "orders")["resources"]
    assert [(c["path"], c["before"], c["after"]) for c in hpa["changes"]] == [("spec.maxReplicas", 2, 3)]
    assert "spec.maxReplicas: 2 → 3" in text
    assert "<code>spec.maxReplicas</code>: <code>2</code> → <code>3</code>" in md
    assert data["summary"] == {**data["summary"], "create": 0, "update": 1, "replace": 0, "delete": 0}


def test_changing_the_image_rolls_the_deployment_in_place(repo):
    edit_catalog(repo, "shop/inventory:0.14.1", "shop/inventory:0.15.0")
    report = report_for(repo)
    text, md, data = all_formats(report)

    # The version label is on the pod template only, so the Deployment is the one object that
    # changes (its selector leaves the version out: no replacement).
    assert ops(report) == {("Deployment", "inventory-deployment"): "update"}
    deployment = next(r for r in group(report, "inventory")["resources"] if r["name"] == "inventory-deployment")
    paths = {c["path"]: (c["before"], c["after"]) for c in deployment["changes"]}
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/inventory"
    assert paths["spec.template.spec.containers[name=inventory].image"] == (f"{image}:0.14.1", f"{image}:0.15.0")
    assert not deployment["replaceReasons"] and not any(c["forcesReplacement"] for c in deployment["changes"])
    assert 'spec.template.spec.containers[name=inventory].image: "1234' in text and 'inventory:0.14.1" → "' in text
    assert 'inventory:0.15.0"' in text and "~ update" in md and 'inventory:0.15.0"' in md
    assert not report.hints  # a plain rolling update: nothing to explain


def test_changing_the_image_of_a_canary_service_says_it_starts_a_canary(repo):
    edit_catalog(repo, "shop/orders:1.8.2", "shop/orders:1.9.0")
    report = report_for(repo)
    text, md, data = all_formats(report)

    # orders has `rollout: {strategy: canary}`: its Rollout is updated in place, nothing else.
    # orders declares a migration: the new image also gets its own migration Job (docs/data.md).
    assert ops(report) == {("Rollout", "orders-rollout"): "update", ("Job", "orders-migrate"): "replace"}
    ro = next(r for r in group(report, "orders")["resources"] if r["name"] == "orders-rollout")
    assert not ro["replaceReasons"]
    (hint,) = data["hints"]
    assert hint.startswith("service orders (team checkout): the pod template of Rollout orders-rollout changes (image ")
    assert "orders:1.8.2 → 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.9.0)" in hint
    assert "starts a canary: 20% of the pods, pause 5m, 50% of the pods, pause 5m, then all pods" in hint
    assert "AnalysisTemplate orders-slo checks the SLO in Prometheus" in hint and "aborts the release" in hint
    assert "starts a canary" in text and "starts a canary" in md


def rename_orders(root: Path, former: bool) -> None:
    header = "  - name: orders-v2\n    team: checkout\n" + ("    formerNames: [orders]\n" if former else "")
    edit_catalog(root, "  - name: orders\n    team: checkout\n", header)
    edit_catalog(root, "calls: [orders]", "calls: [orders-v2]")
    edit_catalog(root, "calls: [orders, inventory]", "calls: [orders-v2, inventory]")


def test_rename_with_former_names_keeps_every_resource(repo):
    rename_orders(repo, former=True)
    report = report_for(repo)
    text, md, data = all_formats(report)

    g = group(report, "orders-v2")
    assert g["status"] == "renamed" and g["formerName"] == "orders"
    assert g["counts"]["create"] == 0 and g["counts"]["delete"] == 0
    assert "orders" not in [x["name"] for x in data["groups"]]  # nothing left behind under the old name
    resources = {r["name"]: r for r in g["resources"]}
    # Kubernetes object names are immutable: renamed, and replaced.
    deployment = resources["orders-v2-rollout"]  # orders is released by Argo Rollouts
    assert deployment["op"] == "replace" and deployment["renamed"] and deployment["oldName"] == "orders-rollout"
    assert "metadata.name" in deployment["replaceReasons"]
    # The IAM role keeps its AWS name (auto-named from its first logical name): an update.
    role = resources["orders-v2-identity-role"]
    assert role["op"] == "update" and role["renamed"] and not role["replaceReasons"]
    # ... so its policy, which names the role, is not replaced either.
    policy = resources["orders-v2-identity-policy"]
    assert policy["op"] == "update" and all(c["path"].startswith("policy#") for c in policy["changes"]), policy["changes"]
    # The secret stays filed under the service's first name (paved.naming.secret_owner): kept, not replaced.
    secret = resources["paved-secrets-orders-v2-db-password"]
    assert secret["op"] == "update" and secret["renamed"] and not secret["replaceReasons"] and not secret["dataLoss"]
    assert all(r["renamed"] for r in g["resources"] if r["type"] != "aws:msk/topic:Topic")
    assert "orders-v2 (team checkout): renamed from orders" in text
    assert "(renamed from orders-rollout)" in text and "replaced because metadata.name" in text
    assert "renamed from <code>orders</code>" in md and "← <code>orders-rollout</code>" in md
    assert not report.hints


def test_rename_without_former_names_deletes_and_recreates(repo):
    rename_orders(repo, former=False)
    report = report_for(repo)
    text, md, data = all_formats(report)

    old, new = group(report, "orders"), group(report, "orders-v2")
    assert old["status"] == "deleted" and {r["op"] for r in old["resources"]} == {"delete"}
    assert new["status"] == "created" and {r["op"] for r in new["resources"]} == {"create"}
    assert not any(r["renamed"] for g in data["groups"] for r in g["resources"])
    assert any("formerNames: [orders]" in h for h in data["hints"])
    assert "orders (team checkout): removed" in text and "formerNames: [orders]" in text
    assert "[!TIP]" in md


def test_removing_a_service_in_prod_is_refused_by_fail_on_destroy(repo, capsys):
    catalog = repo / "services_catalog.yaml"
    text = catalog.read_text()
    start = text.index("  - name: notifications\n")
    end = text.index("  - name: analytics\n")
    catalog.write_text(text[:start] + text[end:])
    git(repo, "commit", "--quiet", "-am", "remove notifications")

    args = argparse.Namespace(stack="prod", base="HEAD~1", format="json", output=None, fail_on_destroy=True)
    assert diff.run(args, repo, catalog) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "refusing (--fail-on-destroy)" in captured.err and "secretsmanager/Secret" in captured.err
    g = [x for x in data["groups"] if x["name"] == "notifications"][0]
    assert g["status"] == "deleted" and {r["op"] for r in g["resources"]} == {"delete"}
    risks = {r["name"]: r["dataLoss"] for r in data["dataLossRisks"]}
    secret = risks["paved-secrets-notifications-smtp-password"]
    assert secret["stateful"] and secret["protected"] and "pulumi up" in secret["message"]

    args.format, args.fail_on_destroy = "markdown", False
    assert diff.run(args, repo, catalog) == 0
    md = capsys.readouterr().out
    assert "[!CAUTION]" in md and "paved-secrets-notifications-smtp-password" in md
    args.format = "text"
    assert diff.run(args, repo, catalog) == 0
    out = capsys.readouterr().out
    assert "notifications (team engagement): removed" in out and "DATA-LOSS RISK" in out

    # The same change in dev deletes unprotected resources, still with data at risk (the secret).
    args.stack, args.format, args.fail_on_destroy = "dev", "json", True
    assert diff.run(args, repo, catalog) == 1
    dev = json.loads(capsys.readouterr().out)
    assert all(not r["dataLoss"]["protected"] for r in dev["dataLossRisks"])


def test_changing_topic_partitions_updates_the_topic(repo):
    edit_catalog(repo, "{name: order-placed, partitions: 6}", "{name: order-placed, partitions: 12}")
    report = report_for(repo)
    text, md, data = all_formats(report)

    assert ops(report) == {("Topic", "paved-kafka-topic-order-placed"): "update"}
    (topic,) = group(report, "orders")["resources"]
    assert [(c["path"], c["before"], c["after"]) for c in topic["changes"]] == [("partitionCount", 6, 12)]
    assert not topic["replaceReasons"] and not topic["warnings"]
    assert "partitionCount: 6 → 12" in text and "msk/Topic" in md

    # Fewer partitions is not something Kafka can do: reported as a change that fails.
    edit_catalog(repo, "{name: order-placed, partitions: 12}", "{name: order-placed, partitions: 3}")
    fewer = report_for(repo)
    assert fewer.warnings and "Kafka cannot remove partitions (6 → 3)" in fewer.warnings[0]
    assert "WARNING" in render_text.text(fewer) and "[!WARNING]" in render_markdown.markdown(fewer)
    assert json.loads(json.dumps(render_json.as_json(fewer)))["summary"]["warnings"] == 1


def test_a_stack_the_base_does_not_have_is_all_new(repo):
    (repo / "stacks" / "Pulumi.qa.yaml").write_text((repo / "stacks" / "Pulumi.dev.yaml").read_text()
                                                   .replace("paved:environment: dev", "paved:environment: qa"))
    shutil.copy(repo / "policies" / "config" / "dev.json", repo / "policies" / "config" / "qa.json")
    report = report_for(repo, "qa")
    data = render_json.as_json(report)
    assert data["summary"]["create"] > 100 and data["summary"]["unchanged"] == 0
    assert "stack qa does not exist at the base: every resource is new" in data["notes"]


# --- errors -------------------------------------------------------------------------------


def test_bad_ref_is_a_usage_error(repo):
    with pytest.raises(UsageError, match="--base no-such-branch: no such commit, branch or tag"):
        report_for(repo, base="no-such-branch")


def test_base_that_does_not_plan_is_an_error_with_its_output(repo):
    edit_catalog(repo, "port: 8080", "port: 80800")
    git(repo, "commit", "--quiet", "-am", "broken")
    edit_catalog(repo, "port: 80800", "port: 8080")
    with pytest.raises(PavedError, match=r"--base HEAD \(\w+\) does not plan for stack dev") as err:
        report_for(repo, base="HEAD")
    line = (repo / "services_catalog.yaml").read_text().splitlines().index("    port: 8080") + 1
    assert f"services_catalog.yaml:{line}:5: services[orders].port" in str(err.value)  # the base's own message
    assert not git(repo, "worktree", "list").count("\n")  # the temporary worktree is gone


def test_base_without_paved_and_dirty_base_are_errors(repo):
    git(repo, "rm", "-r", "--quiet", "paved")
    git(repo, "commit", "--quiet", "-m", "no paved")
    with pytest.raises(PavedError, match="cannot be planned by paved diff: the base has no importable paved package"):
        report_for(repo, base="HEAD")
    git(repo, "reset", "--quiet", "--hard", "base")

    # A file committed with CRLF under `text=auto` differs from the commit once checked out.
    (repo / "notes.txt").write_bytes(b"one\r\ntwo\r\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "--quiet", "-m", "crlf")
    (repo / ".gitattributes").write_text("* text=auto\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "--quiet", "-m", "attributes")
    with pytest.raises(PavedError, match=r"--base HEAD \(\w+\) is dirty once checked out"):
        report_for(repo, base="HEAD")


# --- pure parts ---------------------------------------------------------------------------


def test_replacement_table_classifies_every_aws_type_the_program_creates():
    # A new AWS type must be looked up in the provider and entered in the table (even as ()).
    from conftest import planned

    for stack in ("dev", "prod"):
        for r in planned(stack)[0]["resources"]:
            if r.get("custom", True) and r["type"].startswith("aws:"):
                assert r["type"] in REPLACE_ON_CHANGE, r["urn"]


def test_conditional_rules_and_kubernetes_immutables():
    service = "kubernetes:core/v1:Service"
    assert replace_reasons(service, {"spec": {"clusterIP": "None"}}, {"spec": {}})[0] == ["spec.clusterIP"]
    assert replace_reasons(service, {"metadata": {"namespace": "a"}}, {"metadata": {"namespace": "b"}})[0] == [
        "metadata.namespace"]
    assert replace_reasons("kubernetes:apps/v1:Deployment", {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
                           {"spec": {"selector": {"matchLabels": {"a": "2"}}}})[0] == ["spec.selector"]
    assert replace_reasons("kubernetes:policy/v1:PodDisruptionBudget", {"spec": {"minAvailable": 1}},
                           {"spec": {"minAvailable": 2}})[0] == []
    reasons, findings = replace_reasons("aws:msk/cluster:Cluster", {"kafkaVersion": "3.6.0"}, {"kafkaVersion": "3.5.1"})
    assert reasons == ["kafkaVersion"]
    assert replace_reasons("aws:msk/cluster:Cluster", {"kafkaVersion": "3.6.0"}, {"kafkaVersion": "3.7.0"})[0] == []
    assert replace_reasons("aws:eks/cluster:Cluster", {"vpcConfig": {"subnetIds": ["a"]}},
                           {"vpcConfig": {"subnetIds": ["b"]}})[0] == []  # updatable in place


def test_markdown_is_cut_to_the_limit_with_a_note(repo):
    rename_orders(repo, former=True)
    report = report_for(repo)
    full = render_markdown.markdown(report)
    short = render_markdown.markdown(report, limit=4000)
    assert len(full) > 4000 >= len(short)
    assert "Cut to fit a GitHub comment (4,000 characters)" in short
    assert short.startswith("## paved diff: `dev`") and short.count("<details") == short.count("</details>")


def test_command_line(repo, monkeypatch, capsys):
    from paved import cli

    if "diff" not in cli.COMMANDS:
        pytest.skip("paved diff is not wired into paved.cli yet")
    import policies.registry  # noqa: F401  # imported before the chdir: `python -m pytest` imports from the cwd

    monkeypatch.setenv("PAVED_ROOT", str(repo))
    monkeypatch.chdir(repo)
    assert cli.main(["diff", "--stack", "dev", "--base", "no-such-ref"]) == 2
    assert "paved: error: --base no-such-ref: no such commit" in capsys.readouterr().err
    assert cli.main(["diff", "--stack", "dev", "--base", "base", "--format", "json", "--fail-on-destroy"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["unchanged"] > 0 and not any(data["summary"][op] for op in OPS)
    assert cli.main(["diff", "--stack", "dev", "--base", "base", "--format", "markdown", "--output", "d.md"]) == 0
    assert "No changes." in (repo / "d.md").read_text()


# --- what the issue "review you can trust" is done with --------------------------------

VERSION_LABEL = '["app.kubernetes.io/version"]'


def test_removing_a_secret_is_a_few_changes_on_the_deployment_and_the_policy(repo):
    edit_catalog(repo, "      - {name: provider-api-key, rotation: third-party, description: API key issued by the payment "
                       "provider.}\n", "")
    report = report_for(repo)
    text, md, data = all_formats(report)
    resources = {r["name"]: r for r in group(report, "payments")["resources"]}
    deployment, policy = resources["payments-deployment"], resources["payments-identity-policy"]
    pod = "spec.template.spec"
    paths = [c["path"] for c in deployment["changes"]]
    assert len(paths) <= 3, paths
    assert f"{pod}.containers[name=payments].env[name=PROVIDER_API_KEY_FILE]" in paths
    assert f"{pod}.volumes[name=secrets].secret.items[0]" in paths
    assert not any("KAFKA" in p for p in paths)  # nothing after it looks renamed
    assert [c["path"] for c in policy["changes"]] == ["policy#Statement[Sid=ReadOwnSecrets].Resource[1]"]
    assert policy["changes"][0]["kind"] == "removed" and "provider-api-key" in policy["changes"][0]["before"]
    assert "env[name=PROVIDER_API_KEY_FILE]: - " in text


def _image_bump(repo: Path) -> tuple[Report, dict]:
    edit_catalog(repo, "shop/payments:2.3.0", "shop/payments:2.4.0")
    report = report_for(repo)
    return report, all_formats(report)[2]


def test_an_image_bump_rolls_the_pods_and_relabels_only_them(repo):
    report, data = _image_bump(repo)
    changed = {r["name"]: r for g in data["groups"] for r in g["resources"]}
    paths = [c["path"] for c in changed["payments-deployment"]["changes"]]
    assert "spec.template.spec.containers[name=payments].image" in paths
    # The version label lives on the pod template only: no other object of the service changes.
    assert f"spec.template.metadata.labels{VERSION_LABEL}" in paths and f"metadata.labels{VERSION_LABEL}" not in paths
    assert "2.4.0" in render_markdown.markdown(report) and "2.4.0" in render_text.text(report)


def test_an_image_bump_changes_only_the_deployment(repo):
    # ... and its migration Job: payments declares one, so the new image gets its own (docs/data.md).
    _, data = _image_bump(repo)
    assert [r["name"] for g in data["groups"] for r in g["resources"]] == ["payments-migrate", "payments-deployment"]


# --- moving a service to another team -------------------------------------------------------


def move_orders(root: Path, former_teams: bool) -> None:
    extra = "    formerTeams: [checkout]\n" if former_teams else ""
    edit_catalog(root, "  - name: orders\n    team: checkout\n", f"  - name: orders\n    team: fulfillment\n{extra}")


def test_moving_a_service_with_former_teams_keeps_its_secret(repo):
    """The team is part of a secret's name: formerTeams keeps the name, so the secret (and its value)
    is updated in place (its tags), never replaced."""
    move_orders(repo, former_teams=True)
    data = render_json.as_json(report_for(repo))
    resources = {r["name"]: r for g in data["groups"] for r in g["resources"]}
    secret = resources["paved-secrets-orders-db-password"]
    assert secret["op"] == "update" and not secret["replaceReasons"] and not secret["dataLoss"], secret
    assert {c["path"].split(".")[0] for c in secret["changes"]} == {"tags"}
    assert "paved-secrets-orders-db-password-rotation" not in resources  # unchanged
    assert not any(r["op"] == "replace" and r["type"].startswith("aws:secretsmanager") for r in resources.values())
    assert data["summary"]["dataLossRisks"] == 0


def test_moving_a_service_without_former_teams_replaces_its_secret(repo):
    move_orders(repo, former_teams=False)
    data = render_json.as_json(report_for(repo))
    secret = next(r for g in data["groups"] for r in g["resources"] if r["name"] == "paved-secrets-orders-db-password")
    assert secret["op"] == "replace" and "name" in secret["replaceReasons"] and secret["dataLoss"]
