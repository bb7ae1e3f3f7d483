"""The one vocabulary for reading recorded resources (bottom layer).

Policy rules, ``paved cost``, ``paved diff`` and the protect transformation all read
resources through this module, so a fact such as "which types hold data" or "what a pod
requests" is defined once. Every reader works on the plan document's plain dicts and on
pulumi-policy's unknown-checking proxies alike: a value Pulumi cannot know during preview
reads as :data:`UNKNOWN` and counts as set.

Imports: the standard library, pulumi-policy's proxy error, and ``paved`` bottom-layer
modules only (never ``components``, ``policies`` or a command module).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from paved.naming import SERVICE_LABEL, TEAM_LABEL
from paved.quantity import cpu_cores, memory_bytes

# --- type tokens -------------------------------------------------------------------------

EKS_CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
MSK_CLUSTER = "aws:msk/cluster:Cluster"
SECRET = "aws:secretsmanager/secret:Secret"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
# Tags of a central-logs group (components/logs.py): its assumed volume per pod and month, and
# the namespaces whose pods write to it. `paved cost` prices the group from them.
LOG_VOLUME_TAG = "paved.dev/log-gib-per-pod-month"
LOG_NAMESPACES_TAG = "paved.dev/log-namespaces"
WAF_WEB_ACL = "aws:wafv2/webAcl:WebAcl"
# The request volume `paved cost` prices for a web ACL: the stack's assumption, carried as a tag.
WAF_REQUESTS_TAG = "paved.dev/assumed-requests-millions"
# Argo Rollouts' replacement of a Deployment: the same pod template at spec.template.
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
HPA_TYPES = frozenset({
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
})
# A KEDA ScaledObject: it creates and owns an HPA for its target, so paved reads it as one
# (spec.minReplicaCount / spec.maxReplicaCount; KEDA's defaults are 0 and 100).
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
SCALED_OBJECT_DEFAULT_MIN = 0
SCALED_OBJECT_DEFAULT_MAX = 100
AUTOSCALER_TYPES = HPA_TYPES | {SCALED_OBJECT}
# Kinds whose replica count an HPA can own (``scaleTargetRef.kind``).
SCALABLE_TYPES = {
    "kubernetes:apps/v1:Deployment": "Deployment",
    "kubernetes:apps/v1:StatefulSet": "StatefulSet",
    "kubernetes:apps/v1:ReplicaSet": "ReplicaSet",
    ROLLOUT: "Rollout",
}

# AWS defaults for inputs a resource may leave out.
DEFAULT_NODE_INSTANCE_TYPE = "t3.medium"  # EKS managed node group without instanceTypes
DEFAULT_NODE_DISK_GB = 20  # EKS managed node group diskSize
DEFAULT_MSK_VOLUME_GB = 1000  # MSK storageInfo.ebsStorageInfo.volumeSize

# Losing one of these loses data or locks it away (a KMS key), or takes every workload
# down (the cluster, a team namespace). The protect transformation, PAVED-REL-001 and
# ``paved diff``'s data-loss check all use this one set.
# Services' datastores (components/data.py); rules and cost read them by these.
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
DYNAMODB_TABLE = "aws:dynamodb/table:Table"
SERVERLESS_CACHE = "aws:elasticache/serverlessCache:ServerlessCache"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"  # a node-based cache

STATEFUL_TYPES = frozenset({
    "aws:msk/cluster:Cluster",
    "aws:msk/topic:Topic",  # deleting a topic drops its messages
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:eks/cluster:Cluster",
    "kubernetes:core/v1:Namespace",
    # Services' datastores (components/data.py).
    "aws:rds/instance:Instance",
    "aws:dynamodb/table:Table",
    "aws:elasticache/serverlessCache:ServerlessCache",
    "aws:elasticache/replicationGroup:ReplicationGroup",
})


def is_kubernetes_object(type_token: str, custom: bool = True) -> bool:
    """Whether a resource becomes one Kubernetes API object: a custom resource of a
    ``kubernetes:`` type that is not a Helm chart or a YAML group (providers are
    ``pulumi:providers:kubernetes``, so they never are)."""
    return custom and type_token.startswith("kubernetes:") and not type_token.split(":")[1].startswith(("helm.sh", "yaml"))


# --- reading props -----------------------------------------------------------------------


class _Unknown:
    """A value Pulumi cannot know during preview (an ARN of a resource created in the same run)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def lookup(obj: Any, path: str | Sequence[Any], default: Any = None) -> Any:
    """``obj`` at a dotted ``path`` (``"spec.template.spec"``), ``UNKNOWN``, or ``default``.

    Reading an unknown value through pulumi-policy's proxy raises UnknownValueError, which
    the policy server turns into an *advisory* "can't run during preview" note: a mandatory
    rule would silently stop blocking. Every rule reads through here instead and treats
    UNKNOWN as set.
    """
    parts = path.split(".") if isinstance(path, str) else list(path)
    current = obj
    try:
        for part in parts:
            if isinstance(current, Mapping):
                if part not in current:
                    return default
                current = current[part]
            elif isinstance(current, Sequence) and not isinstance(current, str) and isinstance(part, int):
                if part >= len(current):
                    return default
                current = current[part]
            else:
                return default
    except UnknownValueError:
        return UNKNOWN
    return default if current is None else current


