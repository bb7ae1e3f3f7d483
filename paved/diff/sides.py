"""Planning the two sides of a diff: the base in a temporary git worktree, the working tree.

The base revision is planned with its own code, catalog, stack settings and policy pack: it
is checked out into a temporary ``git worktree`` and ``paved plan`` / ``check`` / ``cost``
run there, in a subprocess whose imports resolve to the worktree (the libraries come from
the current interpreter). The working tree is planned in this process when this process
runs its code, else the same way as the base; the two sides are planned at the same time
(the base's subprocess runs while this process plans the working tree).

Imports: this is the one module of the diff package that runs the policy rules (through
``policies.registry``, imported where the rules run) and the plan; a commands-layer module
may import every layer.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from paved import cost
from paved.errors import PavedError, UsageError


@dataclass
class Side:
    """One side of the comparison: its plan, policy violations and cost estimate."""

    ref: str
    commit: str | None
    doc: dict[str, Any]
    violations: list[dict[str, Any]]
    cost: dict[str, Any] | None
    dirty: bool = False
    notes: list[str] = field(default_factory=list)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=300)
    except FileNotFoundError:
        raise PavedError("paved diff needs git, which is not installed") from None


def _tail(text: str, lines: int = 25) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return "\n  ".join(kept) if kept else "(no output)"


def repository(root: Path) -> Path:
    """The top of the git repository holding ``root``; PavedError outside one."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise PavedError(f"{root} is not in a git repository: paved diff compares git revisions ({top.stderr.strip()})")
    return Path(top.stdout.strip()).resolve()


def resolve_commit(root: Path, ref: str) -> str:
    """The commit ``ref`` names; UsageError naming the ref when it names none."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a git revision")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise UsageError(f"--base {ref}: no such commit, branch or tag in {repository(root)} "
                         "(in CI, fetch it first: actions/checkout with fetch-depth: 0)")
    return found.stdout.strip()


def head_state(root: Path) -> tuple[str | None, bool]:
    """(HEAD commit or None in a repository without commits, uncommitted changes under root)."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    status = _git(root, "status", "--porcelain", "--", ".")
    return (commit.stdout.strip() or None) if commit.returncode == 0 else None, bool(status.stdout.strip())


# Runs in the base's worktree with the base's code: its plan, then its own check and cost
# of that plan. An editable install of the working tree registers an import hook that would
# otherwise answer for paved/components/policies; it is dropped so the base's files answer.
_BOOTSTRAP = r"""
import json, sys
from pathlib import Path
root, out, stack, catalog = Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
# "-": plan every stack; else the team stacks to plan (comma-separated), with the platform.
# "?": first print the base's stack keys (one JSON line), then read that answer from stdin.
answer = sys.argv[5] if len(sys.argv) > 5 else "-"
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__name__", type(f).__name__).lower()]
sys.path.insert(0, str(root))
try:
    import paved.cli
except ImportError as exc:
    print(f"the base has no importable paved package: {exc}", file=sys.stderr)
    sys.exit(3)
if not Path(paved.cli.__file__).resolve().is_relative_to(root):
    print(f"the base has no paved package (paved came from {paved.cli.__file__})", file=sys.stderr)
    sys.exit(3)

def call(argv):
    try:
        return paved.cli.main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2

if answer == "?":
    import os
    try:
        from paved.layered import stack_keys
        keys = stack_keys(root, stack, catalog or None)
    except Exception:  # the base's inputs do not load: it is planned in full and reports why
        keys = None
    sys.stdout.write(json.dumps(keys) + "\n")
    sys.stdout.flush()
    os.dup2(2, 1)  # whatever else is printed goes with the errors, not into the answer's pipe
    answer = sys.stdin.readline().strip() or "-"
    # Asked for its keys only when it runs the working tree's code: it plans the way the working
    # tree does, in this process, without writing the plan out and reading it back per command.
    from paved.diff.sides import write_side
    write_side(root, out, stack, catalog, None if answer == "-" else {t for t in answer.split(",") if t})
    os._exit(0)  # no teardown of the plan's objects (seconds at 1,000 services)
only = [f"--only-teams={answer}"] if answer != "-" else []
cat = ["--catalog", catalog] if catalog else []
codes = {"plan": call(["plan", "--stack", stack, *cat, *only, "--format", "json", "--output", str(out / "plan.json")])}
if codes["plan"] == 0:
    for cmd in ("check", "cost"):
        codes[cmd] = call([cmd, "--stack", stack, *cat, "--plan", str(out / "plan.json"), "--format", "json",
                           "--output", str(out / f"{cmd}.json")])
(out / "codes.json").write_text(json.dumps(codes))
"""

