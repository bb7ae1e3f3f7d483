"""``paved migrate-layout``: move a single-stack environment to the layered layout in place.

The program gives a resource the same URN in both layouts, apart from the stack: the team
layer builds the same components under the same names (``components.platform``). ``pulumi
state move`` keeps a moved resource's URN and rewrites only its stack (and re-parents it to
the destination's root when its parent stays behind; the program then parents it again, which
is no change to the resource). So the migration is one ``pulumi state move`` per team, of the
team's top-level resources; their children follow. Nothing is replaced, nothing is created in
AWS or the cluster, except what the layered layout adds:

- per team stack, its components, providers and the StackReference (no cloud objects);
- per team, an IAM inline policy letting External Secrets assume the team's role (in the single
  layout the platform's one policy listed every team's role; it now lists the alerts role only).

The plan is computed from the two offline plans of the environment (single and layered), and
checked: every resource of the single-stack plan lands in exactly one stack, with the same type
and name, and every moved resource has the same inputs on both sides.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paved.errors import PavedError, UsageError
from paved.layers import SEPARATOR, split_stack, stack_of_urn

# The layered layout registers these in every stack (components and providers): they stay in the
# platform stack and are made anew (components) or copied by `pulumi state move` (providers).
SHARED_TYPES_PREFIXES = ("pulumi:providers:", "pulumi:pulumi:Stack")


class MigrationError(PavedError):
    """The two layouts' plans do not line up: moving state would replace something."""


@dataclass
class Migration:
    """What moving an environment to the layered layout does."""

    environment: str
    moves: dict[str, list[str]] = field(default_factory=dict)  # team stack → top-level URNs to move
    moved: dict[str, list[str]] = field(default_factory=dict)  # team stack → every URN that moves
    stays: list[str] = field(default_factory=list)  # URNs that stay in the platform stack
    new: dict[str, list[str]] = field(default_factory=dict)  # stack → URNs only the layered layout has
    gone: list[str] = field(default_factory=list)  # URNs only the single layout has

    def commands(self, org: str | None = None) -> list[list[str]]:
        """The Pulumi CLI commands, in order: create each team stack, then move its resources."""
        out: list[list[str]] = []
        for stack, urns in self.moves.items():
            name = f"{org}/{stack}" if org else stack
            out.append(["pulumi", "stack", "init", name, "--no-select"])
            out.append(["pulumi", "state", "move", "--source", f"{org}/{self.environment}" if org else self.environment,
                        "--dest", name, "--yes", *urns])
        return out

    def as_json(self) -> dict[str, Any]:
        return {"version": 1, "environment": self.environment,
                "stacks": [{"name": s, "move": self.moves[s], "moves": len(self.moved[s]),
                            "new": self.new.get(s, [])} for s in self.moves],
                "stays": len(self.stays), "platformNew": self.new.get(self.environment, []), "gone": self.gone,
                "commands": [shlex.join(c) for c in self.commands()]}


def _tail(urn: str) -> str:
    """A URN without its stack and project: what stays the same across a move."""
    return urn.split("::", 2)[2]


def _shared(r: dict[str, Any], copies: int) -> bool:
    """Providers, and components the layered layout has in several stacks (the root component, the
    cluster, secrets and Kafka components a team stack rebuilds): they stay where they are."""
    return r["type"].startswith(SHARED_TYPES_PREFIXES) or (copies > 1 and not r.get("custom", True))


def _comparable(inputs: Any) -> Any:
    """Inputs without what a chart generates anew on every render (webhook CA bundles)."""
    if isinstance(inputs, dict):
        return {k: _comparable(v) for k, v in inputs.items() if k != "caBundle"}
    if isinstance(inputs, list):
        return [_comparable(v) for v in inputs]
    return inputs