def is_set(obj: Any, path: str | Sequence[Any]) -> bool:
    """True when the value is present (or unknown at preview, which counts as set)."""
    value = lookup(obj, path)
    return value is UNKNOWN or value not in (None, "", [], {})


def is_off(obj: Any, path: str | Sequence[Any]) -> bool:
    """True when a flag is known and not true (missing, false): unknown at preview counts as on."""
    value = lookup(obj, path)
    return value is not True and value is not UNKNOWN


def items(obj: Any, path: str | Sequence[Any]) -> list[Any]:
    """A list at ``path`` (empty when missing or unknown), safe on pulumi-policy's read-only proxies."""
    value = lookup(obj, path, [])
    if value is UNKNOWN or not isinstance(value, Sequence) or isinstance(value, str):
        return []
    out = []
    for i in range(len(value)):
        try:
            out.append(value[i])
        except UnknownValueError:
            out.append(UNKNOWN)
    return out


# --- Kubernetes workloads ----------------------------------------------------------------

POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    ROLLOUT: ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_TYPES = frozenset(POD_SPEC_PATHS)
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")


def kind_of(resource_type: str) -> str:
    """``kubernetes:apps/v1:Deployment`` → ``Deployment``."""
    return resource_type.rsplit(":", 1)[-1]


def object_name(props: Mapping[str, Any], fallback: str) -> str:
    """``metadata.name`` or the resource's logical name."""
    name = lookup(props, "metadata.name")
    return name if isinstance(name, str) else fallback


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside any workload kind, or None for other resources."""
    path = POD_SPEC_PATHS.get(resource_type)
    if path is None:
        return None
    spec = lookup(props, path)
    return spec if isinstance(spec, Mapping) else None


def containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every container of a pod spec: init, regular and ephemeral."""
    for key in CONTAINER_FIELDS:
        for c in items(pod, key):
            if isinstance(c, Mapping):
                yield c


def effective(container: Mapping[str, Any], pod: Mapping[str, Any], key: str) -> Any:
    """A securityContext field of the container, falling back to the pod's."""
    value = lookup(container, ("securityContext", key))
    return lookup(pod, ("securityContext", key)) if value is None else value


# --- container images ---------------------------------------------------------------


@dataclass(frozen=True)
class ImageRef:
    """An image reference split the way container runtimes read it."""

    registry: str  # "docker.io" when the reference names none
    path: str  # "library/nginx", "shop/orders"
    tag: str | None
    digest: str | None

    @property
    def repository(self) -> str:
        """``registry/path``, the part an allow-list matches."""
        return f"{self.registry}/{self.path}"


