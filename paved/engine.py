"""The offline engine: run ``platform/`` under Pulumi's mock runtime and record every resource.

Pulumi documents ``pulumi.runtime.set_mocks`` for unit tests; here the same mechanism runs
the real program with no CLI, no provider plugins and no credentials. A stack
transformation (which runs under mocks) sees each resource object with its parent and
options; the mocks see its engine-level (camelCase) inputs and provider. The two are
joined by type and logical name once the program has finished.
"""

from __future__ import annotations

import asyncio
import gc
import os
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from paved import charts as chart_expansion
from paved import offline_cloud
from paved.catalog import Catalog, load_catalog
from paved.errors import PavedError
from paved.layers import layer_of, split_stack
from paved.stack import StackSettings, layer_config, list_stacks, load_layer_stack, load_stack

PROJECT = "paved"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value
SECRET_MASK = "[secret]"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


class ProgramError(PavedError):
    """The program failed or produced resources that do not pass the engine's checks."""


@dataclass
class Recorded:
    """One resource as the engine saw it; becomes one entry of the plan document."""

    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    provider: str | None
    resource: Any = None
    parent: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    urn: str | None = None
    service: str | None = None
    team: str | None = None


def clean(value: Any, keep_shape: bool = False) -> Any:
    """Mask secrets and turn the mock runtime's integral floats back into integers.

    A secret becomes ``"[secret]"``. With ``keep_shape`` it keeps its structure and types
    instead (strings masked, numbers zeroed) so schema checks can run on it without ever
    seeing, or printing, the value.
    """
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return _redact(value.get("value")) if keep_shape else SECRET_MASK
        return {k: clean(v, keep_shape) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, keep_shape) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return 0
    return SECRET_MASK


class _Mocks(pulumi.runtime.Mocks):
    """Answers the engine's calls offline and records what each resource was given."""

    def __init__(self, region: str, references: dict[str, dict[str, Any]] | None = None) -> None:
        self.region = region
        self.pending: dict[tuple[str, str], Recorded] = {}
        self.references = references or {}  # stack name → its outputs, for StackReferences

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        if args.typ == STACK_REFERENCE:
            # A team stack reading its platform stack: the outputs of the platform's own plan.
            name = str(args.inputs.get("name") or args.resource_id or args.name)
            stack = name.rsplit("/", 1)[-1]
            if stack not in self.references:
                raise ProgramError(f"the program reads stack {name!r}, whose outputs this run was not given")
            self.pending[(args.typ, args.name)] = Recorded(
                type=args.typ, name=args.name, custom=True, inputs={"name": name}, provider=None)
            return name, {"name": name, "outputs": self.references[stack], "secretOutputNames": []}
        provider = args.provider.rsplit("::", 1)[0] if args.provider else None
        self.pending[(args.typ, args.name)] = Recorded(
            type=args.typ, name=args.name, custom=bool(args.custom), inputs=args.inputs, provider=provider
        )
        # Inputs echoed back, plus what AWS would compute (ARNs, ids, endpoints).
        return offline_cloud.outputs(args.typ, args.name, args.inputs, self.region)

    def call(self, args: pulumi.runtime.MockCallArgs):
        result = offline_cloud.invoke(args.token, args.args, self.region)
        if result is None:
            raise ProgramError(f"the program called {args.token}, which the offline engine does not answer")
        return result, []


