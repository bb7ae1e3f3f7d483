"""Issue 17, `paved render`: writes into an empty folder or one it wrote (removing the files it no
longer produces, only those), and writes keys in the usual order."""

from __future__ import annotations

import copy
import json

import yaml

from conftest import planned
from paved import render
from paved.cli import main


def _doc_without(service: str) -> dict:
    doc = copy.deepcopy(planned("dev")[0])
    doc["resources"] = [r for r in doc["resources"] if r.get("service") != service]
    return doc


def test_keys_come_in_the_usual_order(tmp_path):
    files = render.write(planned("dev")[0], tmp_path / "out")
    for path in files:
        text = path.read_text()
        assert text.startswith("apiVersion: "), path
        obj = yaml.safe_load(text)
        assert list(obj)[:3] == ["apiVersion", "kind", "metadata"], path
        assert list(obj["metadata"])[0] == "name", path


def test_a_second_render_removes_only_the_files_it_no_longer_produces(tmp_path):
    out = tmp_path / "out"
    first = render.write(planned("dev")[0], out)
    manifest = json.loads((out / render.MANIFEST).read_text())
    assert manifest["version"] == 1 and len(manifest["files"]) == len({p.relative_to(out).as_posix() for p in first})
    mine = (out / "checkout" / "NOTES.txt")
    mine.write_text("kept: not written by paved render\n")
    orders = [p for p in first if p.name.endswith("-orders.yaml")]
    assert orders
    second = render.write(_doc_without("orders"), out)
    assert all(not p.exists() for p in orders)
    assert mine.read_text().startswith("kept")
    assert all(p.exists() for p in second)
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert on_disk == {p.relative_to(out).as_posix() for p in second} | {render.MANIFEST, "checkout/NOTES.txt"}


def test_a_folder_it_did_not_write_is_refused_before_planning(tmp_path, capsys, monkeypatch):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.yaml").write_text("x: 1\n")
    from paved import plan

    monkeypatch.setattr(plan, "build", lambda *a, **k: (_ for _ in ()).throw(AssertionError("planned")))
    assert main(["render", "-s", "dev", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--output {out}: the folder is not empty and paved render did not write it" in err
    assert [p.name for p in out.iterdir()] == ["keep.yaml"]


def test_a_broken_manifest_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / render.MANIFEST).write_text('{"files": "all"}')
    assert main(["render", "-s", "dev", "-o", str(out)]) == 2
    assert "is not a render manifest" in capsys.readouterr().err


def test_a_manifest_naming_files_outside_the_folder_removes_nothing_there(tmp_path):
    out = tmp_path / "out"
    outside = tmp_path / "precious.yaml"
    outside.write_text("keep\n")
    render.write(planned("dev")[0], out)
    manifest = json.loads((out / render.MANIFEST).read_text())
    manifest["files"].append("../precious.yaml")
    (out / render.MANIFEST).write_text(json.dumps(manifest))
    render.write(planned("dev")[0], out)
    assert outside.read_text() == "keep\n"