def parse_image(image: str) -> ImageRef:
    """``123.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.8.2`` → its registry, path, tag and digest.

    The one image-reference parser: the image rules and the version label of components read
    images through it. An empty tag (``name:``) reads as none.
    """
    ref, _, digest = image.partition("@")
    name, tag = ref, None
    head, _, last = ref.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        name = f"{head}/{last}" if head else last
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), rest
    else:
        registry, path = "docker.io", name if rest else f"library/{name}"
    return ImageRef(registry=registry, path=path, tag=tag or None, digest=digest or None)


# --- workloads and autoscalers ----------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One resource, whatever form it came in."""

    type: str
    props: Any
    name: str
    source: Any = field(compare=False, repr=False)


def normalize(resources: Iterable[Any]) -> list[Item]:
    """``(type, inputs)`` / ``(type, inputs, name)`` tuples or PolicyResource objects → Items."""
    out = []
    for i, r in enumerate(resources):
        if isinstance(r, Item):
            out.append(r)
        elif hasattr(r, "resource_type"):
            out.append(Item(r.resource_type, r.props, r.name, r))
        else:
            name = r[2] if len(r) > 2 and r[2] else f"#{i + 1}"
            out.append(Item(r[0], r[1], name, r))
    return out


def number(value: Any) -> Decimal | None | Any:
    """A count or size as Decimal: ``3``, ``3.0`` and ``"3"`` alike; UNKNOWN stays UNKNOWN;
    None when missing or not a number."""
    if value is UNKNOWN:
        return UNKNOWN
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        return Decimal(str(value).strip()).normalize()  # 13.0 -> 13, printed with :f
    except ArithmeticError:
        return None


def labels_at(props: Any, path: str) -> dict[str, Any]:
    """The labels map at ``path`` as a plain dict (empty when missing or unknown)."""
    labels = lookup(props, path)
    if not isinstance(labels, Mapping):
        return {}
    return {k: lookup(labels, [k]) for k in list(labels.keys())}


@dataclass(frozen=True)
class Requests:
    """A pod's effective requests: max(app containers + sidecars, largest other init container)."""

    cpu: Decimal
    memory: int
    complete: bool  # False when a request was unknown or malformed (counted as 0)


def pod_requests(pod: Mapping[str, Any]) -> Requests:
    """What the scheduler and a ResourceQuota count for one replica of ``pod``: the larger of
    the app containers plus sidecars, and the largest regular init container.

    A container without a request is counted at its limit (what Kubernetes defaults the
    request to), else at 0.
    """
    complete = True

    def one(container: Any, resource: str) -> Decimal | int:
        nonlocal complete
        value = lookup(container, ("resources", "requests", resource))
        if value is None:
            value = lookup(container, ("resources", "limits", resource))
        if value is None:
            return 0
        if value is UNKNOWN:
            complete = False
            return 0
        try:
            return cpu_cores(value) if resource == "cpu" else memory_bytes(value)
        except ValueError:
            complete = False
            return 0

    # Sidecars (init containers with restartPolicy Always) run alongside the app containers.
    inits = [c for c in items(pod, "initContainers") if isinstance(c, Mapping)]
    sidecars = [c for c in inits if lookup(c, "restartPolicy") == "Always"]
    app = [c for c in items(pod, "containers") if isinstance(c, Mapping)] + sidecars
    init = [c for c in inits if not any(c is s for s in sidecars)]
    cpu = max([sum((Decimal(one(c, "cpu")) for c in app), Decimal(0)), *(Decimal(one(c, "cpu")) for c in init)])
    memory = max([sum((int(one(c, "memory")) for c in app), 0), *(int(one(c, "memory")) for c in init)])
    return Requests(cpu, memory, complete)


