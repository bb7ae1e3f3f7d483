"""Planning an environment of stacks: the platform stack first, then its team stacks in parallel.

A team stack reads the platform stack's outputs through a ``StackReference``; offline, it
reads the outputs of the platform's own plan (``engine.run(references=...)``). Team stacks
are independent of one another, so they are planned in worker processes (``jobs``), each
planning a share of the teams. The environment's view is every stack's resources in one
document, each resource naming its stack, plus a ``stacks`` list.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterator

from paved import engine
from paved.engine import RunResult
from paved.layers import Layer, LayerError, PlatformFacts, catalog_digest, layer_of, layers, split_stack, team_catalog
from paved.stack import layer_config, load_stack

# What the program's plan depends on besides its inputs: its code, and the SDKs it runs on.
CODE_FOLDERS = ("paved", "components", "platform")
SDKS = ("pulumi", "pulumi-aws", "pulumi-kubernetes")


def default_jobs() -> int:
    """One worker per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def build(stack: str, catalog_path: str | Path | None = None, root: Path | None = None,
          charts: bool | None = None, jobs: int = 1, only: str | None = None,
          with_platform: bool = False, layout: str | None = None,
          teams: set[str] | None = None) -> tuple[dict[str, Any], RunResult | None]:
    """The plan document of ``stack``: one stack, or an environment's view (see module doc).

    ``with_platform``: for one team's stack, the document holds the platform stack's resources
    too (as context: what the team's rules may rely on being deployed first). ``layout``
    overrides the environment's ``paved:layout`` (``paved migrate-layout`` plans both).
    ``teams``: plan only these team stacks (with the platform stack): ``paved diff`` plans only
    the stacks whose inputs changed (:func:`stack_keys`); the document says ``partial``."""
    from paved import plan

    root = root or engine.root_dir()
    env, team = split_stack(stack)
    layout = layout or load_stack(root, env).layout
    if team is not None:
        if only not in (None, team):
            raise LayerError(f"--team {only} names another team than the stack {stack!r}")
        only = team
    if layout == "single":
        if only is not None:
            layer_of(f"{env}.{only}" if only != "platform" else f"{env}.platform", layout)  # raises: explains
        return plan.build_one(env, catalog_path, root, charts, layout=layout)
    catalog_path = Path(catalog_path) if catalog_path else root / "services_catalog.yaml"
    _, catalog = engine.load_inputs(root, env, catalog_path, layout)
    if only not in (None, "platform"):
        layer_of(f"{env}.{only}", layout, catalog)  # a team the catalog lacks: one clear line
    wanted = teams
    teams = [lay for lay in layers(env, layout, catalog) if lay.kind == "team" and only in (None, lay.team)
             and (wanted is None or lay.team in wanted)]
    shares = _shares(teams, catalog, jobs) if only != "platform" and jobs > 1 and len(teams) > 1 else []
    with _workers(len(shares), root, catalog_path, env, layout) as pool:
        # The workers start (and import, and load the catalog) while the platform is planned.
        cache_file = _platform_cache_file(root, env, catalog, charts, layout)
        cached = _cached_platform(cache_file)
        if cached is not None:
            platform_doc, platform_run, references, crds = cached["doc"], None, {env: cached["outputs"]}, cached["crds"]
        else:
            platform_doc, platform_run = plan.build_one(env, catalog_path, root, charts, layout=layout)
            references, crds = {env: platform_run.outputs}, plan.crd_inputs(platform_run)
            _store_platform(cache_file, platform_doc, references[env], crds)
        if only == "platform":
            return platform_doc, platform_run
        if pool is None:
            runs = [plan.build_one(lay.stack, catalog_path, root, charts, references, crds, layout) for lay in teams]
            docs, results = [d for d, _ in runs], [r for _, r in runs]
        else:
            docs, results = _in_workers(pool, teams, shares, str(catalog_path), root, charts, references, crds,
                                        layout), None
    if only is not None and not with_platform:
        return docs[0], (results[0] if results else None)
    doc = environment_document(platform_doc, docs)
    if wanted is not None:
        doc["partial"] = sorted(lay.stack for lay in teams)
    merged = None
    if results is not None and platform_run is not None:
        merged = RunResult(stack=env, settings=platform_run.settings, catalog=platform_run.catalog,
                           resources=platform_run.resources + [r for res in results for r in res.resources],
                           outputs=platform_run.outputs, charts_expanded=platform_run.charts_expanded)
    return doc, merged


def _platform_cache_file(root: Path, env: str, catalog: Any, charts: bool | None, layout: str) -> Path | None:
    """Where a platform stack's plan is kept, named by its input hash, when ``PAVED_PLAN_CACHE``
    names a folder (``paved diff`` sets it: both sides of a change that leaves the platform's
    inputs equal then plan it once, and a later diff not at all)."""
    folder = os.environ.get("PAVED_PLAN_CACHE")
    if not folder:
        return None
    expanded = os.environ.get("PAVED_NO_CHARTS") != "1" if charts is None else charts
    key = _hash("platform-plan", code_digest(root), layer_config(root, env, None), layout, expanded,
                PlatformFacts.of(catalog.for_environment(env)).digest())
    return Path(folder) / f"{env}-{key[:32]}.json"


def _cached_platform(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # a torn or foreign file: plan again


def _store_platform(path: Path | None, doc: dict[str, Any], outputs: dict[str, Any],
                    crds: list[dict[str, Any]]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"doc": doc, "outputs": outputs, "crds": crds}), encoding="utf-8")
    os.replace(tmp, path)  # whole or not at all, for the other side of a diff reading it


