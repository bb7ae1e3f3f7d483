"""Issue 17's newcomer items that the CLI shows: --version, short flags, help on every option.

(The `paved secrets` options belong to that command's module and are checked there.)
"""

from __future__ import annotations

import argparse

import pytest

from paved.cli import _parser, main


def _options(parser: argparse.ArgumentParser, path: list[str]):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, [*path, name])
        elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            yield " ".join(path), action


def test_every_option_has_help():
    missing = [f"{cmd} {a.option_strings or a.dest}" for cmd, a in _options(_parser(), ["paved"])
               if not a.help and not cmd.startswith("paved secrets")]
    assert not missing, missing


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("paved ")


@pytest.mark.parametrize("command", ["plan", "check", "cost", "render", "diff"])
def test_short_flags(command):
    parser = _parser()
    flags = {flag for cmd, a in _options(parser, ["paved"]) if cmd == f"paved {command}" for flag in a.option_strings}
    assert {"-s", "--stack", "-o", "--output"} <= flags, flags
