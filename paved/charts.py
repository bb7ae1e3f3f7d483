"""Chart expansion: every ``helm.v4.Chart`` the program registers, rendered with the real helm.

Under mocks a Chart v4 is a remote component with no children, so what a chart installs would
never be checked. This module does what the Kubernetes provider's Chart v4 ``Construct`` does
(pulumi-kubernetes ``provider/pkg/provider/helm/v4/chart.go`` and ``yaml/v2/yaml.go``) with the
``helm`` binary instead of the Helm SDK, and records the objects as the chart's children:

* ``helm template <release> <archive> --no-hooks``: the release's manifest without hooks (Chart
  v4 disables hooks and registers ``release.Manifest``; test hooks are hooks too), CRDs included
  unless ``skipCrds`` (``--include-crds``, like Chart v4's ``IncludeCRDs = !SkipCrds``). The
  release is the ``name`` input or the resource's name; values go in as a file, exactly as the
  program passed them.
* Normalised like Chart v4: ``List`` objects expanded, ``core/v1`` written ``v1``, the release
  namespace set on namespaced objects that have none.
* Registered in Chart v4's order (the cli-utils dependency sort: CRDs before their custom
  resources, namespaces before what lives in them, then a fixed kind order), named
  ``<prefix>:<namespace>/<name>`` or ``<prefix>:<name>`` (the prefix is ``resourcePrefix``,
  by default the chart resource's name), parented to the chart, with its provider, the
  dependencies of that sort as ``dependsOn``, ``helm.sh/resource-policy: keep`` as
  ``retainOnDelete`` and the values of a Secret's ``data``/``stringData`` marked secret.

Renders are cached in this process and on disk, keyed by everything helm reads, so a test
session or a repeated ``paved plan`` calls helm once per chart.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from paved.errors import PavedError

CHART_TYPE = "kubernetes:helm.sh/v4:Chart"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
KEEP_ANNOTATION = "helm.sh/resource-policy"
DEPENDS_ON_ANNOTATION = "config.kubernetes.io/depends-on"
NOT_CHECKED = "chart contents were not checked (--no-charts)"

# How often helm ran in this process (the tests count cache hits with it).
stats: Counter = Counter()


class ChartError(PavedError):
    """A chart cannot be rendered: no helm, no archive in the cache, or helm failed."""


# --- where helm and the charts are --------------------------------------------------------


def find_helm(root: Path) -> str:
    """``PAVED_HELM``, else ``<root>/.tools/bin/helm`` (``make tools``), else helm on PATH."""
    env = os.environ.get("PAVED_HELM")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise ChartError(f"PAVED_HELM={env} is not an executable file")
        return env
    local = root / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("helm")
    if found:
        return found
    raise ChartError("helm is needed to expand the charts and was not found: run `make tools` "
                     "(installs .tools/bin/helm) or set PAVED_HELM to a helm binary; --no-charts skips them")


def chart_cache(root: Path) -> Path:
    """The chart archives folder: ``PAVED_CHART_CACHE``, else ``<root>/.paved/charts``."""
    env = os.environ.get("PAVED_CHART_CACHE")
    return Path(env).resolve() if env else root / ".paved" / "charts"


def render_cache(root: Path) -> Path:
    """Where renders are kept between runs: ``PAVED_RENDER_CACHE``, else ``<root>/.paved/cache``."""
    env = os.environ.get("PAVED_RENDER_CACHE")
    return Path(env).resolve() if env else root / ".paved" / "cache"


def archive_name(chart: str, version: str) -> str:
    """``<chart>-<version>.tgz``, the name ``helm pull`` gives an archive."""
    return f"{chart}-{version}.tgz"


# --- what one Chart asks for ---------------------------------------------------------------


@dataclass(frozen=True)
class ChartSpec:
    """One Chart resource's inputs, resolved to a local archive."""

    resource: str
    chart: str
    version: str
    archive: Path
    release: str
    namespace: str
    values: str  # JSON, keys sorted: hashed and written for helm as they are
    include_crds: bool
    prefix: str
    skip_await: bool


