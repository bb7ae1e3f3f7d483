"""Issue 17, terminal: tables fit the terminal width, a progress line only on a terminal, -c/--catalog."""

from __future__ import annotations

import io
import time

import pytest

from conftest import planned
from paved import plan, term
from paved.cli import _parser, main


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_the_plan_table_fits_the_terminal(columns):
    doc = planned("prod")[0]
    full = plan.text(doc)
    assert max(len(line) for line in full.splitlines()) > columns  # the case the issue saw: 199+ columns
    narrow = plan.text(doc, columns)
    assert max(len(line) for line in narrow.splitlines()[1:]) <= columns  # the title sentence may wrap
    # Nothing is lost: every kind's column header is in some block, every service in each block.
    head = next(line for line in full.splitlines() if line.startswith("team "))
    for kind in head.split()[2:]:
        assert f"  {kind}" in narrow, kind
    blocks = narrow.count("\nteam ")
    assert blocks > 1 and narrow.count("checkout     orders") == blocks


def test_a_pipe_keeps_the_whole_table(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert term.width(io.StringIO()) is None
    monkeypatch.setenv("COLUMNS", "90")
    assert term.width(io.StringIO()) == 90


def test_plan_command_reads_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "90")
    assert main(["plan", "-s", "dev", "--no-charts"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 100  # the kinds legend wraps at 90


def test_explain_fits_the_terminal(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["explain", "orders"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines[2:-1]) <= 80


def test_progress_line_only_on_a_terminal_and_only_after_a_second(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("PAVED_NO_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = _Tty()
    with term.progress("planning stack dev", tty, delay=0.05):
        time.sleep(0.3)
    assert "planning stack dev" in tty.getvalue() and tty.getvalue().endswith("\r\033[K")
    quick = _Tty()
    with term.progress("planning", quick, delay=1.0):
        pass
    assert quick.getvalue() == ""
    pipe = io.StringIO()
    with term.progress("planning", pipe, delay=0.0):
        time.sleep(0.2)
    assert pipe.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    ci = _Tty()
    with term.progress("planning", ci, delay=0.0):
        time.sleep(0.2)
    assert ci.getvalue() == ""


def test_catalog_has_a_short_flag_on_every_command_that_reads_it():
    parser = _parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        flags = {f for a in p._actions for f in a.option_strings}
        if "--catalog" in flags:
            assert "-c" in flags, name


def test_the_newcomer_items_are_in_the_readme():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    for needle in ("Commands at a glance", "`-c` for `--catalog`", "--min-enforcement", "paved --version",
                   "docs/schemas/", "spinner", "requirements.lock", "make lock", "LICENSE", ".paved-render.json",
                   "not priced", "--repository URL"):
        assert needle in readme, needle
