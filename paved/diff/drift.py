"""Drift found by ``pulumi refresh --preview-only --json``, as the body of a stack's drift issue.

The nightly drift workflow keeps one open issue per stack and rewrites its body on every run
that finds drift: a summary table like ``paved diff``'s first, then the drifted resources,
each with the properties that differ between the state and the cloud, in a collapsed
section, within GitHub's size limit.

    python -m paved.diff.drift refresh.json --stack prod [--run-url URL] --output drift.md

Exit code 0 when the refresh found nothing to change, 1 when it found drift (the body is
written), 2 when the file is not a refresh's JSON (the refresh itself failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from paved.diff.render import SYMBOL
from paved.diff.render_markdown import COMMENT_LIMIT, _cell, _code, _md_section
from paved.diff.report import OPS, short_type

MARKER = "<!-- paved-drift:{stack} -->"
_CHANGED = {"update", "replace", "delete", "create", "create-replacement", "delete-replaced", "refresh", "discard"}


def drifted(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of a refresh preview that change something (not ``same``, not the stack)."""
    return [s for s in doc.get("steps") or [] if s.get("op") in _CHANGED
            and not str(s.get("urn", "")).split("::")[2:3] == ["pulumi:pulumi:Stack"]]


def _op(step: dict[str, Any]) -> str:
    op = step.get("op", "update")
    return {"create-replacement": "replace", "delete-replaced": "replace", "refresh": "update",
            "discard": "delete"}.get(op, op)


def _what(step: dict[str, Any]) -> tuple[str, str]:
    urn = str(step.get("urn", ""))
    parts = urn.split("::")
    typ = parts[2].rsplit("$", 1)[-1] if len(parts) > 3 else step.get("type", "")
    return typ, parts[-1] if parts else urn


def _properties(step: dict[str, Any]) -> list[str]:
    if isinstance(step.get("detailedDiff"), dict):
        return sorted(step["detailedDiff"])
    return [str(p) for p in step.get("diffs") or []]


def body(doc: dict[str, Any], stack: str, run_url: str | None = None, limit: int = COMMENT_LIMIT) -> str:
    """The issue body for ``stack``'s drift: a marker the workflow finds the issue by, the
    summary, then the drifted resources."""
    steps = drifted(doc)
    counts = Counter(_op(s) for s in steps)
    same = (doc.get("changeSummary") or {}).get("same", "")
    head = [MARKER.format(stack=stack), f"## Drift in stack `{stack}`", "",
            "What runs in AWS and the cluster differs from the Pulumi state (`pulumi refresh --preview-only`)."
            + (f" [The run]({run_url})." if run_url else ""), "",
            "| " + " | ".join(OPS) + " | unchanged |", "|" + "---:|" * (len(OPS) + 1),
            "| " + " | ".join(str(counts.get(op, 0)) for op in OPS) + f" | {same} |", "",
            "Run `pulumi refresh` to accept what is live, or `pulumi up` to put back what the code says; this issue "
            "is updated by every nightly run that still finds drift.", ""]
    rows = []
    for s in steps:
        typ, name = _what(s)
        props = ", ".join(_code(p) for p in _properties(s)[:20]) or "(no property detail)"
        rows.append(f"| {SYMBOL.get(_op(s), '~')} {_op(s)} | {_cell(short_type(typ))} {_code(name)} | {props} |")
    out = "\n".join(head) + "\n"
    made = _md_section(f"<b>{len(steps)} drifted resource(s)</b>", rows, limit - len(out),
                       ("| | resource | properties |", "|---|---|---|"), opened=True)
    return out + (made[0] if made else "")


def main(argv: list[str] | None = None) -> int:
    """Write the drift issue body of a refresh's JSON; see the module docstring."""
    p = argparse.ArgumentParser(prog="python -m paved.diff.drift", description=__doc__.split("\n\n")[0])
    p.add_argument("refresh", type=Path, help="the output of pulumi refresh --preview-only --json")
    p.add_argument("--stack", required=True)
    p.add_argument("--run-url")
    p.add_argument("--output", type=Path, help="write the body here instead of standard output")
    args = p.parse_args(argv)
    try:
        doc = json.loads(args.refresh.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        print(f"{args.refresh}: not the JSON of a refresh ({exc}): the refresh failed, see its log", file=sys.stderr)
        return 2
    if not drifted(doc):
        return 0
    text = body(doc, args.stack, args.run_url)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1


if __name__ == "__main__":
    sys.exit(main())