@dataclass(frozen=True)
class Autoscaler:
    """A HorizontalPodAutoscaler (or a KEDA ScaledObject) and the workload it scales."""

    name: str
    namespace: str
    target_kind: Any
    target_name: Any
    min_replicas: Any  # int, or UNKNOWN
    max_replicas: Any  # int, None (missing) or UNKNOWN
    item: Item = field(compare=False, repr=False)
    kind: str = "HorizontalPodAutoscaler"


@dataclass(frozen=True)
class Workload:
    """A Deployment, StatefulSet or ReplicaSet with its requests and replica range."""

    kind: str
    name: str
    namespace: Any  # str, or UNKNOWN at preview
    service: str
    team: str
    pod_labels: Mapping[str, Any]
    requests: Requests
    replicas: Any  # spec.replicas: int, None (not set) or UNKNOWN
    autoscaler: Autoscaler | None
    item: Item = field(compare=False, repr=False)
    # An autoscaler whose target (or this workload's own name) is unknown at preview may own it.
    maybe_autoscaled: bool = False

    def _bound(self, attr: str) -> int | None:
        if self.autoscaler is None and self.maybe_autoscaled:
            return None
        if self.autoscaler is not None:
            value = getattr(self.autoscaler, attr)
        else:
            value = 1 if self.replicas is None else self.replicas
        return None if value is UNKNOWN or value is None else int(value)

    @property
    def min_replicas(self) -> int | None:
        """The autoscaler's minReplicas, else spec.replicas (default 1); None when unknown."""
        return self._bound("min_replicas")

    @property
    def max_replicas(self) -> int | None:
        """The autoscaler's maxReplicas, else spec.replicas (default 1); None when unknown."""
        return self._bound("max_replicas")


def namespace_of(props: Any) -> Any:
    """``metadata.namespace``: ``default`` when unset, UNKNOWN when unknown at preview."""
    ns = lookup(props, "metadata.namespace")
    return ns if isinstance(ns, str) or ns is UNKNOWN else "default"


def integer(value: Any, default: Any = None) -> Any:
    """A count as int; UNKNOWN stays UNKNOWN; ``default`` when missing or not a number."""
    n = number(value)
    if n is UNKNOWN:
        return UNKNOWN
    return default if n is None else int(n)


def replica_bounds(resource_type: str, props: Any) -> tuple[Any, Any]:
    """(min, max) replicas of an HPA or ScaledObject as written: Decimal, None (missing) or UNKNOWN."""
    if resource_type == SCALED_OBJECT:
        return number(lookup(props, "spec.minReplicaCount")), number(lookup(props, "spec.maxReplicaCount"))
    return number(lookup(props, "spec.minReplicas")), number(lookup(props, "spec.maxReplicas"))


def autoscalers(resources: Iterable[Any]) -> list[Autoscaler]:
    """Every HorizontalPodAutoscaler and KEDA ScaledObject among ``resources`` (a ScaledObject's
    target kind defaults to Deployment, its bounds to KEDA's 0 and 100)."""
    out = []
    for it in normalize(resources):
        if it.type == SCALED_OBJECT:
            out.append(Autoscaler(
                name=object_name(it.props, it.name), namespace=namespace_of(it.props),
                target_kind=lookup(it.props, "spec.scaleTargetRef.kind", "Deployment"),
                target_name=lookup(it.props, "spec.scaleTargetRef.name"),
                min_replicas=integer(lookup(it.props, "spec.minReplicaCount"), SCALED_OBJECT_DEFAULT_MIN),
                max_replicas=integer(lookup(it.props, "spec.maxReplicaCount"), SCALED_OBJECT_DEFAULT_MAX),
                item=it, kind="ScaledObject",
            ))
            continue
        if it.type not in HPA_TYPES:
            continue
        out.append(Autoscaler(
            name=object_name(it.props, it.name), namespace=namespace_of(it.props),
            target_kind=lookup(it.props, "spec.scaleTargetRef.kind"),
            target_name=lookup(it.props, "spec.scaleTargetRef.name"),
            min_replicas=integer(lookup(it.props, "spec.minReplicas"), 1),
            max_replicas=integer(lookup(it.props, "spec.maxReplicas")),
            item=it,
        ))
    return out


