"""Benchmark the layered layout: a full plan in parallel stacks, and the incremental diff.

    .venv/bin/python benchmarks/bench_layers.py               # N = 100 1000, staging, 1 run each
    .venv/bin/python benchmarks/bench_layers.py 100 --repeat 3

For each N a synthetic catalog (``benchmarks/gen_catalog.py``) is planned in a copy of the
project, each run in a fresh interpreter:

* **single**: ``paved.plan.build`` of the environment as one stack (``paved:layout: single``),
  one process: today's ``paved plan``;
* **layered**: the same environment with ``paved:layout: layered``: the platform stack, then
  the team stacks in ``--jobs`` worker processes (default 2, this machine's cores);
* **diff**: in a git repository of the layered copy, one service's image tag changed, then
  ``paved diff --stack staging --base HEAD`` (the base planned in its own worktree and process,
  as in a pull request, at the same time as the working tree); only the team stacks whose
  input hashes differ are planned. Twice: *cold*, with no platform plan kept from an earlier
  diff (both sides plan the platform), and *warm*, with the one the cold run kept.

Charts are expanded in every run (the render cache, ``PAVED_RENDER_CACHE``, is warm after the
first). Wall time is measured around the child; peak RSS is the child's own
(``RUSAGE_SELF``) and the largest worker's (``RUSAGE_CHILDREN``, which covers the worker
processes the child waited for). Results go to ``docs/benchmarks.md`` between the
``<!-- bench:layers:... -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = "staging"
PROJECT = ("Pulumi.yaml", "stacks", "platform", "components", "paved", "policies", "sample_services", "schemas")

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
from paved import plan
root, catalog, jobs = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
doc, _ = plan.build("%s", catalog, root, jobs=jobs)
json.dumps(doc)
print(json.dumps({"resources": len(doc["resources"]), "stacks": len(doc.get("stacks") or [1]),
                  "work": time.perf_counter() - start,
                  "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
""" % STACK


def _project(tmp: Path, n: int, layout: str) -> tuple[Path, Path]:
    root = tmp / f"{layout}-{n}"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT:
        src = ROOT / name
        shutil.copytree(src, root / name, ignore=ignore) if src.is_dir() else shutil.copy(src, root / name)
    for stack in (root / "stacks").glob("Pulumi.*.yaml"):
        stack.write_text(stack.read_text() + f"  paved:layout: {layout}\n")
    catalog = root / "services_catalog.yaml"
    catalog.write_text(subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_catalog.py"), str(n)],
                                      capture_output=True, text=True, check=True).stdout)
    return root, catalog


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PAVED_CATALOG",)}
    env.update(PAVED_ROOT=str(root), PYTHONPATH=str(root))
    env.setdefault("PAVED_RENDER_CACHE", str(ROOT / ".paved" / "cache"))
    env.setdefault("PAVED_CHART_CACHE", str(ROOT / ".paved" / "charts"))
    if (ROOT / ".tools" / "bin" / "helm").is_file():
        env.setdefault("PAVED_HELM", str(ROOT / ".tools" / "bin" / "helm"))
    return env


def plan_once(root: Path, catalog: Path, jobs: int) -> dict:
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(root), str(catalog), str(jobs)], cwd=root,
                          env=_env(root), capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"plan failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall"] = wall
    return out


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


def diff_once(root: Path, catalog: Path) -> dict:
    """One service's image changed in a committed layered project; paved diff against HEAD."""
    if not (root / ".git").is_dir():
        _git(root, "init", "--quiet")
        _git(root, "add", "-A")
        _git(root, "commit", "--quiet", "-m", "base")
    text = catalog.read_text()
    first = text.index("image: ")
    end = text.index("\n", first)
    catalog.write_text(text[:end] + "-next" + text[end:])
    try:
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "paved", "diff", "--stack", STACK, "--base", "HEAD",
                               "--format", "json", "--output", str(root / "diff.json")], cwd=root, env=_env(root),
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
    finally:
        catalog.write_text(text)
    if done.returncode != 0:
        raise SystemExit(f"diff failed:\n{done.stderr[-3000:]}")
    report = json.loads((root / "diff.json").read_text())
    note = next((n for n in report["notes"] if n.startswith("incremental:")), "full")
    return {"wall": wall, "changes": report["summary"]["update"], "note": note}


def write_results(text: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    doc = path.read_text()
    begin, end = "<!-- bench:layers:begin -->", "<!-- bench:layers:end -->"
    block = f"{begin}\n{text}\n{end}"
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S) if begin in doc \
        else doc.rstrip() + "\n\n## Layered stacks: parallel plans and the incremental diff\n\n" + block + "\n"
    path.write_text(doc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="paved-bench-layers-") as tmp:
        for n in args.sizes:
            single_root, single_cat = _project(Path(tmp), n, "single")
            layered_root, layered_cat = _project(Path(tmp), n, "layered")
            singles, layereds, colds, warms = [], [], [], []
            for _ in range(args.repeat):
                singles.append(plan_once(single_root, single_cat, 1))
                layereds.append(plan_once(layered_root, layered_cat, args.jobs))
                # Cold: no platform plan kept from an earlier diff; warm: the one the cold run kept
                # (.paved/plans, as a CI runner restores it with actions/cache).
                shutil.rmtree(layered_root / ".paved" / "plans", ignore_errors=True)
                colds.append(diff_once(layered_root, layered_cat))
                warms.append(diff_once(layered_root, layered_cat))
            s = statistics.median(r["wall"] for r in singles)
            lay = statistics.median(r["wall"] for r in layereds)
            cold = statistics.median(r["wall"] for r in colds)
            warm = statistics.median(r["wall"] for r in warms)
            row = {"n": n, "resources": layereds[0]["resources"], "stacks": layereds[0]["stacks"], "single": s,
                   "layered": lay, "ratio": lay / s, "rss_single": max(r["rss_self"] for r in singles),
                   "rss_parent": max(r["rss_self"] for r in layereds),
                   "rss_worker": max(r["rss_workers"] for r in layereds), "diff_cold": cold, "diff_warm": warm,
                   "note": warms[0]["note"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Measured {now} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"stack {STACK}, charts expanded, --jobs {args.jobs}, median of {args.repeat} run(s) "
             f"(`benchmarks/bench_layers.py`).", "",
             "| services | resources | stacks | single stack, 1 process | layered, parallel | ratio | peak RSS single "
             "| peak RSS layered parent / largest worker | paved diff, one service changed: cold / warm |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['resources']} | {r['stacks']} | {r['single']:.1f} s | {r['layered']:.1f} s | "
                     f"{r['ratio']:.2f}x | {r['rss_single']:.0f} MB | {r['rss_parent']:.0f} / {r['rss_worker']:.0f} MB | "
                     f"{r['diff_cold']:.1f} / {r['diff_warm']:.1f} s |")
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        lines += ["", f"Growth from {a['n']} to {b['n']} services (x{b['n'] / a['n']:.0f}): layered plan "
                      f"x{b['layered'] / a['layered']:.1f} time, single plan x{b['single'] / a['single']:.1f}."]
    lines += ["", "The diff's own note, at the largest size: " + rows[-1]["note"]]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_results(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