def _plain(value: Any) -> Any:
    """Values as helm gets them: integral floats as ints, a secret as a masked stand-in so its
    value never reaches a rendered object."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return "[secret]"
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_UNSUPPORTED = ("valueYamlFiles", "postRenderer", "dependencyUpdate")


def spec_of(resource: str, inputs: dict[str, Any], root: Path, cache: Path) -> ChartSpec:
    """The ChartSpec of a recorded Chart's inputs; ChartError when its archive is missing."""
    inputs = _plain(inputs)
    for key in _UNSUPPORTED:
        if inputs.get(key):
            raise ChartError(f"Chart {resource}: the offline engine does not support `{key}`")
    chart = str(inputs.get("chart") or "")
    version = str(inputs.get("version") or "")
    local = (root / chart) if chart and not chart.startswith(("oci://", "http://", "https://")) else None
    if local is not None and ("/" in chart or chart.endswith(".tgz")) and local.exists():
        archive = local  # a packaged chart (or chart folder) the program deploys directly
        name = local.name.removesuffix(".tgz")
    else:
        name = chart.rstrip("/").rsplit("/", 1)[-1]
        if not version:
            raise ChartError(f"Chart {resource}: chart {name} has no pinned version")
        archive = cache / archive_name(name, version)
        if not archive.is_file():
            raise ChartError(f"chart {name} {version} is not in the chart cache {cache} "
                             f"(no {archive.name}): run `paved charts pull` or set PAVED_CHART_CACHE")
    namespace = str(inputs.get("namespace") or "default")
    prefix = inputs.get("resourcePrefix")
    return ChartSpec(
        resource=resource, chart=name, version=version, archive=archive,
        release=str(inputs.get("name") or resource), namespace=namespace,
        values=json.dumps(inputs.get("values") or {}, sort_keys=True),
        include_crds=not inputs.get("skipCrds", False),
        prefix=resource if prefix is None else str(prefix), skip_await=bool(inputs.get("skipAwait", False)))


# --- rendering -----------------------------------------------------------------------------


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as Kubernetes reads it: an unquoted date, or ``=``, stays a string."""


_STRING_TAGS = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag not in _STRING_TAGS]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_digests: dict[tuple[str, int, int], str] = {}
_consults_api: dict[str, bool] = {}
_renders: dict[str, list[dict[str, Any]]] = {}


def _digest(archive: Path) -> str:
    st = archive.stat()
    key = (str(archive), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        if archive.is_dir():
            for f in sorted(archive.rglob("*")):
                if f.is_file():
                    h.update(f.relative_to(archive).as_posix().encode() + b"\0" + f.read_bytes())
        else:
            h.update(archive.read_bytes())
        _digests[key] = h.hexdigest()
    return _digests[key]


def consults_api_versions(archive: Path) -> bool:
    """Whether any template reads ``.Capabilities.APIVersions`` (only then do the cluster's
    API versions change what the chart renders)."""
    digest = _digest(archive)
    if digest not in _consults_api:
        import tarfile

        found = False
        if archive.is_dir():
            files = (f.read_bytes() for f in archive.rglob("*") if f.is_file())
        else:
            tar = tarfile.open(archive)
            files = (tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
        for data in files:
            if b"APIVersions" in data:
                found = True
                break
        _consults_api[digest] = found
    return _consults_api[digest]


def render_key(spec: ChartSpec, kube_version: str, api_versions: tuple[str, ...]) -> str:
    """A hash of everything ``helm template`` reads for this chart."""
    apis = api_versions if consults_api_versions(spec.archive) else ()
    parts = [_digest(spec.archive), spec.release, spec.namespace, kube_version, "\n".join(apis),
             spec.values, str(spec.include_crds)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def helm_command(helm: str, spec: ChartSpec, kube_version: str, api_versions: tuple[str, ...], values_file: str) -> list[str]:
    """The ``helm template`` command line for one chart."""
    cmd = [helm, "template", spec.release, str(spec.archive), "--namespace", spec.namespace,
           "--kube-version", kube_version, "--no-hooks", "-f", values_file]
    if spec.include_crds:
        cmd.append("--include-crds")
    if consults_api_versions(spec.archive):
        for api in api_versions:
            cmd += ["--api-versions", api]
    return cmd


def template(helm: str, spec: ChartSpec, kube_version: str, api_versions: tuple[str, ...], cache_dir: Path) -> list[dict[str, Any]]:
    """The objects ``helm template`` renders for ``spec`` (cached in-process and on disk)."""
    key = render_key(spec, kube_version, api_versions)
    if key in _renders:
        return _renders[key]
    stored = cache_dir / f"{key}.json"
    try:
        objs = json.loads(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        objs = None
    if objs is None:
        with tempfile.TemporaryDirectory(prefix="paved-helm-") as tmp:
            values_file = os.path.join(tmp, "values.json")  # JSON is YAML: helm reads it with -f
            Path(values_file).write_text(spec.values, encoding="utf-8")
            cmd = helm_command(helm, spec, kube_version, api_versions, values_file)
            env = {**os.environ, "HELM_CACHE_HOME": f"{tmp}/cache", "HELM_CONFIG_HOME": f"{tmp}/config",
                   "HELM_DATA_HOME": f"{tmp}/data", "KUBECONFIG": os.devnull}
            stats["helm"] += 1
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise ChartError(f"helm template failed for chart {spec.chart} {spec.version} (Chart {spec.resource}):\n"
                             + (proc.stderr.strip() or proc.stdout.strip()))
        try:
            objs = [d for d in yaml.load_all(proc.stdout, Loader=_Loader) if d]
        except yaml.YAMLError as exc:
            raise ChartError(f"chart {spec.chart} {spec.version} (Chart {spec.resource}) renders YAML "
                             f"that does not parse: {exc}") from None
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            fd, part = tempfile.mkstemp(dir=cache_dir, prefix=".render-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(objs, fh)
            os.replace(part, stored)
        except OSError:
            pass  # a read-only cache only costs a render next time
    _renders[key] = objs
    return objs


def clear_memory_cache() -> None:
    """Forget this process's renders (benchmarks measure a cold cache with it)."""
    _renders.clear()