def environment_document(platform_doc: dict[str, Any], team_docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One document for the environment: the platform stack's and every team stack's resources."""
    doc = {k: v for k, v in platform_doc.items() if k != "resources"}
    doc["layout"] = "layered"
    doc["resources"] = platform_doc["resources"] + [r for d in team_docs for r in d["resources"]]
    doc["stacks"] = [_stack_entry(platform_doc, "platform", None)] + [
        _stack_entry(d, "team", split_stack(d["stack"])[1]) for d in team_docs]
    return doc


def _stack_entry(doc: dict[str, Any], layer: str, team: str | None) -> dict[str, Any]:
    return {"name": doc["stack"], "layer": layer, "team": team, "resources": len(doc["resources"]),
            "outputs": doc["outputs"]}


def _shares(teams: list[Layer], catalog: Any, jobs: int) -> list[list[Layer]]:
    """Teams dealt to ``jobs`` workers, the largest first onto the least loaded (by services)."""
    size = {t.name: len(catalog.services_of(t.name)) + 1 for t in catalog.teams}
    shares: list[list[Layer]] = [[] for _ in range(min(jobs, len(teams)))]
    load = [0] * len(shares)
    for lay in sorted(teams, key=lambda lay: -size[lay.team]):
        i = load.index(min(load))
        shares[i].append(lay)
        load[i] += size[lay.team]
    return [s for s in shares if s]


def _plan_share(stacks: list[str], catalog_path: str, root: str, charts: bool | None,
                references: dict[str, dict[str, Any]], crds: list[dict[str, Any]],
                layout: str | None) -> list[dict[str, Any]]:
    """Worker: plan some team stacks one after another; their documents."""
    from paved import plan

    return [plan.build_one(s, catalog_path, Path(root), charts, references, crds, layout)[0] for s in stacks]


@contextlib.contextmanager
def _workers(count: int, root: Path, catalog_path: Path, env: str, layout: str) -> Iterator[Any]:
    """``count`` worker processes, started now and warmed (:func:`_warm`); None when ``count`` is 0."""
    if count == 0:
        yield None
        return
    # spawn, not fork: the parent has run (or is about to run) the Pulumi SDK (threads, an event
    # loop, gRPC), which a forked child would inherit mid-state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_warm,
                             initargs=(str(root), str(catalog_path), env, layout)) as pool:
        for _ in range(count):  # a process is started per task submitted while none is idle
            pool.submit(_ready)
        yield pool


def _ready() -> None:
    """A worker's first task: it only makes the pool start the worker."""


def _warm(root: str, catalog_path: str, env: str, layout: str) -> None:
    """A worker's start: what every team stack it plans needs, before the platform's outputs
    exist: the SDK modules the program imports, and the catalog, validated and resolved for ``env``."""
    import importlib
    import sys

    engine.tune_gc_for_process()
    if root not in sys.path:  # as platform/__main__.py does: the program's components are root's
        sys.path.insert(0, root)
    try:
        importlib.import_module("components.platform")
        _, catalog = engine.load_inputs(Path(root), env, Path(catalog_path), layout)
        catalog.for_environment(env)
    except Exception:  # noqa: BLE001 - only a head start: the team stacks report their own errors
        pass


def _in_workers(pool: Any, teams: list[Layer], shares: list[list[Layer]], catalog_path: str, root: Path,
                charts: bool | None, references: dict[str, dict[str, Any]], crds: list[dict[str, Any]],
                layout: str | None) -> list[dict[str, Any]]:
    order = {lay.stack: i for i, lay in enumerate(teams)}
    futures = [pool.submit(_plan_share, [lay.stack for lay in share], catalog_path, str(root), charts,
                           references, crds, layout) for share in shares]
    docs = [d for f in futures for d in f.result()]
    return sorted(docs, key=lambda d: order[d["stack"]])


def tree_digest(folder: Path) -> str:
    """A hash of every file under ``folder`` (names and contents), bytecode caches aside."""
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def code_digest(root: Path) -> str:
    """The program's code (paved, components, platform) and the Pulumi SDK versions installed."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    for name in CODE_FOLDERS:
        h.update(name.encode() + b"=" + tree_digest(root / name).encode())
    for sdk in SDKS:
        try:
            h.update(f"{sdk}={version(sdk)}".encode())
        except PackageNotFoundError:
            h.update(f"{sdk}=none".encode())
    h.update(os.environ.get("PAVED_NO_CHARTS", "").encode())
    return h.hexdigest()


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def stack_keys(root: Path, env: str, catalog_path: str | Path | None = None,
               code: str | None = None) -> dict[str, str]:
    """Each stack of a layered environment → the hash of everything its plan depends on.

    The platform stack: the code, the environment's settings and the catalog's platform facts.
    A team stack: the code, its settings (the environment's and its own file's), its entries of
    the catalog with their peers (:func:`~paved.layers.team_catalog`), and the platform's key
    (its outputs feed the team). Equal keys mean equal plans: that is what ``paved diff`` relies
    on to plan only the stacks a change touches (tests/test_layers.py compares with a full run).
    """
    root = Path(root)
    catalog_path = Path(catalog_path) if catalog_path else root / "services_catalog.yaml"
    settings, catalog = engine.load_inputs(root, env, catalog_path)
    catalog = catalog.for_environment(env)
    code = code or code_digest(root)
    environment = layer_config(root, env, None)
    platform = _hash("platform", code, environment, PlatformFacts.of(catalog).digest())
    keys = {env: platform}
    if settings.layout == "layered":
        for lay in layers(env, settings.layout, catalog)[1:]:
            keys[lay.stack] = _hash("team", code, layer_config(root, env, lay.team, environment), platform,
                                    catalog_digest(team_catalog(catalog, lay.team)))
    return keys
