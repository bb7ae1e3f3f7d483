"""The plan documents of dev, staging and prod are exactly the committed snapshots.

A refactoring must not change what the program registers: this test fails on any byte of
difference in `paved plan --format json`. A change that is meant to alter the plan updates
the snapshots on purpose, and the pull request then shows the change in review:

    PAVED_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_plan_snapshot.py
"""

from __future__ import annotations

import gzip
import json
import os

import pytest

from conftest import ROOT, STACKS

SNAPSHOTS = ROOT / "tests" / "snapshots" / "plans"


def _first_difference(old: dict, new: dict) -> str:
    if old.keys() != new.keys():
        return f"top-level keys {sorted(old)} != {sorted(new)}"
    before = {r["urn"]: r for r in old["resources"]}
    after = {r["urn"]: r for r in new["resources"]}
    if before.keys() != after.keys():
        gone, added = sorted(before.keys() - after.keys()), sorted(after.keys() - before.keys())
        return f"resources removed: {gone[:5]}; added: {added[:5]}"
    for urn, resource in after.items():
        if resource != before[urn]:
            return f"resource {urn} changed"
    if [r["urn"] for r in old["resources"]] != [r["urn"] for r in new["resources"]]:
        return "resource order changed"
    return "outputs or formatting changed"


GENERATED = "[generated at each render]"


def _stable(doc: dict) -> dict:
    """The plan without what a chart generates afresh at every `helm template`: the AWS Load
    Balancer Controller's chart makes a new webhook CA each render (genCA), so its caBundle
    differs from run to run; everything else must be byte-identical."""
    doc = json.loads(json.dumps(doc))
    for r in doc["resources"]:
        for hook in r["inputs"].get("webhooks", []) if isinstance(r["inputs"], dict) else []:
            if isinstance(hook, dict) and "caBundle" in hook.get("clientConfig", {}):
                hook["clientConfig"]["caBundle"] = GENERATED
    return doc


@pytest.mark.parametrize("stack", STACKS)
def test_plan_document_matches_snapshot(stack, planned_stack):
    doc = _stable(planned_stack(stack)[0])
    text = json.dumps(doc, indent=2, sort_keys=False) + "\n"  # exactly what `paved plan --format json` writes
    path = SNAPSHOTS / f"{stack}.json.gz"
    if os.environ.get("PAVED_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))
    expected = gzip.decompress(path.read_bytes()).decode()
    if text != expected:
        pytest.fail(f"plan of {stack} differs from {path.name}: {_first_difference(json.loads(expected), doc)}")
