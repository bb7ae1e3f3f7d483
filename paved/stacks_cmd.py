"""``paved stacks``: an environment's Pulumi stacks, and which ones a change affects.

The workflows use it to preview and deploy only the stacks a pull request or a push touches
(``--base REF --format matrix``), and to run drift detection per stack. A stack is affected
when its input hash (``paved.layered.stack_keys``: the code, its settings, its catalog
entries, the platform's facts) differs from the base's. A single-stack environment has one
stack, affected by any change to the code, the catalog or its settings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from paved.errors import PavedError, UsageError
from paved.layers import split_stack


def add_parser(sub: Any, catalog_arg: Any) -> None:
    p = sub.add_parser("stacks", help="list the environments' Pulumi stacks (platform and team stacks) and which "
                                      "ones a change affects",
                       description="One line per Pulumi stack: its environment, layer and team. With --base, "
                                   "whether the change since that revision affects it (its input hash differs).")
    p.add_argument("-s", "--stack", action="append", metavar="ENV",
                   help="an environment (repeat for several; default: every stacks/Pulumi.ENV.yaml)")
    catalog_arg(p)
    p.add_argument("--base", metavar="GIT_REF", help="mark the stacks whose inputs differ from this revision's")
    p.add_argument("--affected", action="store_true", help="with --base: list only the affected stacks")
    p.add_argument("--layer", choices=["single", "platform", "team"],
                   help="list only the stacks of this layer (the deploy workflow runs team stacks after the platform's)")
    p.add_argument("--format", choices=["text", "json", "matrix"], default="text",
                   help="text for people (default), json for tools, matrix: a GitHub Actions matrix "
                        '({"include": [{"stack", "environment"}]}) of the listed stacks')
    p.add_argument("-o", "--output", metavar="FILE", help="write the list here instead of standard output")


def _keys(root: Path, env: str, catalog: Path) -> dict[str, str]:
    from paved.layered import code_digest, stack_keys
    from paved.stack import load_stack

    code = code_digest(root)
    keys = stack_keys(root, env, catalog, code)
    if load_stack(root, env).layout == "single":
        # One stack holds every team: any input of it counts.
        h = hashlib.sha256(code.encode())
        for f in (catalog, root / "stacks" / f"Pulumi.{env}.yaml"):
            h.update(f.read_bytes() if f.is_file() else b"")
        keys = {env: h.hexdigest()}
    return keys


def listing(root: Path, envs: list[str], catalog: Path, base: str | None = None) -> list[dict[str, Any]]:
    """Every stack of ``envs`` (platform first), with ``affected`` when ``base`` is given."""
    from paved.stack import load_stack

    heads = {env: _keys(root, env, catalog) for env in envs}
    bases: dict[str, dict[str, str]] = {}
    if base is not None:
        from paved.diff.sides import base_checkout

        rel = catalog.resolve().relative_to(root.resolve()) if catalog.resolve().is_relative_to(root.resolve()) else None
        with base_checkout(root, base) as (base_root, _):
            for env in envs:
                try:
                    bases[env] = _keys(base_root, env, base_root / rel if rel else base_root / "services_catalog.yaml")
                except (PavedError, OSError):
                    bases[env] = {}  # the environment is new or does not load at the base: all affected
    rows = []
    for env in envs:
        layout = load_stack(root, env).layout
        for stack, key in heads[env].items():
            team = split_stack(stack)[1]
            row = {"name": stack, "environment": env, "layer": layout if layout == "single" else ("team" if team else "platform"),
                   "team": team}
            if base is not None:
                row["affected"] = bases[env].get(stack) != key
            rows.append(row)
    return rows


def run(args: argparse.Namespace, root: Path, catalog: Path) -> int:
    from paved.stack import list_stacks, stack_name

    envs = [stack_name(e) for e in (args.stack or list_stacks(root))]
    if args.affected and not args.base:
        raise UsageError("--affected needs --base GIT_REF")
    rows = listing(root, envs, catalog, args.base)
    if args.affected:
        rows = [r for r in rows if r["affected"]]
    if args.layer:
        rows = [r for r in rows if r["layer"] == args.layer]
    if args.format == "json":
        out = json.dumps({"version": 1, "base": args.base, "stacks": rows}, indent=2) + "\n"
    elif args.format == "matrix":
        out = json.dumps({"include": [{"stack": r["name"], "environment": r["environment"]} for r in rows]}) + "\n"
    else:
        width = max([len(r["name"]) for r in rows] + [5])
        lines = [f"{'STACK':<{width}}  {'LAYER':<8}  TEAM" + ("  AFFECTED" if args.base else "")]
        for r in rows:
            lines.append(f"{r['name']:<{width}}  {r['layer']:<8}  {r['team'] or '-':<12}"
                         + (f"  {'yes' if r['affected'] else 'no'}" if args.base else ""))
        out = "\n".join(lines) + "\n"
    if args.output:
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    return 0
