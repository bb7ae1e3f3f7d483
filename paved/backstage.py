"""``paved export backstage``: the catalog as Backstage software-catalog entities.

One ``catalog-info.yaml`` (several YAML documents) holds a Group per team, a Group for the
platform team, one System, a Component per service (owner, lifecycle, links to its
dashboard and runbooks, the APIs it provides and consumes, the services it calls) and API
entities:

- an ``asyncapi`` API per service that produces Kafka topics (``<service>-events``), its
  definition generated from the catalog's topics; consumers of those topics consume it;
- an API a service declares in the catalog (``api: {type, definition}``, once the model
  has that field), its definition read from the file it names.

Every entity is checked before anything is written: against Backstage's own JSON
Schemas (shipped in ``paved/data/backstage_schemas.json``, from @backstage/catalog-model),
against the format rules Backstage's catalog applies on ingestion (names, tags,
annotation keys), and every entity reference must point at an entity of the export.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from paved.errors import PavedError, UsageError

if TYPE_CHECKING:
    from paved.catalog import Catalog

API_VERSION = "backstage.io/v1alpha1"
DEFAULT_SYSTEM = "shop"
PLATFORM_GROUP = "platform"
# Backstage's lifecycle values: a catalog deployed to a protected stack (prod) is in production.
LIFECYCLE = "production"
LIFECYCLE_UNPROTECTED = "experimental"
OUTPUT_FILE = "catalog-info.yaml"
EVENTS_API = "{service}-events"


class ExportError(PavedError):
    """The entities would not pass Backstage's validation (a bug in paved, reported as such)."""


# --- building the entities -----------------------------------------------------------------


def _entity(kind: str, name: str, spec: dict, description: str | None = None, **metadata: Any) -> dict:
    meta: dict[str, Any] = {"name": name}
    if description:
        meta["description"] = description
    meta.update({k: v for k, v in metadata.items() if v})
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": spec}


def _group(name: str, owner: str, description: str, annotations: dict[str, str] | None = None) -> dict:
    profile: dict[str, str] = {"displayName": name}
    if "@" in owner:
        profile["email"] = owner
    return _entity("Group", name, {"type": "team", "profile": profile, "children": []}, description,
                   annotations=annotations)


def _event_envelope() -> dict:
    return {
        "type": "object",
        "description": "pavedkit event envelope, version 1: the event's type is its topic.",
        "required": ["event_id", "type", "version", "order_id", "occurred_at", "data"],
        "properties": {
            "event_id": {"type": "string", "format": "uuid", "description": "Unique id; consumers deduplicate on it."},
            "type": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "order_id": {"type": "string", "description": "The saga's correlation id; also the message key."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "producer": {"type": "string"},
            "data": {"type": "object"},
        },
    }


def asyncapi(service: Any) -> str:
    """AsyncAPI 2.6 document of the topics ``service`` produces, as YAML text."""
    channels = {}
    messages = {}
    for topic in service.kafka.produces:
        channels[topic.name] = {
            "description": f"Produced by {service.name}; keyed by order id.",
            "subscribe": {"operationId": f"receive-{topic.name}", "message": {"$ref": f"#/components/messages/{topic.name}"}},
            "bindings": {"kafka": {"topic": topic.name, "partitions": topic.partitions,
                                   "topicConfiguration": {"retention.ms": topic.retention_hours * 3600 * 1000},
                                   "bindingVersion": "0.4.0"}},
        }
        messages[topic.name] = {"name": topic.name, "contentType": "application/json",
                                "payload": {"$ref": "#/components/schemas/Event"}}
    doc = {
        "asyncapi": "2.6.0",
        "info": {"title": f"{service.name} events", "version": "1",
                 "description": f"Kafka events the {service.name} service publishes."},
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages, "schemas": {"Event": _event_envelope()}},
    }
    return yaml.safe_dump(doc, sort_keys=False, width=120)


def _declared_api(service: Any, root: Path) -> tuple[str, str] | None:
    """(type, definition text) of an API the entry declares (``api`` field), if any."""
    api = getattr(service, "api", None)
    if api is None:
        return None
    path = root / api.definition
    try:
        return api.type, path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PavedError(f"services[{service.name}].api.definition: cannot read {path}: {exc.strerror}") from None