def workloads(resources: Iterable[Any]) -> list[Workload]:
    """Every scalable workload, joined with the autoscaler targeting it (same namespace, kind, name).

    A workload no known autoscaler targets is ``maybe_autoscaled`` when an autoscaler in its
    namespace has a target unknown at preview, or when its own name or namespace is unknown and
    some autoscaler's target matches no other workload; its replica range is then unknown.
    """
    normalized = normalize(resources)
    scalers = autoscalers(normalized)
    known = {(a.namespace, a.target_kind, a.target_name): a for a in scalers
             if all(isinstance(v, str) for v in (a.namespace, a.target_kind, a.target_name))}
    vague = [a for a in scalers if (a.namespace, a.target_kind, a.target_name) not in known]
    found = []
    for it in normalized:
        kind = SCALABLE_TYPES.get(it.type)
        pod = pod_spec(it.type, it.props) if kind else None
        if kind is None or pod is None:
            continue
        name = lookup(it.props, "metadata.name")
        found.append((it, kind, name, namespace_of(it.props), pod))
    matched = {(ns, kind, name) for _, kind, name, ns, _ in found if (ns, kind, name) in known}
    spare = [a for key, a in known.items() if key not in matched]
    out = []
    for it, kind, name, namespace, pod in found:
        autoscaler = known.get((namespace, kind, name))
        unclear = name is UNKNOWN or namespace is UNKNOWN
        maybe = autoscaler is None and (
            any(a.namespace in (namespace, UNKNOWN) or unclear for a in vague)
            or (unclear and any(namespace in (a.namespace, UNKNOWN) for a in spare))
        )
        shown_name = name if isinstance(name, str) else it.name
        labels = labels_at(it.props, "metadata.labels")
        service, team = labels.get(SERVICE_LABEL), labels.get(TEAM_LABEL)
        out.append(Workload(
            kind=kind, name=shown_name, namespace=namespace,
            service=service if isinstance(service, str) else shown_name,
            team=team if isinstance(team, str) else str(namespace),
            pod_labels=labels_at(it.props, "spec.template.metadata.labels"),
            requests=pod_requests(pod),
            replicas=integer(lookup(it.props, "spec.replicas")),
            autoscaler=autoscaler,
            item=it,
            maybe_autoscaled=maybe,
        ))
    return out


# --- node groups -------------------------------------------------------------------------


def launch_template_of(node_group: Item, resources: list[Item]) -> Item | None:
    """The LaunchTemplate a node group uses, when it can be told.

    Its ``launchTemplate.id`` is unknown until the template exists, so the link is, in order:
    the engine's property dependencies of ``launchTemplate``; the one LaunchTemplate among its
    dependencies; a LaunchTemplate named ``<node group>-lt`` (paved's naming); a known
    ``launchTemplate.name`` equal to a template's ``name`` input; the only LaunchTemplate there is.
    """
    templates = [r for r in resources if r.type == LAUNCH_TEMPLATE]
    source = node_group.source
    by_urn = {getattr(t.source, "urn", None): t for t in templates}
    for deps in ((getattr(source, "property_dependencies", None) or {}).get("launchTemplate"),
                 getattr(source, "dependencies", None)):
        found = [by_urn[d.urn] for d in deps or [] if getattr(d, "urn", None) in by_urn]
        if len(found) == 1:
            return found[0]
    named = [t for t in templates if t.name == f"{node_group.name}-lt"]
    if len(named) == 1:
        return named[0]
    wanted = lookup(node_group.props, "launchTemplate.name")
    if isinstance(wanted, str):
        named = [t for t in templates if lookup(t.props, "name") == wanted]
        if len(named) == 1:
            return named[0]
    return templates[0] if len(templates) == 1 else None