_BASE_CACHE: dict[tuple[str, str, str, str, Any], Side] = {}
# Seconds a side may take before it is stopped.
SIDE_TIMEOUT = 1800


def _copy(side: Side, ref: str, commit: str) -> Side:
    return Side(ref, commit, side.doc, side.violations, side.cost, notes=list(side.notes))


def plan_sides(root: Path, ref: str, stack: str, catalog_rel: str | None, catalog_path: str | Path,
               incremental: Any = None) -> tuple[Side, Side]:
    """Plan ``ref`` (with its own code, in a temporary worktree and a subprocess) and the working
    tree (:func:`plan_head`) at the same time: the base's subprocess runs while the working tree
    is planned here.

    ``incremental`` (``paved.diff.Incremental``), when given and when both sides run the same
    code, chooses the team stacks to plan from both sides' stack keys: the base's subprocess
    prints its keys, this process computes its own meanwhile and answers with the teams. A
    commit is immutable, so the base's result is kept for the life of the process. PavedError
    when the checkout is not clean, holds no paved project, or does not plan.
    """
    root = root.resolve()
    top = repository(root)
    commit = resolve_commit(root, ref)
    rel = root.relative_to(top).as_posix() if root != top else "."
    full_key = (commit, stack, rel, catalog_rel or "", None)  # None: every stack planned
    if incremental is None and full_key in _BASE_CACHE:
        return _copy(_BASE_CACHE[full_key], ref, commit), plan_head(root, stack, catalog_path)
    with base_checkout(root, ref, commit) as (base_root, tmp):
        if not (base_root / "stacks" / f"Pulumi.{stack}.yaml").is_file():
            doc = {"version": 1, "project": "paved", "stack": stack, "resources": [], "outputs": {}}
            base = Side(ref, commit, doc, [], None, notes=[f"stack {stack} does not exist at the base: every resource is new"])
            return base, plan_head(root, stack, catalog_path)
        code = incremental.same_code(base_root) if incremental is not None else None
        catalog = str(base_root / catalog_rel) if catalog_rel else ""
        run = _SideRun(base_root, tmp, f"--base {ref} ({commit[:12]})", stack, catalog,
                       "?" if code is not None else "-")
        try:
            teams = None
            if code is not None:
                teams = incremental.decide(incremental.head_keys(code), run.keys())
                run.answer(teams)
            head = plan_head(root, stack, catalog_path, teams=teams)
            base = run.finish()
        finally:
            run.stop()
    base.ref, base.commit = ref, commit
    _BASE_CACHE[(commit, stack, rel, catalog_rel or "", None if teams is None else frozenset(teams))] = base
    return _copy(base, ref, commit), head