class _Monitor(pulumi_mocks.MockMonitor):
    """Pulumi's mock monitor, keeping each registration's final options by URN.

    Options are read here, after every stack transformation has run, so the plan shows
    what the engine would act on (for example ``protect`` added by a transformation).
    """

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.by_urn: dict[str, Recorded] = {}

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        rec = self.mocks.pending.pop((request.type, request.name), None)
        if rec is not None:
            rec.urn = response.urn
            rec.options = {
                "protect": bool(request.protect),
                "retainOnDelete": bool(request.retainOnDelete),
                "ignoreChanges": list(request.ignoreChanges),
                "aliases": [_alias_spec(a) for a in request.aliases],
                "dependsOn": [],
            }
            if request.version:
                # The provider plugin version the SDK asks for: what this plan was checked against.
                rec.options["version"] = request.version
            self.by_urn[response.urn] = rec
        return response

    def ReadResource(self, request):  # noqa: N802 - a StackReference is read, not registered
        response = super().ReadResource(request)
        rec = self.mocks.pending.pop((request.type, request.name), None)
        if rec is not None:
            rec.urn = response.urn
            rec.options = {"protect": False, "retainOnDelete": False, "ignoreChanges": [], "aliases": [],
                           "dependsOn": [], "read": True}
            self.by_urn[response.urn] = rec
        return response


@dataclass
class RunResult:
    """What one offline run of the program produced."""

    stack: str
    settings: StackSettings
    catalog: Catalog
    resources: list[Recorded]
    outputs: dict[str, Any]
    charts_expanded: bool = True


def _alias_spec(alias: Any) -> Any:
    """An alias as the engine received it: a URN, or the parts of a name/type alias."""
    if alias.urn:
        return alias.urn
    spec = alias.spec
    fields = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project, "parent": spec.parentUrn}
    return {k: v for k, v in fields.items() if v}


def _explicit_dependencies(opts: pulumi.ResourceOptions | None) -> list[Any]:
    deps = opts.depends_on if opts else None
    if deps is None:
        return []
    return list(deps) if isinstance(deps, (list, tuple)) else [deps]


# The program allocates millions of short-lived objects (Outputs, futures, dicts) and few
# cycles: the default collector thresholds spend about a third of a large plan's time
# scanning them. Objects that exist before the run (imports) are frozen out of the scans.
GC_THRESHOLDS = (50_000, 20, 100)
_gc_tuned = False


def tune_gc_for_process() -> None:
    """Tune the collector for the rest of a short-lived process (the CLI).

    ``run`` otherwise tunes it around each run and restores it after, which costs one full
    collection of the plan's objects: right for a long-lived process (tests), wasted in a
    command that exits after one plan.
    """
    global _gc_tuned
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _gc_tuned = True


def _attribute(resources: list[Recorded], parent_of: dict[int, Any]) -> None:
    """Give each resource the catalog service and team of its nearest owning component."""
    for rec in resources:
        res = rec.resource
        while res is not None and not (rec.service and rec.team):
            rec.service = rec.service or getattr(res, "paved_service", None)
            rec.team = rec.team or getattr(res, "paved_team", None)
            res = parent_of.get(id(res))


def root_dir() -> Path:
    """The project root: where Pulumi.yaml, stacks/ and platform/ are."""
    env = os.environ.get("PAVED_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").exists() and (candidate / "platform" / "__main__.py").exists():
            return candidate
    return Path(__file__).resolve().parent.parent


def load_inputs(root: Path, stack: str, catalog_path: str | Path,
                layout: str | None = None) -> tuple[StackSettings, Catalog]:
    """Validate the stack file(s) and the catalog before running anything; InputError on problems.

    ``stack`` is an environment (``prod``) or a team stack (``prod.checkout``), whose settings
    are the environment's with the team stack file's over them.
    """
    env, team = split_stack(stack)
    settings = load_layer_stack(root, env, team)
    if layout is not None:  # planning the environment as it would be in another layout (migrate-layout)
        settings = settings.model_copy(update={"layout": layout})
    environments: dict[str, StackSettings | None] = {name: None for name in list_stacks(root)}
    for name in environments:
        try:
            environments[name] = load_stack(root, name)
        except PavedError:
            environments[name] = None  # another stack's problems are reported when it is planned
    environments[env] = settings
    catalog = load_catalog(catalog_path, environments)
    layer_of(stack, settings.layout, catalog)  # a team the catalog lacks, or a team stack of a single layout
    return settings, catalog