# --- Chart v4's normalisation and registration order --------------------------------------

# Built-in group/versions (the provider's kinds.KnownGroupVersions): their kinds get typed tokens.
KNOWN_GROUP_VERSIONS = frozenset("""
admissionregistration.k8s.io/v1 admissionregistration.k8s.io/v1alpha1 admissionregistration.k8s.io/v1beta1
apiextensions.k8s.io/v1 apiextensions.k8s.io/v1beta1 apiregistration.k8s.io/v1 apiregistration.k8s.io/v1beta1
apps/v1 apps/v1beta1 apps/v1beta2 auditregistration.k8s.io/v1alpha1 autoscaling/v1 autoscaling/v2
autoscaling/v2beta1 autoscaling/v2beta2 batch/v1 batch/v1beta1 batch/v2alpha1 certificates.k8s.io/v1
certificates.k8s.io/v1alpha1 certificates.k8s.io/v1beta1 coordination.k8s.io/v1 coordination.k8s.io/v1alpha1
coordination.k8s.io/v1alpha2 coordination.k8s.io/v1beta1 core/v1 discovery.k8s.io/v1 discovery.k8s.io/v1beta1
events.k8s.io/v1 events.k8s.io/v1beta1 extensions/v1beta1 flowcontrol.apiserver.k8s.io/v1
flowcontrol.apiserver.k8s.io/v1alpha1 flowcontrol.apiserver.k8s.io/v1beta1 flowcontrol.apiserver.k8s.io/v1beta2
flowcontrol.apiserver.k8s.io/v1beta3 meta/v1 networking.k8s.io/v1 networking.k8s.io/v1alpha1
networking.k8s.io/v1beta1 node.k8s.io/v1 node.k8s.io/v1alpha1 node.k8s.io/v1beta1 policy/v1 policy/v1beta1
rbac.authorization.k8s.io/v1 rbac.authorization.k8s.io/v1alpha1 rbac.authorization.k8s.io/v1beta1
resource.k8s.io/v1 resource.k8s.io/v1alpha1 resource.k8s.io/v1alpha2 resource.k8s.io/v1alpha3
resource.k8s.io/v1beta1 resource.k8s.io/v1beta2 scheduling.k8s.io/v1 scheduling.k8s.io/v1alpha1
scheduling.k8s.io/v1alpha2 scheduling.k8s.io/v1beta1 settings.k8s.io/v1alpha1 storage.k8s.io/v1
storage.k8s.io/v1alpha1 storage.k8s.io/v1beta1 storagemigration.k8s.io/v1alpha1 storagemigration.k8s.io/v1beta1 v1
""".split())

