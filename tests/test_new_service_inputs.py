"""Issue 17, `new-service` inputs: descriptions round-trip exactly (NEL, separators, controls,
a very long one) in the catalog and in the scaffolded app.py, a catalog closed by `...`
takes the new entry, a folder as --catalog is one line, and what a crashed run left behind
is cleaned up by the next run."""

from __future__ import annotations

import ast
import os
import time

import pytest

from paved.catalog import load_catalog
from paved.cli import main
from paved.new_service import STALE_SECONDS, clean_leftovers
from paved.stack import list_stacks
from test_new_service import project  # noqa: F401  (fixture)


def _description(root, name="reviews"):
    catalog = load_catalog(root / "services_catalog.yaml", {e: None for e in list_stacks(root)})
    return catalog.service(name).description


@pytest.mark.parametrize("description", [
    "Line one\x85still line one.", "A\u2028B\u2029C", "x" * 20000, "two\nlines", "bell\x07 and nul\x00",
    'quotes " and \'\'\' and """ and \\ backslash', "tab\there", "BOM\ufeff inside", "trailing space ",
])
def test_description_round_trips_exactly(project, capsys, description):
    assert main(["new-service", "reviews", "--team", "engagement", "--description", description]) == 0, \
        capsys.readouterr().err
    assert _description(project) == description
    app = (project / "sample_services" / "reviews" / "app.py").read_text(encoding="utf-8")
    # The scaffold parses, and its docstring starts with the description, exactly.
    assert ast.get_docstring(ast.parse(app), clean=False).startswith(f"reviews: {description}")


@pytest.mark.parametrize("tail", ["...\n", "...\n# the end\n", "... # done\n\n"])
def test_catalog_closed_by_a_document_end_marker(project, capsys, tail):
    catalog = project / "services_catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + tail, encoding="utf-8")
    assert main(["new-service", "reviews", "--team", "engagement", "--no-scaffold"]) == 0, capsys.readouterr().err
    assert _description(project).startswith("The reviews service")
    assert catalog.read_text(encoding="utf-8").endswith(tail)


def test_folder_as_catalog_is_one_line(project, capsys):
    assert main(["new-service", "reviews", "--team", "engagement", "--catalog", str(project / "sample_services")]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and err.count("\n") == 1


def test_leftovers_of_a_crashed_run_are_removed_by_the_next(project, capsys):
    catalog = project / "services_catalog.yaml"
    stale_tmp = project / ".services_catalog.yaml.abc123"
    stale_tmp.write_text("half a catalog")
    stale_dir = project / "sample_services" / ".reviews.xyz789"
    stale_dir.mkdir()
    (stale_dir / "app.py").write_text("half")
    fresh = project / ".services_catalog.yaml.now"
    fresh.write_text("another run, writing right now")
    old = time.time() - STALE_SECONDS - 5
    for path in (stale_tmp, stale_dir):
        os.utime(path, (old, old))
    assert main(["new-service", "reviews", "--team", "engagement"]) == 0, capsys.readouterr().err
    assert not stale_tmp.exists() and not stale_dir.exists()
    assert fresh.exists()  # not stale: left to the run that owns it
    assert (project / "sample_services" / "reviews" / "app.py").exists()
    assert "reviews" in catalog.read_text(encoding="utf-8")


def test_clean_leftovers_leaves_services_alone(project):
    assert clean_leftovers(project / "services_catalog.yaml", project / "sample_services", now=time.time() + 3600) == []
    assert (project / "sample_services" / "_template").is_dir()


def _fill_engagement_quota(root):
    """engagement's quota exactly full at maximum replicas plus surge in the tightest stack."""
    from paved.catalog import rollout_need
    from paved.stack import load_stack
    from paved.resources import memory_text

    environments = {e: load_stack(root, e) for e in list_stacks(root)}
    catalog = load_catalog(root / "services_catalog.yaml", environments)
    needs = [rollout_need(list(catalog.for_environment(e).services_of("engagement"))) for e in environments]
    cpu = max(n.cpu for n in needs)
    memory = max(int(n.memory) for n in needs)
    pods = max(n.pods for n in needs)
    path = root / "services_catalog.yaml"
    text = path.read_text(encoding="utf-8")
    old = 'quota: {cpu: "4", memory: 8Gi, pods: 30}'
    assert text.count(old) >= 1
    new = f'quota: {{cpu: "{int(cpu * 1000)}m", memory: {memory_text(memory)}, pods: {pods}}}'
    lines = text.split("\n")
    i = next(k for k, line in enumerate(lines) if line.strip() == "- name: engagement")
    j = next(k for k in range(i, len(lines)) if old in lines[k])
    lines[j] = lines[j].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")
    return new


def test_full_quota_is_refused_with_the_quota_needed(project, capsys):
    _fill_engagement_quota(project)
    assert main(["validate"]) == 0
    before = (project / "services_catalog.yaml").read_bytes()
    assert main(["new-service", "reviews", "--team", "engagement", "--no-scaffold"]) == 1
    err = capsys.readouterr().err
    assert "teams[engagement].quota." in err and "--raise-quota" in err and "surge" in err, err
    assert (project / "services_catalog.yaml").read_bytes() == before


def test_raise_quota_makes_room_and_keeps_the_rest(project, capsys):
    old = _fill_engagement_quota(project)
    before = (project / "services_catalog.yaml").read_text(encoding="utf-8")
    assert main(["new-service", "reviews", "--team", "engagement", "--no-scaffold", "--raise-quota"]) == 0, \
        capsys.readouterr().err
    out = capsys.readouterr().out
    assert "raised team 'engagement'" in out, out
    after = (project / "services_catalog.yaml").read_text(encoding="utf-8")
    assert old not in after
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 1 and "quota:" in changed[0][1], changed
    assert main(["validate"]) == 0