def compute(single: dict[str, Any], layered: dict[str, Any]) -> Migration:
    """The migration from the single-stack plan to the layered environment plan, checked."""
    env = single["stack"]
    if SEPARATOR in env or single.get("layout") == "layered":
        raise UsageError(f"{env}: migrate-layout moves a single-stack environment; this plan is already layered")
    migration = Migration(env)
    where: dict[str, list[dict[str, Any]]] = {}
    for r in layered["resources"]:
        where.setdefault(_tail(r["urn"]), []).append(r)
    problems: list[str] = []
    moved_tails: set[str] = set()
    for r in single["resources"]:
        targets = where.get(_tail(r["urn"]), [])
        if not targets:
            migration.gone.append(r["urn"])
            continue
        if _shared(r, len(targets)):
            migration.stays.append(r["urn"])  # in every stack that needs them
            continue
        if len(targets) != 1:
            problems.append(f"{r['urn']}: in {len(targets)} stacks of the layered plan "
                            f"({', '.join(t['stack'] for t in targets)})")
            continue
        target = targets[0]
        if (target["type"], target["name"]) != (r["type"], r["name"]):
            problems.append(f"{r['urn']}: type or name differs in {target['stack']}")
        if _comparable(target["inputs"]) != _comparable(r["inputs"]):
            problems.append(f"{r['urn']}: its inputs differ in {target['stack']} (it would be updated, perhaps replaced)")
        if target["stack"] == env:
            migration.stays.append(r["urn"])
        else:
            migration.moved.setdefault(target["stack"], []).append(r["urn"])
            moved_tails.add(_tail(r["urn"]))
    single_tails = {_tail(r["urn"]) for r in single["resources"]}
    for r in layered["resources"]:
        if _tail(r["urn"]) not in single_tails or (r["stack"] != env and _shared(r, len(where[_tail(r["urn"])]))):
            migration.new.setdefault(r["stack"], []).append(r["urn"])
    if problems:
        raise MigrationError(f"{len(problems)} resource(s) would not move cleanly:\n  " + "\n  ".join(problems[:30]))
    by_urn = {r["urn"]: r for r in single["resources"]}
    for stack, urns in migration.moved.items():
        moving = set(urns)
        # `pulumi state move` takes a resource's children along: name only the top of each tree.
        migration.moves[stack] = [u for u in urns if (by_urn[u].get("parent") or "") not in moving]
    migration.moves = {s: migration.moves[s] for s in sorted(migration.moves, key=_stack_order(layered))}
    migration.moved = {s: migration.moved[s] for s in migration.moves}
    return migration


def _stack_order(layered: dict[str, Any]):
    order = {s["name"]: i for i, s in enumerate(layered.get("stacks", []))}
    return lambda s: order.get(s, len(order))


def text(m: Migration) -> str:
    lines = [f"Moving environment {m.environment} to the layered layout: {sum(map(len, m.moved.values()))} resources move "
             f"into {len(m.moves)} team stacks, {len(m.stays)} stay in {m.environment}. Nothing is replaced.", ""]
    for stack, urns in m.moved.items():
        extra = len(m.new.get(stack, []))
        lines.append(f"  {stack}: {len(urns)} resources move ({len(m.moves[stack])} top-level URNs); "
                     f"{extra} new (its components, providers, StackReference, and the External Secrets assume policy)")
    if m.gone:
        lines.append(f"  {m.environment}: {len(m.gone)} resource(s) the layered layout no longer has (deleted by "
                     f"the platform stack's next update): " + ", ".join(u.rsplit("::", 1)[-1] for u in m.gone))
    lines += ["", "Commands (run from the project directory, with the Pulumi CLI logged in to the backend):", ""]
    lines += [shlex.join(c) for c in m.commands()]
    lines += ["", f"Then set `paved:layout: layered` in stacks/Pulumi.{m.environment}.yaml, and run `pulumi preview` on "
              f"{m.environment} and each team stack: it should show no replacement (the new policies and stack "
              "components are creates)."]
    return "\n".join(lines) + "\n"


def add_parser(sub: Any, stack_arg, catalog_arg) -> None:
    p = sub.add_parser("migrate-layout", help="print (or run) the `pulumi state move` commands that split a "
                                              "single-stack environment into a platform and team stacks")
    stack_arg(p)
    catalog_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default), json for tools")
    p.add_argument("-o", "--output", metavar="FILE", help="write the plan here instead of standard output")
    p.add_argument("--run", action="store_true",
                   help="run the commands with the Pulumi CLI (needs `pulumi` on PATH and a logged-in backend)")
    p.add_argument("--org", metavar="ORG", help="Pulumi organization of the stacks (default: the CLI's current one)")


def run(args: argparse.Namespace, root: Path, catalog: Path) -> int:
    from paved import plan
    from paved.stack import load_stack

    env, team = split_stack(args.stack)
    if team is not None:
        raise UsageError(f"--stack {args.stack}: name the environment ({env}), not a team stack")
    if load_stack(root, env).layout == "layered":
        raise UsageError(f"{env} already has paved:layout: layered; there is nothing to migrate")
    single, _ = plan.build(env, catalog, root, layout="single")
    layered, _ = plan.build(env, catalog, root, layout="layered", jobs=1)
    migration = compute(single, layered)
    out = json.dumps(migration.as_json(), indent=2) + "\n" if args.format == "json" else text(migration)
    if args.output:
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    if not args.run:
        return 0
    if shutil.which("pulumi") is None:
        raise UsageError("--run needs the Pulumi CLI on PATH; run the printed commands where it is installed")
    for command in migration.commands(args.org):
        print("+ " + shlex.join(command), flush=True)
        done = subprocess.run(command, cwd=root, check=False)
        if done.returncode != 0:
            raise PavedError(f"`{shlex.join(command)}` failed (exit {done.returncode}); the commands before it "
                             "have run: fix the cause and run the remaining printed commands by hand")
    return 0