# The built-in kinds whose scope the provider knows without a cluster (kinds.Kind.Namespaced).
NAMESPACED_KINDS = frozenset("""
Binding ConfigMap ControllerRevision CronJob CSIStorageCapacity DaemonSet Deployment Endpoints EndpointSlice
Event HorizontalPodAutoscaler Ingress Job Lease LimitRange NetworkPolicy PersistentVolumeClaim Pod
PodDisruptionBudget PodTemplate ReplicaSet ReplicationController ResourceQuota Role RoleBinding Secret Service
ServiceAccount StatefulSet
""".split())
CLUSTER_KINDS = frozenset("""
APIService CertificateSigningRequest ClusterRole ClusterRoleBinding CSIDriver CSINode CustomResourceDefinition
FlowSchema IngressClass MutatingWebhookConfiguration Namespace Node PersistentVolume PodSecurityPolicy
PriorityClass PriorityLevelConfiguration RuntimeClass StorageClass ValidatingWebhookConfiguration VolumeAttachment
""".split())

# cli-utils' apply order for kinds in one dependency level (ordering.computeGroupKind2index):
# these first, in this order; ValidatingWebhookConfiguration last; every other kind between,
# by group then kind.
_FIRST = [("", "Namespace"), ("", "ResourceQuota"), ("storage.k8s.io", "StorageClass"),
          ("apiextensions.k8s.io", "CustomResourceDefinition"),
          ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"), ("", "ServiceAccount"),
          ("extensions", "PodSecurityPolicy"), ("policy", "PodSecurityPolicy"),
          ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole"),
          ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
          ("", "ConfigMap"), ("", "Secret"), ("", "Service"), ("", "LimitRange"),
          ("scheduling.k8s.io", "PriorityClass"), ("extensions", "Deployment"), ("apps", "Deployment"),
          ("apps", "StatefulSet"), ("batch", "CronJob"), ("policy", "PodDisruptionBudget")]
_KIND_RANK = {gk: i - len(_FIRST) for i, gk in enumerate(_FIRST)}
_KIND_RANK[("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")] = 1


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def type_token(api_version: str, kind: str) -> str:
    """The Pulumi type a Chart v4 child registers as (yaml/v2 ``RegisterResource``)."""
    if api_version in KNOWN_GROUP_VERSIONS:
        return f"kubernetes:{api_version if '/' in api_version else 'core/' + api_version}:{kind}"
    return f"kubernetes:{api_version}:{kind}"


