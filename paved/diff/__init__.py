"""``paved diff``: what a change does to a stack, for the reviewer of a pull request.

The diff package is in the commands layer: it may import every layer. Only
:mod:`paved.diff.sides` goes above ``paved``'s own engine, to run the policy pack
(``policies.registry``) for the violations a change introduces and fixes; nothing in it
imports ``components``.

The base revision and the working tree are each planned with their own code
(:mod:`~paved.diff.sides`); the two plan documents are matched by URN and then through each
new resource's ``aliases`` (:mod:`~paved.diff.match`), and every pair is compared input by
input (:mod:`~paved.diff.properties`), a change to a property the provider cannot change in
place forcing a replacement (:mod:`~paved.diff.replacement`). :mod:`~paved.diff.report` holds
the result, grouped by service, with the data-loss risks and the policy and cost deltas;
``--fail-on-destroy`` turns any data-loss risk into exit code 1. It is written for a terminal
(:mod:`~paved.diff.render_text`), a pull-request comment (:mod:`~paved.diff.render_markdown`)
or tools (:mod:`~paved.diff.render_json`, which documents the JSON schema).

What this cannot see (the offline engine's limits, stated in every report's notes): values
the cloud computes (ids, ARNs) are the offline engine's stand-ins, so a replacement does not
ripple into the resources that read the replaced one's outputs as it would in a real
preview; secret values are masked on both sides, so a changed secret value is invisible.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from paved.diff.render_json import as_json
from paved.diff.render_markdown import COMMENT_LIMIT, full_report, markdown
from paved.diff.render_text import text
from paved.diff.report import Report, assemble, short_type
from paved.diff.sides import complete, plan_sides

__all__ = ["build", "run"]


class Incremental:
    """Which team stacks a change touches, from both sides' input hashes (``paved.layered.stack_keys``).

    Only when both sides are layered and run the same code: then equal keys mean equal plans, and
    the unchanged team stacks are not planned on either side (their diff, violations and cost
    would cancel out). The platform stack is always planned: its plan is every team's context.
    """

    def __init__(self, root: Path, stack: str, catalog: Path, catalog_rel: str | None) -> None:
        self.root, self.stack, self.catalog, self.catalog_rel = root, stack, catalog, catalog_rel
        self.teams: set[str] | None = None
        self.notes: list[str] = []

    def same_code(self, base_root: Path) -> str | None:
        """The code's digest when the incremental diff applies: the working tree's environment is
        layered, its catalog is the project's, and the base runs the same code and the same policy
        pack; else None."""
        from paved.errors import PavedError
        from paved.layered import code_digest, tree_digest
        from paved.layers import split_stack
        from paved.stack import load_stack

        try:
            if self.catalog_rel is None or load_stack(self.root, split_stack(self.stack)[0]).layout != "layered":
                return None  # the working tree's environment is one stack
            code = code_digest(self.root)
            if code_digest(base_root) != code:
                return None  # other code plans differently
            if tree_digest(base_root / "policies") != tree_digest(self.root / "policies"):
                # Another rule or its config judges the unchanged stacks differently too: they
                # are planned and checked, not skipped.
                self.notes.append("the policy pack or its config changed: every stack was planned and checked")
                return None
            return code
        except (PavedError, OSError, ValueError):
            return None  # a side that does not load plans in full, and reports its own error

    def head_keys(self, code: str) -> dict[str, str] | None:
        """The working tree's stack keys (None when its inputs do not load)."""
        from paved.errors import PavedError
        from paved.layered import stack_keys

        try:
            return stack_keys(self.root, self.stack, self.catalog, code)
        except (PavedError, OSError, ValueError):
            return None

    def decide(self, head: dict[str, str] | None, base: dict[str, str] | None) -> set[str] | None:
        """The team stacks to plan on both sides, from their keys; None: every stack."""
        from paved.layers import split_stack

        if head is None or base is None or len(head) == 1 or len(base) == 1:
            return None  # a side that does not load, or a single-stack side
        changed = {s for s in head.keys() | base.keys() if head.get(s) != base.get(s)}
        self.teams = {split_stack(s)[1] for s in changed if split_stack(s)[1] is not None}
        if self.stack in changed:
            self.teams = None  # the platform changed: its outputs feed every team
            self.notes.append(f"blast radius: the platform stack {self.stack} changes, and with it every team stack "
                              f"that reads it ({len(head) - 1}): the platform owners review this change (CODEOWNERS)")
            return None
        unchanged = len((head.keys() & base.keys()) - changed)
        self.notes.append(f"blast radius: team stack(s) {', '.join(sorted(changed)) or 'none'} only; the platform "
                          f"stack {self.stack} is unchanged")
        self.notes.append(f"incremental: {len(self.teams)} team stack(s) changed and were planned on both sides "
                          f"({', '.join(sorted(self.teams)) or 'none'}); {unchanged - 1} unchanged team stack(s) "
                          f"have the same input hashes on both sides and were not planned")
        return self.teams