def run(stack: str, catalog_path: str | Path | None = None, root: Path | None = None,
        charts: bool | None = None, references: dict[str, dict[str, Any]] | None = None,
        layout: str | None = None) -> RunResult:
    """Run ``platform/__main__.py`` for ``stack`` under mocks and return every resource.

    ``references``: stack name → outputs, what a team stack's ``StackReference`` reads (its
    platform stack's plan outputs). ``layout`` overrides the stack's ``paved:layout``. With ``charts`` every Helm Chart v4 is expanded into the children it would register
    (``paved.charts``, the real helm); without, charts stay childless components. By default
    charts are expanded unless ``PAVED_NO_CHARTS=1`` (``--no-charts``).
    """
    if charts is None:
        charts = os.environ.get("PAVED_NO_CHARTS") != "1"
    root = root or root_dir()
    catalog_path = Path(catalog_path) if catalog_path else root / "services_catalog.yaml"
    settings, catalog = load_inputs(root, stack, catalog_path, layout)

    mocks = _Mocks(settings.aws_region, references)
    monitor = _Monitor(mocks)
    # A fresh root stack per run: set_mocks reuses an existing one, and with it the
    # previous run's exports and stack transformations.
    pulumi.runtime.settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    env, team = split_stack(stack)
    config = layer_config(root, env, team)
    if layout is not None:
        config["paved:layout"] = layout
    pulumi.runtime.set_all_config(config)
    seen: list[tuple[Any, str, str, pulumi.ResourceOptions]] = []

    def record(args: pulumi.ResourceTransformationArgs):
        seen.append((args.resource, args.type_, args.name, args.opts))
        return None

    pulumi.runtime.register_stack_transformation(record)
    previous = os.environ.get("PAVED_CATALOG")
    os.environ["PAVED_CATALOG"] = str(catalog_path)
    outputs: dict[str, Any] = {}

    def program():
        runpy.run_path(str(root / "platform" / "__main__.py"), run_name="__main__")
        stack_outputs = dict(pulumi.runtime.settings.get_root_resource().outputs)
        # Gathered as plain futures: Output.all over tens of thousands of URNs merges its
        # dependency sets one by one, which grows quadratically.
        urns = asyncio.gather(*(res.urn.future() for res, *_ in seen))
        # Serialized the way the engine receives them, so secret outputs stay marked.
        exports = rpc.serialize_property(stack_outputs, [], None)
        return pulumi.Output.all(pulumi.Output.from_input(urns), pulumi.Output.from_input(exports)).apply(
            lambda pair: outputs.update(urns=pair[0], exports=pair[1])
        )

    tuned_here = not _gc_tuned
    thresholds = gc.get_threshold()
    if tuned_here:
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
    try:
        pulumi_mocks.test(program)()
    except PavedError:
        raise
    except Exception as exc:  # the program's own error, shown without an engine traceback
        raise ProgramError(f"the Pulumi program failed for stack {stack!r}: {type(exc).__name__}: {exc}") from exc
    finally:
        if tuned_here:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
        if previous is None:
            os.environ.pop("PAVED_CATALOG", None)
        else:
            os.environ["PAVED_CATALOG"] = previous

    urn_of = {id(res): urn for (res, *_), urn in zip(seen, outputs["urns"])}
    resources = []
    for (res, typ, name, opts), urn in zip(seen, outputs["urns"]):
        rec = monitor.by_urn.get(urn)
        if rec is None:
            raise ProgramError(f"resource {typ} {name!r} was never registered with the engine")
        rec.resource = res
        parent = opts.parent if opts else None
        rec.parent = urn_of.get(id(parent)) if parent is not None else None
        rec.options["dependsOn"] = [urn_of.get(id(d), repr(d)) for d in _explicit_dependencies(opts)]
        resources.append(rec)
    if charts:
        resources = chart_expansion.expand(resources, settings.kubernetes_version, root)
    _attribute(resources, {id(res): opts.parent if opts else None for res, _, _, opts in seen})
    return RunResult(stack=stack, settings=settings, catalog=catalog, resources=resources,
                     outputs=clean(outputs["exports"]), charts_expanded=charts)