def node_disks(props: Any, template: Item | None) -> list[Any] | None:
    """Root volume sizes (GiB) of one node: ``diskSize`` (20 when unset), or the template's EBS
    block devices; None when a template is used but not found. Entries may be UNKNOWN."""
    if lookup(props, "launchTemplate") is None:
        disk = number(lookup(props, "diskSize"))
        return [Decimal(DEFAULT_NODE_DISK_GB) if disk is None else disk]
    if template is None:
        return None
    sizes = []
    for mapping in items(template.props, "blockDeviceMappings"):
        if mapping is UNKNOWN:
            sizes.append(UNKNOWN)
        elif isinstance(mapping, Mapping) and lookup(mapping, "ebs") is not None:
            kind = lookup(mapping, "ebs.volumeType")
            size = number(lookup(mapping, "ebs.volumeSize"))
            sizes.append(UNKNOWN if kind not in (None, "gp3") or size is None else size)
    return sizes


def node_instance_types(props: Any, template: Item | None) -> list[Any] | None:
    """A node group's instance types: ``instanceTypes``, else its template's ``instanceType``,
    else t3.medium (EKS's default); None when a template is used but not found."""
    if lookup(props, "instanceTypes") is UNKNOWN:
        return [UNKNOWN]
    types = items(props, "instanceTypes")
    if types:
        return types
    if lookup(props, "launchTemplate") is None:
        return [DEFAULT_NODE_INSTANCE_TYPE]
    if template is None:
        return None
    instance = lookup(template.props, "instanceType")
    return [instance] if instance is not None else [DEFAULT_NODE_INSTANCE_TYPE]


# --- room for rollouts ------------------------------------------------------------------

# The rolling update every catalog service's Deployment gets (components/service.py): one
# new pod at a time, no old pod removed before it is ready.
SERVICE_MAX_SURGE = 1
SERVICE_MAX_UNAVAILABLE = 0
# Deployments default to maxSurge 25% (apps/v1), a percentage of the replicas rounded up.
DEFAULT_MAX_SURGE = "25%"


def surge_pods(kind: str, strategy: Any, max_surge: Any, replicas: int) -> int | None:
    """Extra pods a rolling update of a ``kind`` workload at ``replicas`` may create, or None
    when unknown. Recreate and StatefulSets replace pods without surging; an Argo Rollout's
    ``blueGreen`` runs a full preview set beside the active one, its ``canary`` surges like a
    Deployment (``maxSurge``, default 25%)."""
    if kind == "Rollout" and strategy == "blueGreen":
        return replicas
    if kind not in ("Deployment", "Rollout") or strategy == "Recreate":
        return 0
    value = DEFAULT_MAX_SURGE if max_surge is None else max_surge
    if value is UNKNOWN:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return int((Decimal(value.strip()[:-1]) * replicas / 100).to_integral_value(ROUND_CEILING))
        except ArithmeticError:
            return None
    try:
        return int(Decimal(str(value)))
    except ArithmeticError:
        return None


@dataclass(frozen=True)
class RolloutNeed:
    """What a namespace's ResourceQuota must hold while every workload, at maximum replicas,
    rolls out at once: requests and pods of ``max + surge`` replicas each."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    pods: int = 0

    def plus(self, cpu: Decimal, memory: Decimal | int, max_replicas: int, surge: int) -> RolloutNeed:
        """This need with one more workload whose pod requests ``cpu`` and ``memory``."""
        n = max_replicas + surge
        return RolloutNeed(self.cpu + cpu * n, self.memory + Decimal(memory) * n, self.pods + n)

    def of(self, resource: str) -> Decimal:
        """The need for ``cpu``, ``memory`` or ``pods``."""
        return Decimal(getattr(self, resource))


# --- values in messages ------------------------------------------------------------------


def memory_text(value: int | Decimal) -> str:
    """Bytes as a Kubernetes quantity a person reads: ``16Gi``, ``6912Mi``, else bytes."""
    value = int(value)
    for unit, factor in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value and value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


def shown(value: Any) -> str:
    """A raw input value for a message: numbers without a trailing ``.0`` (the engine sends floats)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)
