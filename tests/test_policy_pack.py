"""The policy pack as a whole: registry, the pack Pulumi loads, and the framework's contract."""

from __future__ import annotations

import importlib
import re
import runpy
import subprocess
import sys

import pulumi_policy
import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from conftest import ROOT
from policies.framework import Rule, container_check
from paved.resources import UNKNOWN, items, lookup
from policies.registry import CATEGORIES, RULES, validate_registry


def _rule(**changes) -> Rule:
    base = dict(
        id="PAVED-SEC-999", name="example", description="Checks whether an example holds.", severity="low",
        remediation="Do the thing.", anchors=("none",), validate=lambda args, report: None,
    )
    base.update(changes)
    return Rule(**base)


def test_registry_has_rules_of_every_category():
    prefixes = {r.id.rsplit("-", 1)[0] for r in RULES}
    assert prefixes == {"PAVED-SEC", "PAVED-COST", "PAVED-REL", "PAVED-DEP"}


def test_every_rule_folder_is_a_category_and_lists_every_rule_file():
    """A rule file its category does not list, or a category the registry does not name, never runs."""
    folders = {p.parent.name for p in (ROOT / "policies" / "rules").glob("*/__init__.py")}
    assert {c.__name__.rsplit(".", 1)[1] for c in CATEGORIES} == folders
    for category in CATEGORIES:
        folder = ROOT / "policies" / "rules" / category.__name__.rsplit(".", 1)[1]
        stems = sorted(f.stem for f in folder.glob("*.py") if re.match(r"^[a-z]+_\d{3}_", f.stem))
        modules = [importlib.import_module(f"{category.__name__}.{stem}") for stem in stems]
        assert [m.RULE for m in modules] == list(category.RULES), category.__name__
        helpers = [f.name for f in folder.glob("*.py") if f.stem not in stems and f.name != "__init__.py"]
        for helper in helpers:  # shared helpers hold no rule
            assert not hasattr(importlib.import_module(f"{category.__name__}.{helper[:-3]}"), "RULE"), helper


def test_ids_and_names_are_unique():
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)
    assert len({r.policy_name for r in RULES}) == len(RULES)


def test_registry_rejects_duplicates():
    a = _rule()
    with pytest.raises(ValueError, match="duplicate id PAVED-SEC-999"):
        validate_registry((a, _rule(name="other")))
    with pytest.raises(ValueError, match="duplicate name example"):
        validate_registry((a, _rule(id="PAVED-SEC-998")))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "SEC-1"}, "must look like PAVED-SEC-001"),
        ({"name": "Not Kebab"}, "kebab-case"),
        ({"description": "Makes sure"}, "Checks whether"),
        ({"severity": "urgent"}, "severity"),
        ({"validate_stack": lambda a, r: None}, "exactly one"),
        ({"anchors": ()}, "anchors"),
    ],
)
def test_rule_shape_is_enforced(changes, message):
    with pytest.raises(ValueError, match=message):
        _rule(**changes)


def test_every_rule_builds_a_pulumi_policy():
    for rule in RULES:
        policy = rule.policy()
        assert isinstance(policy, ResourceValidationPolicy if rule.validate else StackValidationPolicy), rule.id
        assert policy.name == rule.policy_name
        assert rule.description.startswith("Checks whether "), rule.id


def test_pack_main_builds_the_pack_from_the_registry(monkeypatch):
    """Run policies/__main__.py as Pulumi would, with PolicyPack replaced so no server starts."""
    built = {}

    class FakePack:
        def __init__(self, name, policies, **kwargs):
            built.update(name=name, policies=policies, **kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", FakePack)
    runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="__main__")
    assert built["name"] == "paved"
    assert [p.name for p in built["policies"]] == [r.policy_name for r in RULES]


def test_importing_the_rules_starts_no_policy_server():
    code = "import policies.registry as r; print(len(r.RULES))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == len(RULES)


def test_lookup_turns_unknowns_into_a_value():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    props = unknown_checking_proxy({"a": {"b": UNKNOWN_STRING_VALUE, "c": [1, UNKNOWN_STRING_VALUE]}})
    assert lookup(props, "a.b") is UNKNOWN
    assert lookup(props, "a.missing", "d") == "d"
    assert items(props, "a.c") == [1, UNKNOWN]


def test_container_check_message_form():
    rule = _rule(validate=container_check(lambda c, pod, cfg: "do X" if c.get("name") == "bad" else None))
    from policy_harness import resource_violations

    props = {"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [{"name": "bad"}, {"name": "ok"}]}}}}
    assert resource_violations(rule, "kubernetes:apps/v1:Deployment", props) == ["Deployment web container bad must do X."]
    cron = {"metadata": {"name": "nightly"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"name": "bad"}]}}}}}}
    assert resource_violations(rule, "kubernetes:batch/v1:CronJob", cron) == ["CronJob nightly container bad must do X."]


def test_rule_table_in_docs_is_current():
    from policies.catalog_doc import markdown

    expected = markdown(ROOT / "policies" / "config")
    assert (ROOT / "docs" / "policies.md").read_text() == expected, (
        "docs/policies.md is stale: run `python -m policies.catalog_doc > docs/policies.md`"
    )


def test_metrics_contract_doc_is_current():
    from paved.metrics_contract import markdown

    assert (ROOT / "docs" / "metrics-contract.md").read_text() == markdown()
