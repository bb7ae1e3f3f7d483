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
    p.add_argument("-c", "--catalog", default=None, metavar="FILE", help=f"catalog file (default: {DEFAULT_CATALOG})")


def _stack_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-s", "--stack", required=True, metavar="ENV",
                   help="stack name: stacks/Pulumi.<ENV>.yaml (a team stack of a layered environment: ENV.TEAM)")


def _charts_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-charts", action="store_true",
                   help="do not expand the Helm charts with helm: their contents are then not checked")
    _layer_args(p)


def _layer_args(p: argparse.ArgumentParser) -> None:
    """Layered environments (paved:layout: layered): one stack of the environment, and parallelism."""
    which = p.add_mutually_exclusive_group()
    which.add_argument("--team", metavar="TEAM",
                       help="layered layout: only the team's stack (ENV.TEAM); the same as --stack ENV.TEAM")
    which.add_argument("--platform", action="store_true", help="layered layout: only the platform stack (ENV)")
    p.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                   help="layered layout: plan the team stacks in N worker processes (default: one per core)")


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"{n} processes: choose 1 to 64")
    return n


def _build(args: argparse.Namespace, root: Path, with_platform: bool = False) -> dict:
    """The plan document of ``--stack`` (and ``--team``/``--platform``, ``--jobs``), with a progress
    line on a terminal (planning takes seconds); with ``with_platform``, a team's plan carries its
    platform stack's resources as context."""
    from paved import layered, plan
    from paved.term import progress

    only = "platform" if getattr(args, "platform", False) else getattr(args, "team", None)
    jobs = getattr(args, "jobs", None) or layered.default_jobs()
    with progress(f"planning stack {args.stack}"):
        return plan.build(args.stack, _catalog_path(args, root), root, jobs=jobs, only=only,
                          with_platform=with_platform, teams=getattr(args, "only_teams", None))[0]


def _environment(args: argparse.Namespace) -> str:
    """The environment of ``--stack`` (``prod`` for ``prod`` and for ``prod.checkout``)."""
    from paved.layers import split_stack

    return split_stack(args.stack)[0]


def _team_of(args: argparse.Namespace) -> str | None:
    """The one team stack a command is about (``--team T`` or ``--stack ENV.TEAM``), if any."""
    from paved.layers import split_stack

    return getattr(args, "team", None) or split_stack(args.stack)[1]


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
    p.add_argument("--only-teams", metavar="T1,T2", type=lambda v: {t for t in v.split(",") if t},
                   help="layered layout: the platform stack and only these team stacks (what paved diff plans "
                        "when the other stacks' inputs are unchanged)")

    p = sub.add_parser("render", help="write the Kubernetes objects as YAML manifests")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder to write the manifests into: new or empty, or one an earlier render wrote "
                   "(the files it no longer produces are removed)")

    p = sub.add_parser("check", help="run the policy pack's rules over the offline plan")
    _stack_arg(p)
    _catalog_arg(p)
    _charts_arg(p)
    p.add_argument("--plan", metavar="FILE", help="check a saved plan document instead of planning")
    p.add_argument("--format", choices=["text", "json", "sarif"], default="text",
                   help="text for people (default: one line per rule, the first findings), json for tools, "
                   "sarif for code scanning (json and sarif list every finding)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of standard output")
    p.add_argument("--min-enforcement", choices=["advisory", "mandatory"], default="advisory",
                   help="report only findings at this enforcement or above (default: advisory, i.e. all); "
                   "the exit code still counts every mandatory one")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="text: list every finding of each rule with its resource URN")

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
    p.add_argument("--full", action="store_true",
                   help="layered layout: plan every stack on both sides, not only those whose inputs changed")
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
    p.add_argument("--format", choices=["text", "json"], default="text", help="text for people (default), json for tools")

    from paved import backstage, charts_cmd, new_service, secrets_cmd, migrate, stacks_cmd, status, verify

    charts_cmd.add_parser(sub)
    secrets_cmd.add_parser(sub, _stack_arg, _catalog_arg)
    new_service.add_parser(sub, _catalog_arg)
    backstage.add_parser(sub, _catalog_arg)
    status.add_parser(sub, _stack_arg, _catalog_arg)
    verify.add_parser(sub, _stack_arg, _catalog_arg)
    migrate.add_parser(sub, _stack_arg, _catalog_arg)
    stacks_cmd.add_parser(sub, _catalog_arg)
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
    from paved.term import width

    doc = _build(args, _root())
    text = (json.dumps(doc, indent=2, sort_keys=False) + "\n" if args.format == "json"
            else _noted(plan.text(doc, None if args.output else width()), doc))
    _emit(text, args.output)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from paved import render

    root = _root()
    render.previous_files(Path(args.output))  # a folder it may not fill is refused before planning
    doc = _build(args, root)
    written = render.write(doc, Path(args.output))
    print(_noted(f"wrote {len(written)} manifests to {args.output}\n", doc), end="")
    return 0


def _noted(text: str, doc: dict) -> str:
    """Text output of a plan whose charts were not expanded says so."""
    from paved.charts import NOT_CHECKED

    return text if doc.get("chartContents", True) else text + f"note: {NOT_CHECKED}\n"


