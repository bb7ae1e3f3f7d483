"""Benchmark ``paved plan`` against bare Pulumi SDK calls under the same mocks.

    .venv/bin/python benchmarks/bench_plan.py                 # N = 100 500 1000, staging, 3 runs each
    .venv/bin/python benchmarks/bench_plan.py 100 --repeat 1  # quick look
    .venv/bin/python benchmarks/bench_plan.py --profile       # also cProfile paved and the baseline at max N

For each N a synthetic catalog is generated (``benchmarks/gen_catalog.py``) and two programs
run, each in its own fresh interpreter, alternating, ``--repeat`` times:

* **paved**: ``paved.plan.build(stack, catalog, root)`` and ``json.dumps(doc, indent=2)``:
  what ``paved plan --format json`` does (catalog validation, the Pulumi program with its
  components under mocks, the Kubernetes schema and provider input checks, the document).
* **baseline**: the same resources (same types, names, inputs, parents, providers and
  dependsOn) registered with bare ``pulumi_kubernetes`` resource classes and plain
  ``pulumi.ComponentResource``s under the same kind of mocks, replayed from the plan paved
  produced. No catalog, no components' code, no checks. The child verifies afterwards that
  its mocks received exactly the inputs paved's did.

Wall time is measured by this process around the child (interpreter start, imports and
work); peak RSS is the child's ``ru_maxrss`` from ``os.wait4``. Each child also reports its
own phase times, so the time excluding interpreter start and imports is shown separately.
The medians are printed and written to ``docs/benchmarks.md`` between the
``<!-- bench:... -->`` markers (text outside them is left alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

T_START = time.perf_counter()  # before any heavy import, for the child's import time

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable
TARGET_RATIO = 1.3
TARGET_RSS_MB = 1536


# --- children ---------------------------------------------------------------------------------


class GcTimer:
    """Time spent in the cyclic garbage collector (``gc.callbacks``), per child."""

    def __init__(self) -> None:
        import gc

        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections[info["generation"]] += 1


def _rss_mb_self() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_paved(catalog: str, stack: str, plan_out: str | None, profile_out: str | None) -> dict:
    """``paved plan --format json`` minus the terminal: build the plan and serialise it."""
    gc_timer = GcTimer()
    sys.path.insert(0, str(ROOT))
    from paved import catalog as paved_catalog
    from paved import engine, plan

    engine.tune_gc_for_process()  # as `paved plan` does (paved.cli.main)
    t_imported = time.perf_counter()

    # Phase timers: wrap module attributes (looked up at call time), so paved is unchanged.
    phases: dict[str, float] = {}

    def timed(module, attr, key):
        original = getattr(module, attr)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[key] = phases.get(key, 0.0) + time.perf_counter() - t

        setattr(module, attr, wrapper)

    if profile_out is None:
        timed(engine, "load_inputs", "engine_load_inputs")
        timed(paved_catalog, "load_catalog", "program_load_catalog")  # what platform/__main__ calls
        timed(engine, "run", "engine_run")
        timed(plan, "check", "check")
        timed(plan, "document", "document")

    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    doc, result = plan.build(stack, catalog, ROOT)
    t_built = time.perf_counter()
    text = json.dumps(doc, indent=2, sort_keys=False) + "\n"
    t_done = time.perf_counter()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_out)
    if plan_out:
        Path(plan_out).write_text(text, encoding="utf-8")
        # The SDK class of each custom resource type, for the baseline's replay.
        classes = {
            rec.type: [type(rec.resource).__module__, type(rec.resource).__qualname__]
            for rec in result.resources if rec.custom and rec.resource is not None
        }
        Path(plan_out + ".classes.json").write_text(json.dumps(classes), encoding="utf-8")
    resources = doc["resources"]
    return {
        "import_s": t_imported - T_START,
        "work_s": t_done - t_imported,
        "build_s": t_built - t_imported,
        "dumps_s": t_done - t_built,
        "phases": phases,
        "custom": sum(1 for r in resources if r["custom"]),
        "components": sum(1 for r in resources if not r["custom"]),
        "json_mb": len(text) / 1e6,
        "gc_s": gc_timer.seconds,
        "gc_collections": gc_timer.collections,
        "rss_mb": _rss_mb_self(),
    }


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(key: str) -> str:
    return _SNAKE.sub("_", key).lower()


def _clean(value):
    """Normalise as the plan document does: integral floats (the mocks' numbers) → int."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_STR_INPUT = re.compile(r"^(pulumi\.Input\[)?(Optional\[)?(_builtins\.|builtins\.)?str\]*$")


def _is_str_input(annotation) -> bool:
    """``pulumi.Input[Optional[str]]`` (evaluated or as text): a provider input sent as is."""
    import collections.abc
    import typing

    if annotation is str:
        return True
    if isinstance(annotation, str):
        return bool(_STR_INPUT.match(annotation.replace("'", "")))
    members = [
        a for a in typing.get_args(annotation)
        if a is not type(None) and not isinstance(a, typing.ForwardRef)
        and typing.get_origin(a) is not collections.abc.Awaitable
    ]
    return bool(members) and all(_is_str_input(m) for m in members)


def child_baseline(spec_file: str, stack: str, profile_out: str | None) -> dict:
    """Register the spec's resources with bare SDK calls under mocks, then verify the inputs."""
    gc_timer = GcTimer()
    import importlib
    import inspect

    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks

    t_imported = time.perf_counter()
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    t_loaded = time.perf_counter()

    class Mocks(pulumi.runtime.Mocks):
        def __init__(self):
            self.seen = []

        def new_resource(self, args):
            self.seen.append((args.typ, args.name, bool(args.custom), args.inputs, args.provider))
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args):
            return {}, None

    classes: dict[str, tuple[type, set[str], set[str]]] = {}

    def sdk_class(type_token: str) -> tuple[type, set[str], set[str]]:
        """The SDK class paved used for this type (e.g. pulumi_kubernetes.apps.v1.Deployment)."""
        found = classes.get(type_token)
        if found is None:
            module, qualname = spec["classes"][type_token]
            cls = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            params = inspect.signature(cls._internal_init).parameters
            # A provider SDK JSON-encodes its non-string inputs (``to_json``); the replay
            # decodes those (and only those) back to values.
            encoded = {
                name for name, param in params.items()
                if type_token.startswith("pulumi:providers:")
                and not _is_str_input(param.annotation)
            }
            found = classes[type_token] = (cls, set(params), encoded)
        return found

    def kwarg(key: str, params: set[str], type_token: str) -> str:
        """Engine (camelCase) input name → the constructor's keyword (snake_case)."""
        for name in (_snake(key), _snake(key) + "_", key):
            if name in params:
                return name
        raise SystemExit(f"baseline: no keyword for input {key!r} of {type_token}")

    mocks = Mocks()
    pulumi_mocks.set_mocks(mocks, project="paved", stack=stack, preview=False)
    pulumi.runtime.set_all_config(spec["config"])

    def program():
        objs: list = []
        for r in spec["resources"]:
            opts = pulumi.ResourceOptions(
                parent=objs[r["parent"]] if r["parent"] is not None else None,
                provider=objs[r["provider"]] if r["provider"] is not None else None,
                depends_on=[objs[i] for i in r["dependsOn"]] or None,
                protect=r["protect"] or None,
                retain_on_delete=r["retainOnDelete"] or None,
                ignore_changes=r["ignoreChanges"] or None,
            )
            if r["custom"]:
                cls, params, encoded = sdk_class(r["type"])
                kwargs = {kwarg(k, params, r["type"]): v for k, v in r["inputs"].items()}
                for k in encoded & kwargs.keys():
                    kwargs[k] = json.loads(kwargs[k])
                objs.append(cls(r["name"], opts=opts, **kwargs))
            else:
                comp = pulumi.ComponentResource(r["type"], r["name"], None, opts)
                objs.append(comp)
        for comp in objs:
            if isinstance(comp, pulumi.ComponentResource) and not isinstance(comp, pulumi.CustomResource):
                comp.register_outputs({})
        for key, value in spec["outputs"].items():
            pulumi.export(key, value)

    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    pulumi_mocks.test(program)()
    t_done = time.perf_counter()
    gc_s, gc_collections = gc_timer.seconds, list(gc_timer.collections)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile_out)
    rss = _rss_mb_self()

    # Verification, after the clock stopped: same resources, same inputs, same providers.
    want = {(r["type"], r["name"]): r for r in spec["resources"]}
    mismatches = []
    got_custom = got_components = 0
    for typ, name, custom, inputs, provider in mocks.seen:
        r = want.get((typ, name))
        got_custom += custom
        got_components += not custom
        if r is None:
            mismatches.append(f"unexpected {typ} {name}")
            continue
        if custom and _clean(inputs) != r["inputs"]:
            mismatches.append(f"inputs differ for {typ} {name}")
        prov = provider.rsplit("::", 1)[0] if provider else None
        if custom and prov != r["providerUrn"]:
            mismatches.append(f"provider differs for {typ} {name}: {prov} != {r['providerUrn']}")
    return {
        "import_s": t_imported - T_START,
        "load_spec_s": t_loaded - t_imported,
        "work_s": t_done - t_loaded,
        "custom": got_custom,
        "components": got_components,
        "mismatches": mismatches[:10],
        "n_mismatches": len(mismatches),
        "gc_s": gc_s,
        "gc_collections": gc_collections,
        "rss_mb": rss,
    }