def build(root: Path, stack: str, base_ref: str, catalog_path: str | Path | None = None,
          full: bool = False) -> Report:
    """Plan ``base_ref`` and the working tree for ``stack`` and compare them (``full``: every
    stack of a layered environment, not only those whose inputs changed)."""
    root = Path(root).resolve()
    catalog = Path(catalog_path) if catalog_path else root / "services_catalog.yaml"
    absolute = catalog if catalog.is_absolute() else Path.cwd() / catalog
    catalog_rel = absolute.resolve().relative_to(root).as_posix() if absolute.resolve().is_relative_to(root) else None
    incremental = Incremental(root, stack, catalog, catalog_rel)
    # A platform stack whose inputs are equal on both sides is planned once (and kept for the
    # next diff): its plan is named by its input hash (paved.layered).
    previous = os.environ.get("PAVED_PLAN_CACHE")
    os.environ["PAVED_PLAN_CACHE"] = previous or str(root / ".paved" / "plans")
    try:
        base, head = plan_sides(root, base_ref, stack, catalog_rel, catalog, None if full else incremental)
    finally:
        if previous is None:
            os.environ.pop("PAVED_PLAN_CACHE", None)
    notes = [*base.notes, *head.notes, *incremental.notes]
    if catalog_rel is None:
        notes.append(f"the catalog {catalog} is outside the project: the base was planned with its own services_catalog.yaml")
    for side in (base, head):
        notes += complete(side, root, stack)
    return assemble(stack, base, head, notes)


def run(args: Any, root: Path, catalog_path: str | Path) -> int:
    """``paved diff``: print or write the report; 1 when ``--fail-on-destroy`` finds data at risk."""
    from paved.term import progress

    with progress(f"planning stack {args.stack} at {args.base} and in the working tree"):
        report = build(root, args.stack, args.base, catalog_path, full=getattr(args, "full", False))
    fmt = getattr(args, "format", "text")
    data = json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"
    json_output = getattr(args, "json_output", None)
    if json_output:  # the whole report beside a cut one, from the same planning run
        Path(json_output).write_text(data, encoding="utf-8")
    if fmt == "json":
        out = data
    elif fmt == "markdown":
        full = full_report(Path(json_output).name if json_output else None, getattr(args, "json_url", None))
        out = markdown(report, getattr(args, "max_chars", None) or COMMENT_LIMIT, full)
    else:
        out = text(report)
    if fmt != "json" and os.environ.get("PAVED_NO_CHARTS") == "1":
        out += "\nnote: chart contents were not checked (--no-charts)\n"
    if getattr(args, "output", None):
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    if getattr(args, "fail_on_destroy", False) and report.data_loss:
        names = ", ".join(f"{r.op} {short_type(r.type)} {r.name}" for r in report.data_loss)
        print(f"paved diff: refusing (--fail-on-destroy): {len(report.data_loss)} stateful or protected resource(s) "
              f"would be deleted or replaced: {names}", file=sys.stderr)
        return 1
    return 0