def _plan_for(args: argparse.Namespace, root: Path, with_platform: bool = False) -> dict:
    """The plan document: planned now, or read from ``--plan FILE`` (for the same stack)."""
    from paved import plan

    if not getattr(args, "plan", None):
        return _build(args, root, with_platform)
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
    env = _environment(args)
    config = check.load_config(root, env, RULES)
    # One team's stack is checked with its platform stack beside it, as it is deployed: rules see
    # the controllers and CRDs a lower layer installs; only the team's findings are reported.
    team = _team_of(args)
    doc = _plan_for(args, root, with_platform=team is not None)
    violations = check.run(doc, config, RULES)
    if team is not None and doc.get("layout") == "layered":
        team_stack = f"{env}.{team}"
        violations = [v for v in violations if v.urn is None or v.urn.startswith(f"urn:pulumi:{team_stack}::")]
        doc = {**doc, "resources": [r for r in doc["resources"] if r.get("stack") == team_stack]}
    active = sum(check.settings_for(r, config)[0] != "disabled" for r in RULES)
    summ = check.summary(violations, active, sum(1 for r in doc["resources"] if r.get("custom", True)))
    reported = check.at_least(violations, args.min_enforcement)
    if args.format == "json":
        out = json.dumps(check.as_json(violations, summ, args.stack, args.min_enforcement), indent=2) + "\n"
    elif args.format == "sarif":
        log = sarif.report(reported, RULES, _catalog_path(args, root), stack_file(root, env), root, version("paved"))
        out = json.dumps(log, indent=2) + "\n"
    else:
        out = _noted(check.text(violations, summ, args.stack, verbose=args.verbose,
                                min_enforcement=args.min_enforcement), doc)
    _emit(out, args.output)
    return 0 if summ["passed"] else 1


def cmd_cost(args: argparse.Namespace) -> int:
    from paved import cost

    root = _root()
    doc = _plan_for(args, root)
    # An unlisted instance type is "not priced" here (the budget rules still refuse it).
    est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"] if r.get("custom", True)],
                        strict=False, table_requests=cost.table_requests(root, _environment(args)))
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
    if getattr(args, "format", "text") == "json":
        print(json.dumps(explain.as_json(catalog, args.service, stacks), indent=2))
    else:
        from paved.term import width

        print(explain.table(catalog, args.service, stacks, width()), end="")
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
cmd_migrate, cmd_stacks = _run_module("migrate"), _run_module("stacks_cmd")


COMMANDS = {"plan": cmd_plan, "render": cmd_render, "check": cmd_check, "cost": cmd_cost, "diff": cmd_diff, "validate": cmd_validate, "schema": cmd_schema, "explain": cmd_explain, "charts": cmd_charts, "secrets": cmd_secrets,
            "new-service": cmd_new_service, "export": cmd_export,
            "status": cmd_status, "verify": cmd_verify, "migrate-layout": cmd_migrate, "stacks": cmd_stacks}


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


# Set on a real command line (main without argv): Ctrl-C may then end the process outright.
_WHOLE_PROCESS = False
# "paved: interrupted" is said once, by whichever of the unwinding and the timer gets there first.
_announced = threading.Event()
# Seconds after Ctrl-C before the process ends anyway: the Pulumi SDK runs code that catches
# every exception, KeyboardInterrupt too (its source-position lookup, for every resource), so
# an interrupt that lands there is swallowed and the plan would go on to its end.
INTERRUPT_GRACE_SECONDS = 3.0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``paved`` console script."""
    global _WHOLE_PROCESS
    _WHOLE_PROCESS = argv is None
    _announced.clear()
    code = _guarded(argv)
    if argv is None:  # a real command line: the process ends here
        # Tearing the interpreter down frees a plan's objects one by one, seconds at 1,000
        # services; the operating system takes the memory back at once. Every file paved
        # writes is closed by then; the standard streams are flushed here.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code if isinstance(code, int) else 1)
    return code


def _guarded(argv: list[str] | None) -> int:
    import signal

    previous = signal.getsignal(signal.SIGINT)
    ours = previous is signal.default_int_handler and threading.current_thread() is threading.main_thread()
    if ours:
        signal.signal(signal.SIGINT, _interrupted)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C anywhere: one line, the shell's exit code for SIGINT
        _announce_interrupt()
        return 130
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


def _interrupted(signum: int, frame: Any) -> None:
    # The offline engine's event loop is torn down mid-step; what asyncio logs about the
    # abandoned tasks is noise after Ctrl-C, so it is silenced before the interrupt unwinds.
    import logging

    logging.getLogger("asyncio").disabled = True
    if _WHOLE_PROCESS:
        timer = threading.Timer(INTERRUPT_GRACE_SECONDS, _end_interrupted)
        timer.daemon = True
        timer.start()
    raise KeyboardInterrupt


def _announce_interrupt() -> None:
    if not _announced.is_set():
        _announced.set()
        print("paved: interrupted", file=sys.stderr, flush=True)


def _end_interrupted() -> None:
    """The interrupt did not end the command in time (something caught it): end the process."""
    _announce_interrupt()
    os._exit(130)


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