@contextlib.contextmanager
def base_checkout(root: Path, ref: str, commit: str | None = None) -> Iterator[tuple[Path, Path]]:
    """``ref`` checked out in a temporary worktree: (the project's folder in it, a scratch folder),
    removed afterwards. PavedError when it cannot be checked out, is dirty once checked out (a
    checkout filter rewrote files), or holds no paved project."""
    root = root.resolve()
    top = repository(root)
    commit = commit or resolve_commit(root, ref)
    rel = root.relative_to(top).as_posix() if root != top else "."
    short = commit[:12]
    tmp = Path(tempfile.mkdtemp(prefix="paved-diff-"))
    worktree = tmp / "base"
    try:
        added = _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        if added.returncode != 0:
            raise PavedError(f"--base {ref} ({short}): could not check it out into a temporary worktree:\n  "
                             f"{_tail(added.stderr)}")
        dirty = _dirty_paths(worktree, rel)
        if dirty:
            raise PavedError(f"--base {ref} ({short}) is dirty once checked out: {len(dirty)} path(s) differ from the commit "
                             f"(first: {dirty[0]}); a checkout filter or .gitattributes rewrites them, so what would be "
                             "planned is not what was committed")
        base_root = worktree / rel
        if not (base_root / "Pulumi.yaml").is_file() or not (base_root / "platform" / "__main__.py").is_file():
            raise PavedError(f"--base {ref} ({short}) holds no paved project at {rel}: "
                             "Pulumi.yaml or platform/__main__.py is missing")
        yield base_root, tmp
    finally:
        _git(top, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(tmp, ignore_errors=True)
        _git(top, "worktree", "prune")


def _dirty_paths(worktree: Path, rel: str) -> list[str]:
    """Paths of a fresh checkout whose content is not the commit's. Files are cleaned and
    hashed again (git trusts its stat cache right after a checkout), in the temporary
    worktree's own index."""
    _git(worktree, "add", "--renormalize", "--", rel)
    changed = _git(worktree, "diff", "--cached", "--name-only", "HEAD", "--", rel).stdout.splitlines()
    status = _git(worktree, "status", "--porcelain", "--untracked-files=all", "--", rel).stdout.splitlines()
    return [*changed, *(line[3:] for line in status if line.startswith("??"))]


class _SideRun:
    """One side planned, checked and costed with its own code, in a subprocess (see _BOOTSTRAP).

    ``answer`` "-" plans every stack, a comma-separated list those team stacks, and "?" asks the
    side for its stack keys first (:meth:`keys`), then for the teams (:meth:`answer`). Its
    errors go to a file, not a pipe, so a talkative side cannot fill a pipe and stall.
    """

    def __init__(self, project: Path, out: Path, who: str, stack: str, catalog: str, answer: str) -> None:
        self.out, self.who, self.stack = out, who, stack
        env = {k: v for k, v in os.environ.items() if k not in ("PAVED_CATALOG", "PYTHONPATH")}
        env.update(PAVED_ROOT=str(project), PYTHONPATH=str(project), PYTHONDONTWRITEBYTECODE="1")
        self.errors = (out / "stderr.txt").open("w+", encoding="utf-8")
        talk = answer == "?"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, str(project), str(out), stack, catalog, answer], cwd=project, env=env,
            stdin=subprocess.PIPE if talk else subprocess.DEVNULL, stdout=subprocess.PIPE if talk else self.errors,
            stderr=self.errors, text=True)

    def keys(self) -> dict[str, str] | None:
        """The side's stack keys (None when its inputs do not load, or it stopped)."""
        try:
            keys = json.loads(self.proc.stdout.readline() or "null")
        except ValueError:
            return None
        return keys if isinstance(keys, dict) else None

    def answer(self, teams: set[str] | None) -> None:
        try:
            self.proc.stdin.write(("-" if teams is None else ",".join(sorted(teams))) + "\n")
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # it stopped: finish() reports why

    def finish(self) -> Side:
        try:
            code = self.proc.wait(timeout=SIDE_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise PavedError(f"{self.who}: planning stack {self.stack} took over {SIDE_TIMEOUT // 60} minutes; "
                             "stopped") from None
        self.errors.seek(0)
        return _side_result(self.out, self.who, self.stack, code, self.errors.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.errors.close()


def _run_side(project: Path, out: Path, who: str, stack: str, catalog: str, teams: set[str] | None = None) -> Side:
    """Plan, check and cost ``project`` with its own code, in a subprocess; ``who`` names it in errors."""
    run = _SideRun(project, out, who, stack, catalog, "-" if teams is None else ",".join(sorted(teams)))
    try:
        return run.finish()
    finally:
        run.stop()


def _side_result(out: Path, who: str, stack: str, returncode: int, stderr: str) -> Side:
    """What a side's subprocess left in ``out``: its plan, violations and cost."""
    codes_file = out / "codes.json"
    if returncode == 3:
        raise PavedError(f"{who} cannot be planned by paved diff: {_tail(stderr, 3)}")
    if returncode != 0 or not codes_file.is_file():
        raise PavedError(f"{who} does not plan for stack {stack} (its own code failed):\n  {_tail(stderr)}")
    codes = json.loads(codes_file.read_text())
    if codes.get("plan") != 0:
        raise PavedError(f"{who} does not plan for stack {stack} (`paved plan` exited {codes.get('plan')}):\n  "
                         f"{_tail(stderr)}")
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    side = Side("", None, doc, [], None)
    if codes.get("check") in (0, 1) and (out / "check.json").is_file():
        side.violations = json.loads((out / "check.json").read_text(encoding="utf-8"))["violations"]
    else:
        side.violations = None  # type: ignore[assignment]  # filled by the working tree's pack
        side.notes.append(f"the own `paved check` of {who} did not run (exit {codes.get('check')}): its violations "
                          "were computed with the working tree's policy pack and config")
    if codes.get("cost") == 0 and (out / "cost.json").is_file():
        side.cost = json.loads((out / "cost.json").read_text(encoding="utf-8"))
    else:
        side.notes.append(f"the own `paved cost` of {who} did not run (exit {codes.get('cost')}): its cost was "
                          "estimated with the working tree's price file")
        side.cost = {}  # estimated by the working tree below
    return side


def _estimate(doc: dict[str, Any], root: Path, stack: str) -> tuple[dict[str, Any] | None, str | None]:
    """What `paved cost --format json` gives for ``doc``: unpriced types listed, the stack's
    assumed table traffic (paved:data.requests)."""
    from paved.layers import split_stack

    try:
        est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"] if r.get("custom", True)],
                            strict=False, table_requests=cost.table_requests(root, split_stack(stack)[0]))
    except (cost.CostError, PavedError) as exc:
        return None, f"no cost estimate: {exc}"
    return cost.as_json(est, stack), None


_CODE = ("paved", "components", "policies")


def _digest(folder: Path) -> str:
    from paved.layered import tree_digest

    return tree_digest(folder)


def runs_own_code(root: Path) -> bool:
    """Whether this process's paved, components and policies are ``root``'s (the same folder,
    or the same files): then the working tree can be planned in this process."""
    for name in _CODE:
        # find_spec locates a package without importing it: asking where components comes
        # from must not load it (the engine does, when it runs the program).
        spec = importlib.util.find_spec(name)
        found = spec.origin if spec else None
        if not found:  # not importable, or a namespace package: some other folder of that name answered
            return False
        here = Path(found).resolve().parent
        there = (root / name).resolve()
        if here != there and (not there.is_dir() or _digest(here) != _digest(there)):
            return False
    return True


def plan_head(root: Path, stack: str, catalog_path: str | Path, teams: set[str] | None = None) -> Side:
    """Plan the working tree with its own code, policy pack and price file: in this process
    when this process runs that code (the usual case), else in a subprocess like the base."""
    commit, dirty = head_state(root)
    if not runs_own_code(root):
        with tempfile.TemporaryDirectory(prefix="paved-diff-") as tmp:
            side = _run_side(root, Path(tmp), "the working tree", stack, str(Path(catalog_path).resolve()), teams)
        side.ref, side.commit, side.dirty = "working tree", commit, dirty
        return side
    doc, violations, est, problem = plan_here(root, stack, catalog_path, teams)
    return Side("working tree", commit, doc, violations, est, dirty=dirty, notes=[problem] if problem else [])


def plan_here(root: Path, stack: str, catalog_path: str | Path | None,
              teams: set[str] | None) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None, str | None]:
    """``root``'s plan, violations and cost estimate (or the reason there is none), in this process."""
    from paved import plan

    doc, _ = plan.build(stack, catalog_path, root, teams=teams)
    est, problem = _estimate(doc, root, stack)
    return doc, _violations(doc, root, stack), est, problem