# --- the parent ------------------------------------------------------------------------------


def run_children(*arg_lists: list[str]) -> list[dict]:
    """Run this file as children, at the same time; return each one's JSON report plus its
    wall time, peak RSS and CPU time (from ``os.wait4``, so per child)."""
    script = str(Path(__file__).resolve())
    running = {}
    for i, args in enumerate(arg_lists):
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        t = time.perf_counter()
        proc = subprocess.Popen([PYTHON, script, *args], stdout=out, stderr=err, cwd=ROOT)
        running[proc.pid] = (i, args, t, out, err)
    reports: list[dict] = [{} for _ in arg_lists]
    while running:
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        i, args, t, out, err = running.pop(pid)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode(errors="replace")
        out.close()
        err.close()
        if code != 0:
            tail = errors.splitlines()[-25:]
            raise SystemExit("\n".join([f"child {' '.join(args)} failed with exit code {code}:", *tail]))
        report = json.loads(text.strip().splitlines()[-1])
        report["wall_s"] = wall
        report["peak_rss_mb"] = usage.ru_maxrss / 1024
        report["cpu_s"] = usage.ru_utime + usage.ru_stime
        reports[i] = report
    return reports


def run_child(args: list[str]) -> dict:
    return run_children(args)[0]


def replay_spec(plan_file: Path, spec_file: Path) -> tuple[int, int]:
    """Turn paved's plan document into the baseline's replay list (indices instead of URNs)."""
    sys.path.insert(0, str(ROOT))
    from paved.stack import pulumi_config

    doc = json.loads(plan_file.read_text(encoding="utf-8"))
    index = {r["urn"]: i for i, r in enumerate(doc["resources"])}
    out = []
    for r in doc["resources"]:
        if "[secret]" in json.dumps(r["inputs"]):
            raise SystemExit(f"{r['urn']} has a secret input; the baseline cannot replay masked values")
        o = r["options"]
        out.append({
            "type": r["type"],
            "name": r["name"],
            "custom": r["custom"],
            "inputs": r["inputs"],
            "parent": index[r["parent"]] if r["parent"] else None,
            "provider": index[r["provider"]] if r["provider"] else None,
            "providerUrn": r["provider"],
            "dependsOn": [index[d] for d in o["dependsOn"]],
            "protect": o["protect"],
            "retainOnDelete": o["retainOnDelete"],
            "ignoreChanges": o["ignoreChanges"],
        })
    classes = json.loads(Path(str(plan_file) + ".classes.json").read_text(encoding="utf-8"))
    spec = {"config": pulumi_config(ROOT, doc["stack"]), "resources": out, "outputs": doc["outputs"], "classes": classes}
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    return sum(r["custom"] for r in out), sum(not r["custom"] for r in out)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = subprocess.run(
        [PYTHON, "-c", "import importlib.metadata as m; print(' '.join(m.version(p) for p in "
         "('pulumi', 'pulumi_kubernetes', 'pydantic', 'PyYAML', 'fastjsonschema', 'pulumi_aws')))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "pulumi": versions[0],
        "pulumi_kubernetes": versions[1],
        "pydantic": versions[2],
        "pyyaml": versions[3],
        "fastjsonschema": versions[4],
        "pulumi_aws": versions[5],
    }


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x: (a, b, r²)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx == 0:
        return my, 0.0, 1.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def _area(filename: str) -> str:
    f = filename.replace("\\", "/")
    for key, label in (
        ("/paved/k8s_schema", "paved k8s_schema + fastjsonschema"), ("fastjsonschema", "paved k8s_schema + fastjsonschema"),
        ("/paved/sdk_inputs", "paved sdk_inputs"), ("/paved/yamlsrc", "paved yamlsrc (YAML positions)"),
        ("/paved/catalog", "paved catalog rules"), ("/paved/", "paved other"), ("/components/", "components"),
        ("/platform/", "components"), ("/benchmarks/", "benchmark harness"),
        ("site-packages/yaml/", "PyYAML"), ("pydantic", "pydantic"), ("site-packages/pulumi_kubernetes/", "pulumi_kubernetes"),
        ("site-packages/pulumi/", "pulumi SDK"), ("google/protobuf", "protobuf"), ("grpc", "grpc"),
        ("/asyncio/", "asyncio"), ("json/", "json"), ("/typing.py", "typing"), ("inspect.py", "inspect / traceback"),
        ("traceback.py", "inspect / traceback"), ("linecache.py", "inspect / traceback"),
    ):
        if key in f:
            return label
    if f.startswith("~") or f.startswith("<"):
        return "builtins"
    return "stdlib / other"


def profile_summary(prof_file: Path, top: int = 15) -> dict:
    import pstats

    stats = pstats.Stats(str(prof_file))
    total = stats.total_tt
    rows = []
    areas: dict[str, float] = {}
    for (filename, line, func), (cc, nc, tt, ct, callers) in stats.stats.items():
        areas[_area(filename)] = areas.get(_area(filename), 0.0) + tt
        rows.append((tt, ct, nc, f"{_short(filename)}:{line}({func})"))
    rows.sort(reverse=True)
    return {"total_s": total, "top": rows[:top], "areas": sorted(areas.items(), key=lambda kv: -kv[1])}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def bench(ns: list[int], stack: str, repeat: int, seed: int, workdir: Path, profile: bool, parallel: bool,
          profile_only: bool = False) -> dict:
    from gen_catalog import generate  # noqa: the parent only; children never import yaml here

    results = []
    for n in ns[-1:] if profile_only else ns:
        catalog = workdir / f"catalog-{n}.yaml"
        catalog.write_text(generate(n, seed), encoding="utf-8")
        plan_file, spec_file = workdir / f"plan-{n}.json", workdir / f"spec-{n}.json"
        paved_runs, base_runs = [], []

        def check(b: dict, r: dict) -> None:
            if b["n_mismatches"] or (b["custom"], b["components"]) != (r["custom"], r["components"]):
                raise SystemExit(
                    f"baseline is not the same program: {b['custom']}/{b['components']} vs "
                    f"{r['custom']}/{r['components']} resources/components; {b['mismatches']}"
                )

        # Run 1 of paved writes the plan the baseline replays. Runs alternate paved, baseline;
        # with --parallel, each baseline run shares the machine with the next paved run.
        r = run_child(["--child", "paved", str(catalog), stack, "--plan-out", str(plan_file)])
        paved_runs.append(r)
        custom, components = replay_spec(plan_file, spec_file)
        assert (custom, components) == (r["custom"], r["components"])
        if profile_only:
            continue
        for i in range(repeat):
            base_args = ["--child", "baseline", str(spec_file), stack]
            paved_args = ["--child", "paved", str(catalog), stack]
            if i + 1 < repeat and parallel:
                b, r = run_children(base_args, paved_args)
                paved_runs.append(r)
            else:
                b = run_child(base_args)
                if i + 1 < repeat:
                    paved_runs.append(run_child(paved_args))
            check(b, paved_runs[0])
            base_runs.append(b)
            print(f"  N={n} run {i + 1}/{repeat}: paved {paved_runs[i]['wall_s']:.2f} s {paved_runs[i]['peak_rss_mb']:.0f} MiB, "
                  f"baseline {b['wall_s']:.2f} s {b['peak_rss_mb']:.0f} MiB", file=sys.stderr, flush=True)

        def med(runs, key):
            return statistics.median(run[key] for run in runs)

        phase_keys = sorted({k for run in paved_runs for k in run["phases"]})
        results.append({
            "n": n,
            "teams": max(1, round(n / 8)),
            "custom": paved_runs[0]["custom"],
            "components": paved_runs[0]["components"],
            "json_mb": paved_runs[0]["json_mb"],
            "paved": {k: med(paved_runs, k) for k in ("wall_s", "work_s", "import_s", "build_s", "dumps_s", "peak_rss_mb", "cpu_s", "gc_s")},
            "paved_phases": {k: statistics.median(run["phases"].get(k, 0.0) for run in paved_runs) for k in phase_keys},
            "baseline": {k: med(base_runs, k) for k in ("wall_s", "work_s", "import_s", "load_spec_s", "peak_rss_mb", "cpu_s", "gc_s")},
            "paved_walls": [run["wall_s"] for run in paved_runs],
            "baseline_walls": [run["wall_s"] for run in base_runs],
        })
    out = {"results": results, "stack": stack, "repeat": repeat, "seed": seed, "parallel": parallel}
    if profile or profile_only:
        n = ns[-1]
        catalog, spec_file = workdir / f"catalog-{n}.yaml", workdir / f"spec-{n}.json"
        pp, bp = workdir / f"paved-{n}.prof", workdir / f"baseline-{n}.prof"
        print(f"  profiling N={n} ...", file=sys.stderr, flush=True)
        if parallel:
            run_children(["--child", "paved", str(catalog), stack, "--profile", str(pp)],
                         ["--child", "baseline", str(spec_file), stack, "--profile", str(bp)])
        else:
            run_child(["--child", "paved", str(catalog), stack, "--profile", str(pp)])
            run_child(["--child", "baseline", str(spec_file), stack, "--profile", str(bp)])
        out["profile"] = {"n": n, "paved": profile_summary(pp), "baseline": profile_summary(bp),
                          "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    return out


# --- report ----------------------------------------------------------------------------------


def table(data: dict) -> str:
    rows = [
        "| N | teams | resources (+ components) | paved wall s | baseline wall s | ratio (wall) | "
        "paved work s | baseline work s | ratio (work) | ratio (CPU) | paved ms/resource | baseline ms/resource | "
        "paved peak RSS MiB | baseline peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["results"]:
        p, b = r["paved"], r["baseline"]
        b_wall = b["wall_s"] - b["load_spec_s"]
        b_cpu = b["cpu_s"] - b["load_spec_s"]
        rows.append(
            f"| {r['n']} | {r['teams']} | {r['custom']} (+ {r['components']}) | {p['wall_s']:.2f} | {b_wall:.2f} | "
            f"{p['wall_s'] / b_wall:.2f}× | {p['work_s']:.2f} | {b['work_s']:.2f} | {p['work_s'] / b['work_s']:.2f}× | "
            f"{p['cpu_s'] / b_cpu:.2f}× | {1000 * p['work_s'] / r['custom']:.2f} | {1000 * b['work_s'] / r['custom']:.2f} | "
            f"{p['peak_rss_mb']:.0f} | {b['peak_rss_mb']:.0f} |"
        )
    return "\n".join(rows)


def phases_table(data: dict) -> str:
    rows = ["| N | catalog check (engine) | catalog check again (program) | Pulumi program under mocks (rest) | "
            "schema + input checks | plan document | json.dumps | imports | GC paved | GC baseline |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["results"]:
        ph, p = r["paved_phases"], r["paved"]
        program = ph.get("engine_run", 0) - ph.get("engine_load_inputs", 0) - ph.get("program_load_catalog", 0)
        rows.append(
            f"| {r['n']} | {ph.get('engine_load_inputs', 0):.2f} | {ph.get('program_load_catalog', 0):.2f} | {program:.2f} | "
            f"{ph.get('check', 0):.2f} | {ph.get('document', 0):.2f} | {p['dumps_s']:.2f} | {p['import_s']:.2f} | "
            f"{p.get('gc_s', 0):.2f} | {r['baseline'].get('gc_s', 0):.2f} |"
        )
    return "\n".join(rows)


def linearity(data: dict) -> str:
    res = data["results"]
    lines = []
    if len(res) >= 2:
        xs = [r["custom"] for r in res]
        for label, key in (("paved", "paved"), ("baseline", "baseline")):
            a, b, r2 = fit(xs, [r[key]["work_s"] for r in res])
            per = ", ".join(f"{1000 * r[key]['work_s'] / r['custom']:.2f}" for r in res)
            lines.append(f"- {label}: work time per resource (ms) at N = {', '.join(str(r['n']) for r in res)}: {per}; "
                         f"least-squares fit work ≈ {a:.2f} s + {1000 * b:.2f} ms × resources (r² = {r2:.4f}).")
            a, b, r2 = fit(xs, [r[key]["peak_rss_mb"] for r in res])
            lines.append(f"- {label}: peak RSS ≈ {a:.0f} MB + {1000 * b:.1f} KB × resources (r² = {r2:.4f}).")
    return "\n".join(lines)


def verdict(data: dict) -> str:
    last = max(data["results"], key=lambda r: r["n"])
    p, b = last["paved"], last["baseline"]
    ratio_wall = p["wall_s"] / (b["wall_s"] - b["load_spec_s"])
    ratio_work = p["work_s"] / b["work_s"]
    ratio_cpu = p["cpu_s"] / (b["cpu_s"] - b["load_spec_s"])
    worst = max(ratio_wall, ratio_work, ratio_cpu)
    rss = p["peak_rss_mb"]
    gib_ok, gb_ok = rss <= TARGET_RSS_MB, rss * 2**20 <= 1.5e9
    rss_verdict = ("met" if gib_ok and gb_ok else "NOT met" if not gib_ok else
                   "met if 1.5 GB means 1.5 GiB (1536 MiB), NOT met if it means 1.5 × 10⁹ bytes (1431 MiB)")
    return "\n".join([
        f"- Time at N = {last['n']}: paved / baseline = {ratio_wall:.2f}× wall (with interpreter start and imports), "
        f"{ratio_work:.2f}× work only, {ratio_cpu:.2f}× CPU; target ≤ {TARGET_RATIO}×: "
        f"**{'met' if worst <= TARGET_RATIO else 'NOT met'}**.",
        f"- Peak RSS at N = {last['n']}: {rss:.0f} MiB = {rss / 1024:.2f} GiB = {rss * 2**20 / 1e9:.2f} GB; "
        f"target ≤ 1.5 GB: **{rss_verdict}**.",
    ])


def profile_md(data: dict) -> str:
    prof = data.get("profile")
    if not prof:
        return "_No profile in this run (run with `--profile`)._"
    lines = [f"cProfile of one run of each at N = {prof['n']} ({prof.get('date', '')}; build + json.dumps for paved, the "
             "registration for the baseline). The profiler's cost per call inflates code that makes many small calls "
             "(the pure-Python JSON encoder that `indent=2` selects, PyYAML's scanner) and the cyclic GC's time is "
             "charged to whichever function happened to allocate, so compare shares, not seconds; the un-profiled "
             "timers above are the reference. Self time by area:", "",
             "| area | paved self s | baseline self s |", "|---|---:|---:|"]
    pa, ba = dict(prof["paved"]["areas"]), dict(prof["baseline"]["areas"])
    for area in sorted(set(pa) | set(ba), key=lambda a: -pa.get(a, 0)):
        if pa.get(area, 0) >= 0.05 or ba.get(area, 0) >= 0.05:
            lines.append(f"| {area} | {pa.get(area, 0):.2f} | {ba.get(area, 0):.2f} |")
    lines.append(f"| **total** | {prof['paved']['total_s']:.2f} | {prof['baseline']['total_s']:.2f} |")
    lines += ["", "Top self-time functions in paved's run:", "", "| self s | cumulative s | calls | function |", "|---:|---:|---:|---|"]
    for tt, ct, nc, name in prof["paved"]["top"]:
        lines.append(f"| {tt:.2f} | {ct:.2f} | {nc} | `{name}` |")
    return "\n".join(lines)


def results_md(data: dict) -> str:
    m = data["machine"]
    total_s = data["elapsed_s"]
    mode = "paved and baseline runs alternating" + (", each baseline run alongside the next paved run" if data["parallel"] else ", one at a time")
    return "\n".join([
        f"Measured {data['date']} with `{data['command']}` ({total_s / 60:.1f} min in total), stack "
        f"`{data['stack']}`, catalog seed {data['seed']}, median of {data['repeat']} runs per cell ({mode}).",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, "
        f"pulumi {m['pulumi']}, pulumi_kubernetes {m['pulumi_kubernetes']}, pulumi_aws {m.get('pulumi_aws', '?')}, "
        f"pydantic {m['pydantic']}, "
        f"PyYAML {m['pyyaml']}, fastjsonschema {m['fastjsonschema']}.",
        "",
        table(data),
        "",
        "*wall*: process start to exit, as measured by the parent (the baseline's is net of reading its replay "
        "file); *work*: after imports (paved: `plan.build` + `json.dumps`; baseline: registration under mocks); "
        "*ratio (CPU)*: user + system CPU time of the whole process, less sensitive to other load on the machine. "
        "*ms/resource*: work time per custom resource. Peak RSS: `ru_maxrss` of the child (`os.wait4`).",
        "",
        "Where paved's time goes (median seconds, from timers around paved's functions, no profiler):",
        "",
        phases_table(data),
        "",
        "Linearity:",
        "",
        linearity(data),
        "",
        "Targets:",
        "",
        verdict(data),
    ])


def write_doc(data: dict, doc: Path) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    blocks = [("profile", profile_md(data))]
    if data["results"]:
        blocks.insert(0, ("results", results_md(data)))
    for marker, body in blocks:
        begin, end = f"<!-- bench:{marker}:begin -->", f"<!-- bench:{marker}:end -->"
        block = f"{begin}\n{body}\n{end}"
        if begin in text and end in text:
            if marker == "profile" and "profile" not in data:
                continue  # keep the last profile when this run did not profile
            text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
        else:
            text += ("\n" if text else "") + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        p = argparse.ArgumentParser()
        p.add_argument("--child", choices=["paved", "baseline"])
        p.add_argument("input")
        p.add_argument("stack")
        p.add_argument("--plan-out")
        p.add_argument("--profile")
        a = p.parse_args(argv)
        if a.child == "paved":
            report = child_paved(a.input, a.stack, a.plan_out, a.profile)
        else:
            report = child_baseline(a.input, a.stack, a.profile)
        sys.stdout.flush()
        print(json.dumps(report))
        return 0

    p = argparse.ArgumentParser(description="Benchmark paved plan against bare Pulumi SDK calls under mocks.")
    p.add_argument("n", nargs="*", type=int, default=[100, 500, 1000], help="catalog sizes (default: 100 500 1000)")
    p.add_argument("--stack", default="staging", help="stack to plan (default: staging)")
    p.add_argument("--repeat", type=int, default=3, help="runs per cell; the median is reported (default: 3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="also cProfile one run of each at the largest N")
    p.add_argument("--profile-only", action="store_true",
                   help="only profile at the largest N; updates the profile section of the doc, not the results")
    p.add_argument("--parallel", action="store_true",
                   help="run each baseline run at the same time as the next paved run (about 1/3 faster with 2+ "
                        "CPUs, but noisier: on a 2-vCPU VM the two slow each other down)")
    p.add_argument("--doc", default=str(DOC), help="Markdown file to update (default: docs/benchmarks.md)")
    p.add_argument("--no-doc", action="store_true", help="print only; leave docs/benchmarks.md alone")
    p.add_argument("--json", metavar="FILE", help="also write the raw results here")
    p.add_argument("--workdir", help="keep catalogs, plans and profiles here (default: a temporary directory)")
    a = p.parse_args(argv)

    started = time.perf_counter()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    with tempfile.TemporaryDirectory(prefix="paved-bench-") as tmp:
        workdir = Path(a.workdir) if a.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        parallel = a.parallel
        data = bench(sorted(a.n), a.stack, a.repeat, a.seed, workdir, a.profile, parallel, a.profile_only)
    data["machine"] = machine()
    data["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data["command"] = "python benchmarks/bench_plan.py " + " ".join(argv)
    data["command"] = data["command"].strip()
    data["elapsed_s"] = time.perf_counter() - started

    if data["results"]:
        print(table(data))
        print()
        print(phases_table(data))
        print()
        print(linearity(data))
        print(verdict(data))
    if "profile" in data:
        print()
        print(profile_md(data))
    if a.json:
        Path(a.json).write_text(json.dumps(data, indent=2), encoding="utf-8")
    if not a.no_doc:
        write_doc(data, Path(a.doc))
        print(f"\nupdated {a.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
