"""The catalog's data model: teams and services, as typed, frozen pydantic models.

Keys are camelCase in YAML (the Kubernetes convention) and snake_case in Python. Unknown
keys are errors at every level, and types are strict: a quoted number is not a number.
Field-level rules live here; rules that relate several fields or entries live in
``paved.catalog``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from paved.quantity import cpu_cores, memory_bytes

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
# A tag after the last path segment, or a digest; "latest" is rejected separately.
IMAGE_REF = re.compile(
    r"^(?P<repo>[a-z0-9]+([._/:-][a-z0-9]+)*?)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)

# The LimitRange every team namespace gets; the catalog is checked against it so that a
# pod the cluster would refuse at admission is refused by `paved validate` instead.
MAX_LIMIT_REQUEST_RATIO = {"cpu": 4, "memory": 2}


def _dns_label(value: str) -> str:
    if len(value) > 63 or not DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return value


def _cpu(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not a CPU quantity")
    cpu_cores(value)
    return str(value)


def _memory(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{value!r} is not a memory quantity")
    memory_bytes(value)
    return str(value)


def _image(value: str) -> str:
    m = IMAGE_REF.match(value)
    if not m:
        raise ValueError(f"{value!r} is not an image reference like 'registry/name:1.2.3'")
    if not m["tag"] and not m["digest"]:
        raise ValueError(f"{value!r} has no tag; pin a version like ':1.2.3' or a digest")
    if m["tag"] == "latest":
        raise ValueError(f"{value!r} uses the floating tag 'latest'; pin a version")
    return value


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


def _topic(value: str) -> str:
    if not TOPIC_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid Kafka topic name")
    return value


def _as_tuple(value: Any) -> Any:
    # YAML gives lists; strict mode would refuse them for the (hashable) tuple fields.
    return tuple(value) if isinstance(value, list) else value


def _secret_shorthand(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


Name = Annotated[str, AfterValidator(_dns_label)]
Cpu = Annotated[Any, AfterValidator(_cpu)]
Memory = Annotated[Any, AfterValidator(_memory)]
Image = Annotated[str, AfterValidator(_image)]
EnvName = Annotated[str, AfterValidator(_env_name)]
TopicName = Annotated[str, AfterValidator(_topic)]


class Model(BaseModel):
    """Base of every catalog model: camelCase keys, unknown keys forbidden, strict types."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


class Quota(Model):
    """A team namespace's ResourceQuota: total requests and pods across its workloads."""

    cpu: Cpu = Field(description="Total CPU requests allowed in the namespace, e.g. '8'.")
    memory: Memory = Field(description="Total memory requests allowed in the namespace, e.g. '16Gi'.")
    pods: int = Field(ge=1, le=10000, description="Maximum number of pods.")


class Team(Model):
    """A team: owns services and gets one namespace."""

    name: Name
    owner: str = Field(min_length=3, description="Contact of the owning team (e-mail or handle).")
    cost_center: str = Field(min_length=1, description="Cost center billed for the team's resources.")
    namespace: Name | None = Field(default=None, description="Namespace name; defaults to the team name.")
    quota: Quota

    @property
    def namespace_name(self) -> str:
        """The team's Kubernetes namespace."""
        return self.namespace or self.name


class CpuMemory(Model):
    """A CPU and memory pair."""

    cpu: Cpu
    memory: Memory


class Resources(Model):
    """Requests and limits for the service's container."""

    requests: CpuMemory
    limits: CpuMemory


class Scaling(Model):
    """Autoscaling bounds and targets for the HorizontalPodAutoscaler."""

    min: int = Field(ge=1, le=1000, description="Minimum replicas.")
    max: int = Field(ge=1, le=1000, description="Maximum replicas.")
    target_cpu_percent: int = Field(default=70, ge=10, le=100)
    target_memory_percent: int = Field(default=80, ge=10, le=100)
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)


class Probe(Model):
    """An HTTP probe on the service port."""

    path: str = Field(pattern=r"^/", description="HTTP path, starting with '/'.")
    initial_delay_seconds: int = Field(default=0, ge=0, le=600)
    period_seconds: int = Field(default=10, ge=1, le=300)
    timeout_seconds: int = Field(default=2, ge=1, le=60)
    failure_threshold: int = Field(default=3, ge=1, le=120)