def _expand_lists(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pending = list(objs)
    while pending:
        obj = pending.pop(0)
        if isinstance(obj.get("items"), list):  # unstructured.IsList: any object with an items array
            pending[:0] = [o for o in obj["items"] if o]
            continue
        out.append(obj)
    return out


def crd_scopes(objs: list[dict[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) → namespaced, for every CustomResourceDefinition among ``objs``."""
    scopes = {}
    for obj in objs:
        if obj.get("kind") == "CustomResourceDefinition" and group_of(obj.get("apiVersion", "")) == "apiextensions.k8s.io":
            spec = obj.get("spec") or {}
            scopes[(spec.get("group", ""), (spec.get("names") or {}).get("kind", ""))] = spec.get("scope") == "Namespaced"
    return scopes


def served_api_versions(objs: list[dict[str, Any]]) -> set[str]:
    """What a cluster that has these CRDs reports as API versions: ``group/version`` and
    ``group/version/Kind`` for every served version (helm's ``GetVersionSet``)."""
    found = set()
    for obj in objs:
        if obj.get("kind") != "CustomResourceDefinition":
            continue
        spec = obj.get("spec") or {}
        for v in spec.get("versions") or []:
            if v.get("served", True):
                found.add(f"{spec.get('group')}/{v.get('name')}")
                found.add(f"{spec.get('group')}/{v.get('name')}/{(spec.get('names') or {}).get('kind')}")
    return found


def normalize(objs: list[dict[str, Any]], namespace: str, cluster_crds: dict[tuple[str, str], bool],
              where: str) -> list[dict[str, Any]]:
    """Chart v4's ``Normalize``: lists expanded, envelope required, ``core/v1`` → ``v1``, the
    release namespace on namespaced objects without one. The scope of a custom kind comes from
    the chart's own CRDs, then from the plan's (the CRDs the cluster will serve)."""
    objs = _expand_lists(objs)
    own = crd_scopes(objs)
    for obj in objs:
        api, kind = obj.get("apiVersion"), obj.get("kind")
        meta = obj.get("metadata")
        if not (isinstance(api, str) and api and isinstance(kind, str) and kind):
            raise ChartError(f"{where}: a rendered object has no kind or apiVersion: {json.dumps(obj)[:100]}")
        if not isinstance(meta, dict) or not meta.get("name"):
            raise ChartError(f"{where}: {kind} has no metadata.name: {json.dumps(obj)[:100]}")
        if api.startswith("core/"):
            obj["apiVersion"] = api = api[len("core/"):]
        if meta.get("namespace"):
            continue
        group = group_of(api)
        if api in KNOWN_GROUP_VERSIONS and kind.removesuffix("Patch") in NAMESPACED_KINDS | CLUSTER_KINDS:
            namespaced = kind.removesuffix("Patch") in NAMESPACED_KINDS
        elif (group, kind) in own:
            namespaced = own[(group, kind)]
        else:
            namespaced = cluster_crds.get((group, kind), False)
        if namespaced:
            meta["namespace"] = namespace
    return objs


def _obj_id(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (group_of(obj["apiVersion"]), obj["kind"], meta.get("namespace") or "", meta["name"])


def _depends_on(obj: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The objects named in a ``config.kubernetes.io/depends-on`` annotation."""
    text = ((obj["metadata"].get("annotations") or {}).get(DEPENDS_ON_ANNOTATION)) or ""
    deps = []
    for ref in filter(None, (r.strip() for r in text.split(","))):
        parts = ref.split("/")
        if len(parts) == 5 and parts[1] == "namespaces":
            deps.append((parts[0], parts[3], parts[2], parts[4]))
        elif len(parts) == 3:
            deps.append((parts[0], parts[1], "", parts[2]))
    return deps


def ordered(objs: list[dict[str, Any]], where: str) -> list[tuple[dict[str, Any], list[tuple]]]:
    """Objects in Chart v4's registration order, each with the objects it depends on."""
    ids = [_obj_id(o) for o in objs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ChartError(f"{where}: the chart renders {dup[1]} {dup[3]} twice")
    by_id = dict(zip(ids, objs))
    crds = {}
    namespaces = {}
    for i, o in zip(ids, objs):
        if o["kind"] == "CustomResourceDefinition" and i[0] == "apiextensions.k8s.io":
            spec = o.get("spec") or {}
            crds[(spec.get("group", ""), (spec.get("names") or {}).get("kind", ""))] = i
        if o["kind"] == "Namespace" and i[0] == "":
            namespaces[i[3]] = i
    deps: dict[tuple, list[tuple]] = {}
    for i, o in zip(ids, objs):
        d = []
        if (i[0], i[1]) in crds:
            d.append(crds[(i[0], i[1])])
        if i[2] and i[2] in namespaces:
            d.append(namespaces[i[2]])
        d += [x for x in _depends_on(o) if x in by_id]
        deps[i] = [x for x in dict.fromkeys(d) if x != i]
    remaining = {i: set(d) for i, d in deps.items()}
    out = []
    while remaining:
        level = [i for i, d in remaining.items() if not d]
        if not level:
            raise ChartError(f"{where}: the chart's objects depend on each other in a cycle")
        for i in level:
            del remaining[i]
        for d in remaining.values():
            d.difference_update(level)
        level.sort(key=lambda i: (_KIND_RANK.get((i[0], i[1]), 0), i[0], i[1], i[2], i[3]))
        out += [(by_id[i], deps[i]) for i in level]
    return out


def child_name(prefix: str, obj: dict[str, Any]) -> str:
    """``<prefix>:<namespace>/<name>``, or ``<prefix>:<name>`` for a cluster-scoped object."""
    meta = obj["metadata"]
    name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    return f"{prefix}:{name}" if prefix else name


def child_urn(chart_urn: str, token: str, name: str) -> str:
    """The URN the mock monitor gives a child: the parent's type, ``$``, the child's type."""
    parts = chart_urn.split("::")
    return "::".join([parts[0], parts[1], f"{parts[2].split('$')[-1]}${token}", name])


def _registration_inputs(obj: dict[str, Any], skip_await: bool) -> dict[str, Any]:
    if skip_await:
        obj["metadata"]["annotations"] = {**(obj["metadata"].get("annotations") or {}), "pulumi.com/skipAwait": "true"}
    if obj["apiVersion"] == "v1" and obj["kind"] == "Secret":
        # Chart v4 marks both maps secret. Here each value is marked, so the plan, the schema
        # check and the rendered manifest keep the keys (never the values).
        for key in ("data", "stringData"):
            if isinstance(obj.get(key), dict):
                obj[key] = {k: {SECRET_SIG: SECRET_VALUE, "value": v} for k, v in obj[key].items()}
            elif key in obj and obj[key] is not None:
                obj[key] = {SECRET_SIG: SECRET_VALUE, "value": obj[key]}
    return obj


# --- the expansion -------------------------------------------------------------------------


def expand(resources: list, kube_version: str, root: Path) -> list:
    """``resources`` with every Chart's children after it (engine.Recorded entries)."""
    from copy import deepcopy

    from paved.engine import Recorded

    charts = [r for r in resources if r.type == CHART_TYPE]
    if not charts:
        return resources
    helm = find_helm(root)
    cache = chart_cache(root)
    store = render_cache(root)
    kube = kube_version if kube_version.count(".") >= 2 else f"{kube_version}.0"
    specs = {r.urn: spec_of(r.name, r.inputs, root, cache) for r in charts}

    def render_all(apis: tuple[str, ...]) -> dict[str, list[dict[str, Any]]]:
        with ThreadPoolExecutor(max_workers=max(1, min(len(specs), os.cpu_count() or 1))) as pool:
            futures = {urn: pool.submit(template, helm, s, kube, apis, store) for urn, s in specs.items()}
            return {urn: f.result() for urn, f in futures.items()}

    # The cluster will serve every CRD the charts install: render until those API versions
    # are stable (one extra round at most in practice, and none for charts that never look).
    apis: tuple[str, ...] = ()
    rendered = render_all(apis)
    for _ in range(4):
        found = tuple(sorted(set().union(*(served_api_versions(objs) for objs in rendered.values()))))
        if found == apis:
            break
        apis = found
        rendered = render_all(apis)
    else:
        raise ChartError("the charts' CustomResourceDefinitions do not settle: each render changes the next")

    all_objs = [o for objs in rendered.values() for o in objs]
    cluster_crds = crd_scopes(_expand_lists(all_objs))
    out = []
    for rec in resources:
        out.append(rec)
        if rec.type != CHART_TYPE:
            continue
        spec = specs[rec.urn]
        where = f"Chart {rec.name} ({spec.chart} {spec.version})"
        objs = normalize(deepcopy(rendered[rec.urn]), spec.namespace, cluster_crds, where)
        urn_of = {}
        for obj, deps in ordered(objs, where):
            token = type_token(obj["apiVersion"], obj["kind"])
            name = child_name(spec.prefix, obj)
            urn = child_urn(rec.urn, token, name)
            urn_of[_obj_id(obj)] = urn
            keep = (obj["metadata"].get("annotations") or {}).get(KEEP_ANNOTATION) == "keep"
            out.append(Recorded(
                type=token, name=name, custom=True, inputs=_registration_inputs(obj, spec.skip_await),
                provider=rec.provider, parent=rec.urn, urn=urn,
                options={"protect": bool(rec.options.get("protect")), "retainOnDelete": keep,
                         "ignoreChanges": [], "aliases": [], "dependsOn": [urn_of[d] for d in deps],
                         # Chart v4's children are registered by the same kubernetes provider plugin.
                         **({"version": rec.options["version"]} if rec.options.get("version") else {})}))
    return out
