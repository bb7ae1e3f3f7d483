"""A 300-service diff: the pull-request comment fits GitHub's limit, the JSON keeps everything.

Both sides are planned in this process from two generated catalogs (benchmarks/gen_catalog.py),
the head bumping every service's image tag and adding a variable to each: every service
changes, so the markdown must summarise first and cut the details, and the JSON must still
hold every change.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from conftest import ROOT
from paved import plan
from paved.diff import render_json, render_markdown
from paved.diff.report import assemble
from paved.diff.sides import Side

GITHUB_LIMIT = 65_536
SERVICES = 300


def _bump(match: re.Match) -> str:
    major, minor, patch = match.group(2).split(".")
    return f"{match.group(1)}:{major}.{minor}.{int(patch) + 1}"


@pytest.fixture(scope="module")
def big_report(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from gen_catalog import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    tmp = tmp_path_factory.mktemp("big")
    base_text = generate(SERVICES)
    head_text = re.sub(r"(image: \S+):(\d+\.\d+\.\d+)", _bump, base_text)
    assert head_text.count("image:") == SERVICES and head_text != base_text
    sides = []
    for name, text in (("base", base_text), ("head", head_text)):
        path = tmp / f"{name}.yaml"
        path.write_text(text)
        doc, _ = plan.build("dev", path, ROOT)
        sides.append(Side(name, None, doc, [], None))
    return assemble("dev", sides[0], sides[1], [])


def test_markdown_of_300_services_fits_a_comment_and_links_the_json(big_report):
    full = render_markdown.full_report("diff-dev.json", "https://github.com/o/r/actions/runs/1/artifacts/2")
    md = render_markdown.markdown(big_report, full=full)
    assert len(md) < GITHUB_LIMIT, len(md)
    assert md.startswith("## paved diff: `dev`")
    # The summary table comes first, then one collapsed section per service.
    assert md.index("| create | update |") < md.index("<details")
    assert "[diff-dev.json](https://github.com/o/r/actions/runs/1/artifacts/2)" in md
    assert md.count("<details") == md.count("</details>")
    services = [g for g in big_report.groups if g.kind == "service"]
    assert len(services) == SERVICES
    # Every service is in the summary table, even when its details are cut.
    assert all(f"| **{g.name}** |" in md for g in services)
    if "Cut to fit a GitHub comment" in md:
        assert "The whole report, nothing cut: [diff-dev.json]" in md


def test_json_of_300_services_holds_every_change(big_report):
    data = json.loads(json.dumps(render_json.as_json(big_report)))
    resources = [r for g in data["groups"] for r in g["resources"]]
    assert len(resources) == len(big_report.resources)
    assert sum(len(r["changes"]) for r in resources) == sum(len(r.changes) for r in big_report.resources)
    images = [c for r in resources for c in r["changes"] if c["path"].endswith("].image")]
    assert len(images) == SERVICES  # each Deployment's own image change, none lost
    assert data["summary"]["update"] == len(resources) and data["summary"]["delete"] == 0


def test_report_sizes(big_report, capsys):
    # Printed for the record (pytest -s): the comment's length and how much of it was cut.
    md = render_markdown.markdown(big_report, full="x")
    with capsys.disabled():
        print(f"\n300 services: {len(big_report.resources)} resources changed, markdown {len(md):,} characters, "
              f"cut: {'Cut to fit' in md}, repeated groups: {len(big_report.repeated)}")