def write_side(root: Path, out: Path, stack: str, catalog: str, teams: set[str] | None) -> None:
    """A side planned in this process (a base that runs the working tree's code), written where
    :func:`_side_result` reads it, as `paved plan`, `check` and `cost` would have written it."""
    try:
        doc, violations, est, _ = plan_here(root, stack, catalog or None, teams)
    except PavedError as exc:
        print(f"paved: {exc}", file=sys.stderr)
        codes = {"plan": 1}
    else:
        (out / "plan.json").write_text(json.dumps(doc), encoding="utf-8")
        (out / "check.json").write_text(json.dumps({"violations": violations}), encoding="utf-8")
        codes = {"plan": 0, "check": 0}
        if est is not None:
            (out / "cost.json").write_text(json.dumps(est), encoding="utf-8")
        codes["cost"] = 0 if est is not None else 1
    (out / "codes.json").write_text(json.dumps(codes), encoding="utf-8")


def _violations(doc: dict[str, Any], root: Path, stack: str) -> list[dict[str, Any]]:
    """``doc``'s violations under this process's policy pack and ``root``'s config."""
    from paved import check
    from policies.registry import RULES  # a higher layer: allowed, diff is a command

    return [v.as_json() for v in check.run(doc, check.load_config(root, stack, RULES), RULES)]


def complete(side: Side, root: Path, stack: str) -> list[str]:
    """Fill in the violations and cost that ``side``'s own code did not compute, with the
    working tree's policy pack and price file; the notes saying what could not be estimated."""
    if side.violations is None:
        side.violations = _violations(side.doc, root, stack)
    if side.cost == {}:
        side.cost, problem = _estimate(side.doc, root, stack)
        return [problem] if problem else []
    return []

