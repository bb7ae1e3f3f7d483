"""What `paved check` adds to `paved plan` on a large synthetic catalog.

For each N, in a fresh process: plan the synthetic catalog (benchmarks/gen_catalog.py),
then run every rule of the pack over the plan with the stack's config, timing both.
Median of --repeat runs. Target (issue: policy packs): at N = 1000, check adds at most
10% to the plan time.

    .venv/bin/python benchmarks/bench_check.py 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = "staging"

CHILD = r"""
import json, os, sys, time
from pathlib import Path
os.environ["PAVED_ROOT"] = sys.argv[2]
from paved import check, engine, plan
from policies.config import load_config
from policies.registry import RULES
engine.tune_gc_for_process()  # as the `paved` command line does
t0 = time.perf_counter()
doc, _ = plan.build(sys.argv[3], sys.argv[1], Path(sys.argv[2]))
t1 = time.perf_counter()
config = load_config(Path(sys.argv[2]), sys.argv[3], RULES)
violations = check.run(doc, config, RULES)
t2 = time.perf_counter()
print(json.dumps({"plan": t1 - t0, "check": t2 - t1, "resources": sum(1 for r in doc["resources"] if r["custom"]),
                  "violations": len(violations), "mandatory": sum(v.enforcement == "mandatory" for v in violations)}))
"""


def measure(n: int, repeat: int) -> dict:
    """Median plan and check seconds for a catalog of ``n`` services."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from gen_catalog import generate

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Path(tmp) / "catalog.yaml"
        catalog.write_text(generate(n))
        runs = []
        for _ in range(repeat):
            out = subprocess.run([sys.executable, "-c", CHILD, str(catalog), str(ROOT), STACK],
                                 capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    plan_s = statistics.median(r["plan"] for r in runs)
    check_s = statistics.median(r["check"] for r in runs)
    return {"n": n, "resources": runs[0]["resources"], "plan_s": plan_s, "check_s": check_s,
            "ratio": check_s / plan_s, "violations": runs[0]["violations"], "mandatory": runs[0]["mandatory"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| N | resources | plan s | check s | check / plan | violations (mandatory) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        started = time.perf_counter()
        r = measure(n, args.repeat)
        print(f"| {r['n']} | {r['resources']} | {r['plan_s']:.2f} | {r['check_s']:.2f} | {r['ratio']:.1%} | "
              f"{r['violations']} ({r['mandatory']}) |", flush=True)
        print(f"<!-- N={n}: {time.perf_counter() - started:.0f} s wall for {args.repeat} runs -->", flush=True)


if __name__ == "__main__":
    main()