class Probes(Model):
    """Startup, liveness and readiness probes."""

    startup: Probe = Probe(path="/healthz", period_seconds=2, failure_threshold=30)
    liveness: Probe = Probe(path="/healthz")
    readiness: Probe = Probe(path="/readyz")


class Secret(Model):
    """A secret the service reads; its value lives in AWS Secrets Manager, never in the repo.

    ``rotation: managed`` secrets are rotated by the stack's rotation Lambda every
    ``rotationDays``; ``third-party`` ones (API keys a vendor issues) are rotated by hand.
    """

    name: Name
    description: str | None = None
    rotation: Literal["managed", "third-party"] = "managed"
    rotation_days: int = Field(default=30, ge=1, le=90)

    @property
    def env_name(self) -> str:
        """Environment variable the secret is delivered as: ``db-password`` → ``DB_PASSWORD``."""
        return self.name.upper().replace("-", "_")


# A secret is written either as its name or as a mapping with more detail.
SecretEntry = Annotated[Secret, BeforeValidator(_secret_shorthand, json_schema_input_type=Name | Secret)]


class Topic(Model):
    """A Kafka topic the service produces (and so owns)."""

    name: TopicName
    partitions: int = Field(default=3, ge=1, le=1000)
    retention_hours: int = Field(default=168, ge=1, le=8760)


class Kafka(Model):
    """Kafka topics produced and consumed."""

    produces: Annotated[tuple[Topic, ...], BeforeValidator(_as_tuple)] = ()
    consumes: Annotated[tuple[TopicName, ...], BeforeValidator(_as_tuple)] = ()


class Slo(Model):
    """Service level objectives: availability and p99 latency."""

    availability: float = Field(gt=50, lt=100, description="Availability target in percent, e.g. 99.9.")
    latency_p99_ms: int = Field(ge=1, le=60000, description="p99 latency target in milliseconds.")


class Public(Model):
    """Public exposure through the shared load balancer."""

    host: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    path: str = Field(default="/", pattern=r"^/")


class Metrics(Model):
    """Where the service exposes Prometheus metrics."""

    path: str = Field(default="/metrics", pattern=r"^/")
    port: int | None = Field(default=None, ge=1, le=65535, description="Defaults to the service port.")


class Api(Model):
    """An API the service provides, published to the developer portal (`paved export backstage`)."""

    type: Literal["openapi", "asyncapi", "graphql", "grpc"] = Field(description="Format of the definition.")
    definition: str = Field(min_length=1, pattern=r"^[^/]",
                            description="Path of the definition file, relative to the repository root.")


class ServiceOverride(Model):
    """Per-environment changes to a service; merged key by key onto the base entry."""

    image: Image | None = None
    resources: dict[str, Any] | None = None
    scaling: dict[str, Any] | None = None
    env: dict[EnvName, str] | None = None
    public: Public | None = None


class Service(Model):
    """A microservice: one catalog entry gives a hardened, autoscaled, observable workload."""

    name: Name
    team: Name
    description: str = Field(min_length=1)
    former_names: Annotated[tuple[Name, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), description="Names this service had before, oldest first; its resources are moved, not recreated.")
    image: Image
    port: int = Field(ge=1, le=65535)
    resources: Resources
    scaling: Scaling
    probes: Probes = Probes()
    metrics: Metrics = Metrics()
    env: dict[EnvName, str] = Field(default_factory=dict)
    secrets: Annotated[tuple[SecretEntry, ...], BeforeValidator(_as_tuple)] = ()
    kafka: Kafka = Kafka()
    calls: Annotated[tuple[Name, ...], BeforeValidator(_as_tuple)] = ()
    slo: Slo | None = None
    public: Public | None = None
    api: Api | None = Field(default=None, description="The API the service provides, for the developer portal.")
    overrides: dict[str, ServiceOverride] = Field(default_factory=dict)


class CatalogDoc(Model):
    """The whole ``services_catalog.yaml`` document."""

    teams: Annotated[tuple[Team, ...], BeforeValidator(_as_tuple)]
    services: Annotated[tuple[Service, ...], BeforeValidator(_as_tuple)]