def entities(catalog: Catalog, *, root: Path, platform_owner: str, system: str = DEFAULT_SYSTEM,
             grafana_url: str | None = None, runbooks_url: str | None = None, source_url: str | None = None,
             lifecycle: str = LIFECYCLE, catalog_file: str = "services_catalog.yaml") -> list[dict]:
    """Every Backstage entity of the catalog, in a stable order.

    Links and locations come from what is known, never from a made-up host: the dashboard link
    only with ``grafana_url``, the runbooks link with ``runbooks_url``, the source location
    (``backstage.io/source-location``) with ``source_url`` (the repository: a service's folder
    under sample_services/ when it has one, else the catalog file)."""
    from paved.naming import (  # the uid the generated dashboard has
        SERVICE_LABEL,
        dashboard_uid,
    )

    grafana_url, runbooks_url, source_url = (u.rstrip("/") if u else None for u in (grafana_url, runbooks_url, source_url))
    out: list[dict] = []
    team_names = {t.name for t in catalog.teams}
    if PLATFORM_GROUP not in team_names:
        out.append(_group(PLATFORM_GROUP, platform_owner, "Runs the paved platform and owns the system."))
    for team in catalog.teams:
        out.append(_group(team.name, team.owner, f"Team {team.name}: owns namespace {team.namespace_name}.",
                          {"paved.dev/cost-center": team.cost_center, "paved.dev/namespace": team.namespace_name}))
    out.append(_entity("System", system, {"owner": f"group:{PLATFORM_GROUP}"},
                       "The shop's services, run on the paved platform from services_catalog.yaml."))

    producers = catalog.producers()
    apis: list[dict] = []
    for svc in catalog.services:
        team = catalog.team(svc.team)
        provides, consumes = [], []
        if svc.kafka.produces:
            name = EVENTS_API.format(service=svc.name)
            provides.append(f"api:{name}")
            apis.append(_entity("API", name, {"type": "asyncapi", "lifecycle": lifecycle, "owner": f"group:{svc.team}",
                                              "system": system, "definition": asyncapi(svc)},
                                f"Kafka events of {svc.name}: {', '.join(t.name for t in svc.kafka.produces)}.",
                                tags=["kafka", "events"]))
        declared = _declared_api(svc, root)
        if declared is not None:
            name = f"{svc.name}-api"
            provides.append(f"api:{name}")
            apis.append(_entity("API", name, {"type": declared[0], "lifecycle": lifecycle, "owner": f"group:{svc.team}",
                                              "system": system, "definition": declared[1]},
                                f"The {svc.name} service's API."))
        for topic in svc.kafka.consumes:
            ref = f"api:{EVENTS_API.format(service=producers[topic])}"
            if ref not in consumes:
                consumes.append(ref)
        links = []
        if grafana_url:
            links.append({"url": f"{grafana_url}/d/{dashboard_uid(svc)}", "title": "Dashboard (Grafana)",
                          "icon": "dashboard", "type": "dashboard"})
        if runbooks_url:
            links.append({"url": f"{runbooks_url}/README.md", "title": "Runbooks", "icon": "docs", "type": "runbook"})
        if svc.public is not None:
            links.append({"url": f"https://{svc.public.host}{svc.public.path}", "title": "Public endpoint",
                          "icon": "web", "type": "website"})
        spec: dict[str, Any] = {"type": "service", "lifecycle": lifecycle, "owner": f"group:{svc.team}", "system": system}
        if provides:
            spec["providesApis"] = provides
        if consumes:
            spec["consumesApis"] = consumes
        if svc.calls:
            spec["dependsOn"] = [f"component:{c}" for c in svc.calls]
        tags = [t for t, on in (("kafka", bool(svc.kafka.produces or svc.kafka.consumes)), ("public", svc.public is not None)) if on]
        annotations = {
            "backstage.io/kubernetes-namespace": team.namespace_name,
            "backstage.io/kubernetes-label-selector": f"{SERVICE_LABEL}={svc.name}",
            "paved.dev/image": svc.image,
        }
        if source_url:
            folder = f"sample_services/{svc.name}"
            where = f"tree/HEAD/{folder}/" if (root / folder).is_dir() else f"blob/HEAD/{catalog_file}"
            annotations["backstage.io/source-location"] = f"url:{source_url}/{where}"
        if svc.slo is not None:
            annotations["paved.dev/slo-availability"] = f"{svc.slo.availability:g}"
            annotations["paved.dev/slo-latency-p99-ms"] = str(svc.slo.latency_p99_ms)
        extra = {"links": links} if links else {}
        out.append(_entity("Component", svc.name, spec, svc.description, annotations=annotations, tags=tags, **extra))
    return out + apis


# --- validation ------------------------------------------------------------------------------

