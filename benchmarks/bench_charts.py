"""Benchmark the dev plan with chart expansion against ``--no-charts``.

    .venv/bin/python benchmarks/bench_charts.py               # 3 runs of each mode, dev stack
    .venv/bin/python benchmarks/bench_charts.py --repeat 1 --no-doc

Each run is ``paved plan --stack dev --format json`` in a fresh interpreter (what a user
runs), alternating three modes:

* **no charts**: ``--no-charts``, the plan as it was before charts were expanded;
* **charts, cold**: an empty render cache (``PAVED_RENDER_CACHE`` set to a new folder), so
  helm renders every chart (twice for charts that read ``.Capabilities.APIVersions``: once to
  find the CRDs, once with them);
* **charts, warm**: the render cache of a previous run, so helm does not run.

Wall time is measured around the child; the medians are printed and written to
``docs/benchmarks.md`` between the ``<!-- charts:... -->`` markers. Target (issue 11): with
charts at most 1.5x the plan without.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
TARGET = 1.5


def _run(extra: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run([sys.executable, "-m", "paved", "plan", "--stack", "dev", "--format", "json",
                               "--output", out.name, *extra], cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"paved plan failed: {proc.stderr}")
        size = Path(out.name).stat().st_size
    return time.perf_counter() - start, size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args()
    base = {**os.environ, "PAVED_ROOT": str(ROOT)}
    shared = ROOT.parent / "shared" / "charts"
    if "PAVED_CHART_CACHE" not in base and shared.is_dir():
        base["PAVED_CHART_CACHE"] = str(shared)
    times: dict[str, list[float]] = {"no charts": [], "charts, cold": [], "charts, warm": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="paved-bench-charts-") as tmp:
        warm = {**base, "PAVED_RENDER_CACHE": f"{tmp}/warm"}
        _run([], warm)  # fills the warm cache
        for i in range(args.repeat):
            for mode in times:
                env = {**base, "PAVED_RENDER_CACHE": f"{tmp}/cold-{i}"} if mode == "charts, cold" else warm
                seconds, size = _run(["--no-charts"] if mode == "no charts" else [], env)
                times[mode].append(seconds)
                sizes[mode] = size
                print(f"run {i + 1} {mode}: {seconds:.2f} s", flush=True)
    med = {m: statistics.median(t) for m, t in times.items()}
    rows = [f"| {m} | {med[m]:.2f} | {min(times[m]):.2f} | {max(times[m]):.2f} | {med[m] / med['no charts']:.2f}x "
            f"| {sizes[m] / 1e6:.1f} |" for m in times]
    ok = med["charts, warm"] / med["no charts"] <= TARGET
    text = "\n".join([
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with `python benchmarks/bench_charts.py "
        f"--repeat {args.repeat}`, stack `dev`, {os.cpu_count()} cores ({platform.machine()}, shared with other "
        "work), each run `paved plan --stack dev --format json` in a fresh process.",
        "",
        "| mode | median s | min s | max s | vs no charts | plan MB |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target (with charts at most {TARGET}x the plan without): warm cache **{'met' if ok else 'not met'}**, "
        f"{med['charts, warm'] / med['no charts']:.2f}x; cold cache {med['charts, cold'] / med['no charts']:.2f}x "
        "(helm renders each chart, twice where the chart reads `.Capabilities.APIVersions`).",
    ])
    print(text)
    if not args.no_doc:
        doc = DOC.read_text(encoding="utf-8")
        block = f"<!-- charts:results:begin -->\n{text}\n<!-- charts:results:end -->"
        if "<!-- charts:results:begin -->" in doc:
            doc = re.sub(r"<!-- charts:results:begin -->.*?<!-- charts:results:end -->", block, doc, flags=re.S)
        else:
            doc = doc.rstrip("\n") + ("\n\n## `paved plan` with chart expansion\n\n`benchmarks/bench_charts.py` "
                                      "plans the dev stack with and without its charts.\n\n" + block + "\n")
        DOC.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
