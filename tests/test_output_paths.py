"""Issue 17, output paths: a missing folder, a folder where a file is expected or a file where
a folder is, is one clear line (exit 2) for every command that writes, before any planning."""

from __future__ import annotations

import pytest

from paved.cli import main

FILE_COMMANDS = {
    "plan": ["plan", "--stack", "dev", "--output"],
    "check": ["check", "--stack", "dev", "--output"],
    "cost": ["cost", "--stack", "dev", "--output"],
    "diff": ["diff", "--stack", "dev", "--base", "HEAD", "--output"],
    "diff json": ["diff", "--stack", "dev", "--base", "HEAD", "--json-output"],
}
FOLDER_COMMANDS = {
    "render": ["render", "--stack", "dev", "--output"],
    "export": ["export", "backstage", "--output"],
}


@pytest.fixture
def places(tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    return tmp_path


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/out.txt", "does not exist"),
        ("a-folder", "is a folder; give a file name"),
        ("a-file/out.txt", "a-file is a file, not a folder"),
    ],
)
def test_bad_file_output_is_one_line(places, capsys, command, target, message):
    assert main([*FILE_COMMANDS[command], str(places / target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(places / target) in err, err


@pytest.mark.parametrize("command", sorted(FOLDER_COMMANDS))
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("a-file", "is a file; give a folder"),
        ("a-file/sub", "a-file is a file, not a folder"),
    ],
)
def test_bad_folder_output_is_one_line(places, capsys, command, target, message):
    assert main([*FOLDER_COMMANDS[command], str(places / target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_file_in_the_way_inside_the_folder_is_one_line(places, capsys):
    out = places / "a-folder"
    (out / ".paved-render.json").write_text('{"version": 1, "files": []}')  # a folder render wrote (else refused)
    (out / "_cluster").write_text("in the way")
    assert main(["render", "--stack", "dev", "--no-charts", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "_cluster" in err and "Traceback" not in err, err


def test_missing_output_folder_of_render_is_created(places, capsys):
    from paved.cli import output_problem

    assert output_problem(places / "new" / "deeper", folder=True) is None