# Backstage's own format rules (catalog-model KubernetesValidatorFunctions, FieldFormatEntityPolicy).
_OBJECT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_KIND_SCHEMA = {"API": "API.v1alpha1", "Component": "Component.v1alpha1", "Group": "Group.v1alpha1",
                "System": "System.v1alpha1", "Domain": "Domain.v1alpha1", "Resource": "Resource.v1alpha1",
                "User": "User.v1alpha1", "Location": "Location.v1alpha1"}
_REF_FIELDS = {"owner": "group", "system": "system", "providesApis": "api", "consumesApis": "api",
               "dependsOn": "component", "children": "group", "parent": "group", "domain": "domain"}


def schemas() -> dict[str, dict]:
    """Backstage's entity JSON Schemas by file name (unmodified, as the npm package ships them)."""
    text = resources.files("paved").joinpath("data/backstage_schemas.json").read_text(encoding="utf-8")
    return json.loads(text)["schemas"]


def _rewrite(node: Any) -> Any:
    """A schema with Backstage's bare ``$id`` references turned into local JSON pointers."""
    if isinstance(node, list):
        return [_rewrite(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("$id", "$schema", "examples"):
            continue
        if k == "$ref" and isinstance(v, str):
            base, _, anchor = v.partition("#")
            if base in ("Entity", "EntityMeta") and not anchor:
                v = f"#/definitions/{base}"
            elif base in ("", "common") and anchor:
                v = f"#/definitions/common/definitions/{anchor}"
            else:
                raise ValueError(f"unexpected $ref {v!r} in Backstage's schemas")
        out[k] = _rewrite(v)
    return out


@cache
def _validator(kind: str) -> Any:
    import fastjsonschema

    all_schemas = schemas()
    root = _rewrite(all_schemas[f"{_KIND_SCHEMA[kind]}.schema.json"])
    root["definitions"] = {
        name: _rewrite(all_schemas[f"{name}.schema.json"]) for name in ("Entity", "EntityMeta", "common")
    }
    return fastjsonschema.compile(root)


def _parse_ref(ref: str, default_kind: str) -> tuple[str, str, str]:
    kind, _, rest = ref.rpartition(":") if ":" in ref else (default_kind, "", ref)
    namespace, _, name = rest.rpartition("/") if "/" in rest else ("default", "", rest)
    return kind.lower(), namespace, name


def _key_ok(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 1 <= len(name) <= 63 and bool(_OBJECT_NAME.fullmatch(name))


def problems(items: list[dict]) -> list[str]:
    """Why Backstage would reject these entities (empty when it would accept them all)."""
    import fastjsonschema

    found: list[str] = []
    index: set[tuple[str, str, str]] = set()
    for e in items:
        meta = e.get("metadata") or {}
        index.add((str(e.get("kind", "")).lower(), meta.get("namespace", "default"), str(meta.get("name", ""))))
    for e in items:
        meta = e.get("metadata") or {}
        where = f"{e.get('kind')} {meta.get('name')!r}"
        if e.get("kind") not in _KIND_SCHEMA:
            found.append(f"{where}: unknown kind")
            continue
        try:
            _validator(e["kind"])(copy.deepcopy(e))
        except fastjsonschema.JsonSchemaException as exc:
            found.append(f"{where}: {exc.message}")
        name = str(meta.get("name", ""))
        if not (1 <= len(name) <= 63 and _OBJECT_NAME.fullmatch(name)):
            found.append(f"{where}: metadata.name is not a valid Backstage name")
        namespace = meta.get("namespace", "default")
        if not (len(namespace) <= 63 and _DNS_LABEL.fullmatch(namespace)):
            found.append(f"{where}: metadata.namespace is not a DNS label")
        for key in list(meta.get("labels") or {}) + list(meta.get("annotations") or {}):
            if not _key_ok(key):
                found.append(f"{where}: {key!r} is not a valid label or annotation key")
        for tag in meta.get("tags") or []:
            if not (1 <= len(tag) <= 63 and _TAG.fullmatch(tag)):
                found.append(f"{where}: tag {tag!r} is not valid (lowercase letters, digits, ':+#' and '-')")
        for link in meta.get("links") or []:
            if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", str(link.get("url", ""))):
                found.append(f"{where}: link {link.get('url')!r} is not an absolute http(s) URL")
        spec = e.get("spec") or {}
        for fld, default_kind in _REF_FIELDS.items():
            refs = spec.get(fld)
            for ref in refs if isinstance(refs, list) else [refs] if isinstance(refs, str) else []:
                if _parse_ref(ref, default_kind) not in index:
                    found.append(f"{where}: spec.{fld} {ref!r} names no entity of the export")
    seen: set[tuple[str, str, str]] = set()
    for e in items:
        key = (str(e.get("kind")).lower(), (e.get("metadata") or {}).get("namespace", "default"), str((e.get("metadata") or {}).get("name")))
        if key in seen:
            found.append(f"{e.get('kind')} {key[2]!r}: defined twice")
        seen.add(key)
    return found


# --- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(items: list[dict]) -> str:
    """The entities as one multi-document ``catalog-info.yaml``."""
    head = ("# Generated by `paved export backstage` from services_catalog.yaml; do not edit.\n"
            "# Register this file in Backstage as a catalog Location.\n")
    return head + yaml.dump_all(items, Dumper=_Dumper, sort_keys=False, width=120, explicit_start=True)


def export(catalog: Catalog, output: Path, **options: Any) -> Path:
    """Validate the catalog's entities and write ``output/catalog-info.yaml``."""
    items = entities(catalog, **options)
    issues = problems(items)
    if issues:
        raise ExportError("the Backstage entities do not validate:\n  " + "\n  ".join(issues))
    output.mkdir(parents=True, exist_ok=True)
    target = output / OUTPUT_FILE
    target.write_text(dump(items), encoding="utf-8")
    return target


# --- command line ----------------------------------------------------------------------------


def add_parser(sub: Any, catalog_arg: Any) -> None:
    """Register ``paved export backstage`` on the CLI's subparsers."""
    p = sub.add_parser("export", help="export the catalog for other tools")
    formats = p.add_subparsers(dest="export_format", required=True, metavar="FORMAT")
    b = formats.add_parser("backstage", help="Backstage catalog-info.yaml entities",
                           description="Write DIR/catalog-info.yaml: a Group per team, a System, a Component per "
                                       "service and its APIs, validated against Backstage's schemas.")
    b.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write catalog-info.yaml into (created when missing)")
    b.add_argument("--system", default=DEFAULT_SYSTEM, metavar="NAME", help=f"System entity name (default {DEFAULT_SYSTEM})")
    b.add_argument("--grafana-url", default=None, metavar="URL",
                   help="Grafana base URL for dashboard links (Grafana has no public address in the stack settings: "
                        "without this option there is no dashboard link)")
    b.add_argument("--repository", default=None, metavar="URL",
                   help="the repository's web URL, for source locations and the runbooks link (default: the "
                        "paved:cluster.deployRunner.repository of the stack files)")
    b.add_argument("--runbooks-url", default=None, metavar="URL",
                   help="where docs/runbooks/ is browsed (default: <repository>/blob/HEAD/docs/runbooks)")
    catalog_arg(b)


def repository_of(environments: Any) -> str | None:
    """The repository's URL from the stack settings (the deploy runner's), or None."""
    for settings in environments:
        runner = getattr(getattr(settings, "cluster", None), "deploy_runner", None)
        if runner is not None and getattr(runner, "repository", None):
            return runner.repository
    return None


def run(args: argparse.Namespace, root: Path, catalog_path: Path) -> int:
    """The ``paved export backstage`` command."""
    from paved.catalog import load_catalog
    from paved.stack import list_stacks, load_stack

    if not _OBJECT_NAME.fullmatch(args.system) or len(args.system) > 63:
        raise UsageError(f"--system {args.system!r} is not a valid Backstage entity name")
    for opt in ("grafana_url", "runbooks_url", "repository"):
        value = getattr(args, opt, None)
        if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise UsageError(f"--{opt.replace('_', '-')} {value!r} is not an http(s) URL")
    environments = {env: load_stack(root, env) for env in list_stacks(root)}
    catalog = load_catalog(catalog_path, environments)
    owner = next(iter(environments.values())).platform_owner if environments else "platform"
    repository = getattr(args, "repository", None) or repository_of(environments.values())
    runbooks = args.runbooks_url or (f"{repository.rstrip('/')}/blob/HEAD/docs/runbooks" if repository else None)
    lifecycle = LIFECYCLE if any(s.protect_stateful for s in environments.values()) else LIFECYCLE_UNPROTECTED
    absolute = Path(catalog_path).resolve()
    catalog_file = absolute.relative_to(root.resolve()).as_posix() if absolute.is_relative_to(root.resolve()) else None
    target = export(catalog, Path(args.output), root=root, platform_owner=owner, system=args.system,
                    grafana_url=args.grafana_url, runbooks_url=runbooks, source_url=repository, lifecycle=lifecycle,
                    catalog_file=catalog_file or "services_catalog.yaml")
    kinds: dict[str, int] = {}
    for doc in yaml.safe_load_all(target.read_text(encoding="utf-8")):
        kinds[doc["kind"]] = kinds.get(doc["kind"], 0) + 1
    print(f"wrote {target}: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    return 0
