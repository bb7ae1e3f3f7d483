"""The ``paved`` command line.

Exit codes: 0 success, 1 when what is checked fails (invalid input, a program error), 2 on
a usage error. Errors print as ``FILE:LINE:COL: FIELD: MESSAGE`` with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paved.errors import InputError, PavedError, UsageError

DEFAULT_CATALOG = "services_catalog.yaml"


def _catalog_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--catalog", default=None, metavar="FILE", help=f"catalog file (default: {DEFAULT_CATALOG})")


def _stack_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--stack", required=True, metavar="ENV", help="stack name: stacks/Pulumi.<ENV>.yaml")


def _charts_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-charts", action="store_true",
                   help="do not expand the Helm charts with helm: their contents are then not checked")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("paved")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paved", description="Services catalog → hardened platform on AWS, with Pulumi.")
    parser.add_argument("-V", "--version", action="version", version=f"paved {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("plan", help="run the program offline and show the resource plan")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default), json for tools")
    p.add_argument("-o", "--output", metavar="FILE", help="write the plan here instead of standard output")

    p = sub.add_parser("render", help="write the Kubernetes objects as YAML manifests")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder to write the manifests into (created when missing)")

    p = sub.add_parser("check", help="run the policy pack's rules over the offline plan")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("--plan", metavar="FILE", help="check a saved plan document instead of planning")
    p.add_argument("--format", choices=["text", "json", "sarif"], default="text",
                   help="text for people (default), json for tools, sarif for code scanning")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of standard output")

    p = sub.add_parser("cost", help="monthly cost estimate of the plan")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("--plan", metavar="FILE", help="estimate a saved plan document instead of planning")
    p.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default), json for tools")
    p.add_argument("-o", "--output", metavar="FILE", help="write the estimate here instead of standard output")

    p = sub.add_parser("diff", help="what a change does: a git revision's plan against the working tree's")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("--base", required=True, metavar="GIT_REF", help="the revision to compare with (branch, tag or commit)")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                   help="text for people (default), markdown for a pull-request comment, json for tools")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of standard output")
    p.add_argument("--fail-on-destroy", action="store_true",
                   help="exit 1 when a stateful or protected resource would be deleted or replaced")
    p.add_argument("--max-chars", type=int, default=65000, metavar="N",
                   help="markdown: cut the report to N characters (default: 65000, what a GitHub comment holds)")
    p.add_argument("--json-output", metavar="FILE", help="also write the whole report as JSON here (nothing cut)")
    p.add_argument("--json-url", metavar="URL", help="markdown: link the whole report (the JSON) from here")

    p = sub.add_parser("validate", help="check the catalog against every stack")
    _catalog_arg(p)

    p = sub.add_parser("schema", help="print the catalog's JSON Schema")
    p.add_argument("--plan", action="store_true", help="print the plan document's JSON Schema instead")

    p = sub.add_parser("explain", help="a service's effective settings in every environment")
    p.add_argument("service", help="name of the service in the catalog")
    _catalog_arg(p)

    from paved import backstage, charts_cmd, new_service, secrets_cmd, status, verify

    charts_cmd.add_parser(sub)
    secrets_cmd.add_parser(sub, _stack_arg, _catalog_arg)
    new_service.add_parser(sub, _catalog_arg)
    backstage.add_parser(sub, _catalog_arg)
    status.add_parser(sub, _stack_arg, _catalog_arg)
    verify.add_parser(sub, _stack_arg, _catalog_arg)
    return parser


def _root() -> Path:
    from paved.engine import root_dir

    return root_dir()


def _catalog_path(args: argparse.Namespace, root: Path) -> Path:
    path = Path(args.catalog) if args.catalog else root / DEFAULT_CATALOG
    # Messages name the file as the user would type it.
    return Path(os.path.relpath(path)) if path.is_absolute() and path.is_relative_to(Path.cwd()) else path


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_plan(args: argparse.Namespace) -> int:
    from paved import plan

    root = _root()
    doc, _ = plan.build(args.stack, _catalog_path(args, root), root)
    _emit(json.dumps(doc, indent=2, sort_keys=False) + "\n" if args.format == "json" else _noted(plan.text(doc), doc),
          args.output)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from paved import plan, render

    root = _root()
    doc, _ = plan.build(args.stack, _catalog_path(args, root), root)
    written = render.write(doc, Path(args.output))
    print(_noted(f"wrote {len(written)} manifests to {args.output}\n", doc), end="")
    return 0


def _noted(text: str, doc: dict) -> str:
    """Text output of a plan whose charts were not expanded says so."""
    from paved.charts import NOT_CHECKED

    return text if doc.get("chartContents", True) else text + f"note: {NOT_CHECKED}\n"


def _plan_for(args: argparse.Namespace, root: Path) -> dict:
    """The plan document: planned now, or read from ``--plan FILE`` (for the same stack)."""
    from paved import plan

    if not getattr(args, "plan", None):
        return plan.build(args.stack, _catalog_path(args, root), root)[0]
    try:
        data = Path(args.plan).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"--plan {args.plan}: file not found") from None
    except OSError as exc:
        raise UsageError(f"--plan {args.plan}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PavedError(f"{args.plan}: not a plan document: not UTF-8 text (byte {data[exc.start]:#04x} at offset "
                         f"{exc.start})") from None
    doc = plan.read_document(text, args.plan)
    if doc.get("stack") != args.stack:
        raise UsageError(f"--plan {args.plan} is a plan of stack {doc.get('stack')!r}, not {args.stack!r}")
    return doc


def cmd_check(args: argparse.Namespace) -> int:
    from importlib.metadata import version

    from paved import check, sarif
    from paved.stack import stack_file
    from policies.registry import RULES

    root = _root()
    config = check.load_config(root, args.stack, RULES)
    doc = _plan_for(args, root)
    violations = check.run(doc, config, RULES)
    active = sum(check.settings_for(r, config)[0] != "disabled" for r in RULES)
    summ = check.summary(violations, active, sum(1 for r in doc["resources"] if r.get("custom", True)))
    if args.format == "json":
        out = json.dumps({"violations": [v.as_json() for v in violations], "summary": summ}, indent=2) + "\n"
    elif args.format == "sarif":
        log = sarif.report(violations, RULES, _catalog_path(args, root), stack_file(root, args.stack), root, version("paved"))
        out = json.dumps(log, indent=2) + "\n"
    else:
        out = _noted(check.text(violations, summ, args.stack), doc)
    _emit(out, args.output)
    return 0 if summ["passed"] else 1


def cmd_cost(args: argparse.Namespace) -> int:
    from paved import cost

    root = _root()
    doc = _plan_for(args, root)
    est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"] if r.get("custom", True)],
                        table_requests=cost.table_requests(root, args.stack))
    out = (json.dumps(cost.as_json(est, args.stack), indent=2) + "\n" if args.format == "json"
           else _noted(cost.text(est, args.stack), doc))
    _emit(out, args.output)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from paved import diff

    root = _root()
    return diff.run(args, root, _catalog_path(args, root))


def cmd_validate(args: argparse.Namespace) -> int:
    from paved.catalog import load_catalog
    from paved.stack import list_stacks, load_stack

    root = _root()
    issues = []
    environments = {}
    for env in list_stacks(root):
        try:
            environments[env] = load_stack(root, env)
        except InputError as exc:
            issues += exc.issues
            environments[env] = None
    path = _catalog_path(args, root)
    try:
        catalog = load_catalog(path, environments)
    except InputError as exc:
        issues += exc.issues
    if issues:
        raise InputError(issues)
    print(f"{path}: {len(catalog.teams)} teams, {len(catalog.services)} services, valid for stacks: {', '.join(environments)}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from paved.schema import catalog_schema
    from paved.stack import list_stacks

    if getattr(args, "plan", False):
        from paved.plan import plan_schema

        print(json.dumps(plan_schema(), indent=2))
        return 0
    print(json.dumps(catalog_schema(list_stacks(_root())), indent=2))
    return 0


def cmd_charts(args: argparse.Namespace) -> int:
    from paved import charts_cmd

    return charts_cmd.run(args, _root())


def cmd_explain(args: argparse.Namespace) -> int:
    from paved import explain
    from paved.engine import load_inputs
    from paved.stack import list_stacks

    root = _root()
    stacks = list_stacks(root)
    if not stacks:
        raise UsageError(f"no stacks: {root / 'stacks'} holds no Pulumi.<env>.yaml file to explain the service in")
    _, catalog = load_inputs(root, stacks[0], _catalog_path(args, root))
    print(explain.table(catalog, args.service, stacks), end="")
    return 0


def _run_module(module: str) -> Callable[[argparse.Namespace], int]:
    """A command whose module does all the work: ``paved.<module>.run(args, root, catalog)``,
    imported only when that command runs."""

    def command(args: argparse.Namespace) -> int:
        root = _root()
        return importlib.import_module(f"paved.{module}").run(args, root, _catalog_path(args, root))

    return command


cmd_secrets, cmd_new_service, cmd_export = _run_module("secrets_cmd"), _run_module("new_service"), _run_module("backstage")
cmd_status, cmd_verify = _run_module("status"), _run_module("verify")


COMMANDS = {"plan": cmd_plan, "render": cmd_render, "check": cmd_check, "cost": cmd_cost, "diff": cmd_diff, "validate": cmd_validate, "schema": cmd_schema, "explain": cmd_explain, "charts": cmd_charts, "secrets": cmd_secrets,
            "new-service": cmd_new_service, "export": cmd_export,
            "status": cmd_status, "verify": cmd_verify}


# Options that name a folder to write into (created when missing); every other --output and
# --json-output names a file.
FOLDER_OUTPUTS = {("render", "output"), ("export", "output")}


def output_problem(path: Path, folder: bool) -> str | None:
    """Why ``path`` cannot be written (a file, or with ``folder`` a folder to fill), or None.

    Checked before any planning, so a bad target costs no plan run and gives one line.
    """
    if folder:
        if path.exists() and not path.is_dir():
            return "is a file; give a folder (it is created when missing)"
        ancestor = next((p for p in [path, *path.parents] if p.exists()), None)
        if ancestor is not None and not ancestor.is_dir():
            return f"{ancestor} is a file, not a folder"
        return None
    if path.is_dir():
        return "is a folder; give a file name"
    parent = path.parent
    if not parent.exists():
        return f"its folder {parent} does not exist"
    if not parent.is_dir():
        return f"{parent} is a file, not a folder"
    return None


def _check_outputs(args: argparse.Namespace) -> None:
    for attr in ("output", "json_output"):
        value = getattr(args, attr, None)
        if value:
            problem = output_problem(Path(value), (args.command, attr) in FOLDER_OUTPUTS)
            if problem:
                raise UsageError(f"--{attr.replace('_', '-')} {value}: {problem}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``paved`` console script."""
    import signal

    previous = signal.getsignal(signal.SIGINT)
    ours = previous is signal.default_int_handler and threading.current_thread() is threading.main_thread()
    if ours:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C anywhere: one line, the shell's exit code for SIGINT
        print("paved: interrupted", file=sys.stderr)
        return 130
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


def _interrupted(signum: int, frame: Any) -> None:
    # The offline engine's event loop is torn down mid-step; what asyncio logs about the
    # abandoned tasks is noise after Ctrl-C, so it is silenced before the interrupt unwinds.
    import logging

    logging.getLogger("asyncio").disabled = True
    raise KeyboardInterrupt


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if argv is None:  # a real command line: one process, one command
        from paved.engine import tune_gc_for_process

        tune_gc_for_process()
    # --no-charts reaches the engine through the environment, so that `paved diff` also plans
    # its base (in a subprocess, with the base's own code) without charts.
    no_charts = getattr(args, "no_charts", False)
    previous = os.environ.get("PAVED_NO_CHARTS")
    if no_charts:
        os.environ["PAVED_NO_CHARTS"] = "1"
    try:
        _check_outputs(args)
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"paved: error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        print(f"paved: {len(exc.issues)} problem(s) found", file=sys.stderr)
        return 1
    except PavedError as exc:
        print(f"paved: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file that vanished or turned read-only while paved ran: one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"paved: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        if no_charts:
            if previous is None:
                os.environ.pop("PAVED_NO_CHARTS", None)
            else:
                os.environ["PAVED_NO_CHARTS"] = previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
