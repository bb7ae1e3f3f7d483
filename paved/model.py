"""The catalog's data model: teams and services, as typed, frozen pydantic models.

Keys are camelCase in YAML (the Kubernetes convention) and snake_case in Python. Unknown
keys are errors at every level, and types are strict: a quoted number is not a number.
Field-level rules live here; rules that relate several fields or entries live in
``paved.catalog``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from paved.cidr import OPEN_WORLD, covers_public_internet, ip_network
from paved.naming import ALERT_RECEIVER_KINDS, INJECTED_ENV_NAMES, PLATFORM_ENV_NAMES, injected_env, platform_env, reserved_namespace
from paved.quantity import QUANTITY_PATTERN, cpu_cores, memory_bytes

# Every pattern is matched against the whole string (``fullmatch``): with ``re.match`` and
# ``$`` a trailing newline would pass. Field patterns are checked by pydantic-core's Rust
# regex engine, where ``$`` is the end of the text, as in JSON Schema.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Service names become Kubernetes Service names: DNS-1035, so no leading digit.
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TOPIC_NAME = re.compile(r"[a-zA-Z0-9._-]{1,249}")
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
# A tag after the last path segment, or a digest; "latest" is rejected separately.
IMAGE_REF = re.compile(
    r"(?P<repo>[a-z0-9]+([._/:-][a-z0-9]+)*?)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?"
)
# HTTP paths: printable ASCII without spaces (anything else is percent-encoded on the wire).
HTTP_PATH = r"^/[!-~]*$"
MAX_IMAGE_LENGTH = 512
MAX_LABEL_LENGTH = 63
MAX_HOST_LENGTH = 253
MAX_TAG_VALUE_LENGTH = 256
# AWS tag values: letters, separators and digits in any script, and `_ . : / = + - @`.
TAG_VALUE_PUNCTUATION = set("_.:/=+-@")

# The LimitRange every team namespace gets; the catalog is checked against it so that a
# pod the cluster would refuse at admission is refused by `paved validate` instead.
MAX_LIMIT_REQUEST_RATIO = {"cpu": 4, "memory": 2}


def _label_pattern(first: str) -> str:
    return rf"^(?=.{{1,{MAX_LABEL_LENGTH}}}$){first}([-a-z0-9]*[a-z0-9])?$"


def _label(value: str, pattern: re.Pattern[str], what: str) -> str:
    if len(value) > MAX_LABEL_LENGTH or not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not a {what}, at most {MAX_LABEL_LENGTH} characters)")
    return value


def _dns_label(value: str) -> str:
    return _label(value, DNS_LABEL, "DNS-1123 label (lowercase letters, digits and '-', "
                                    "starting and ending with a letter or digit")


def _service_name(value: str) -> str:
    return _label(value, DNS_1035_LABEL, "DNS-1035 label, which a Kubernetes Service name must be (lowercase "
                                         "letters, digits and '-', starting with a letter, ending with a letter or digit")


def _namespace(value: str) -> str:
    if reserved_namespace(value):
        raise ValueError(f"{value!r} is a namespace Kubernetes or the platform keeps for itself; choose another name")
    return value


def label_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a Kubernetes label value, or None if it can."""
    if len(value) > MAX_LABEL_LENGTH:
        return f"is {len(value)} characters; a label value has at most {MAX_LABEL_LENGTH}"
    if not LABEL_VALUE.fullmatch(value):
        return "is not a label value (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"
    return None


def tag_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be an AWS tag value, or None if it can."""
    if len(value) > MAX_TAG_VALUE_LENGTH:
        return f"is {len(value)} characters; an AWS tag value has at most {MAX_TAG_VALUE_LENGTH}"
    bad = sorted({ch for ch in value if ch not in TAG_VALUE_PUNCTUATION and unicodedata.category(ch)[0] not in "LZN"})
    if bad:
        return (f"has characters AWS tags do not allow ({''.join(bad)!r}); use letters, digits, spaces "
                "and _ . : / = + - @")
    return None


def _refusing(problem: Any, context: str = "") -> Any:
    """A validator raising ``problem(value)`` (a reason, or None when the value is fine)."""
    def check(value: str) -> str:
        reason = problem(value)
        if reason:
            raise ValueError(f"{value!r} {reason}{context}")
        return value
    return check


_tag_value = _refusing(tag_value_problem, " (it becomes an AWS tag)")
_label_value = _refusing(label_value_problem, " (it becomes a Kubernetes label)")


def _quantity(value: Any, parse: Any, kind: str, types: tuple[type, ...]) -> str:
    if isinstance(value, bool) or not isinstance(value, types):
        raise ValueError(f"{value!r} is not a {kind} quantity")
    if parse(value) <= 0:
        raise ValueError(f"{value!r} is not above zero; a {kind} quantity must be positive")
    return str(value)


def _cpu(value: Any) -> str:
    return _quantity(value, cpu_cores, "CPU", (str, int, float))


def _memory(value: Any) -> str:
    return _quantity(value, memory_bytes, "memory", (str, int))


def _image(value: str) -> str:
    m = IMAGE_REF.fullmatch(value) if len(value) <= MAX_IMAGE_LENGTH else None
    if not m:
        raise ValueError(f"{value!r} is not an image reference like 'registry/name:1.2.3'")
    if not m["tag"] and not m["digest"]:
        raise ValueError(f"{value!r} has no tag; pin a version like ':1.2.3' or a digest")
    if m["tag"] == "latest":
        raise ValueError(f"{value!r} uses the floating tag 'latest'; pin a version")
    if m["tag"] and label_value_problem(m["tag"]):
        raise ValueError(f"tag {m['tag']!r} {label_value_problem(m['tag'])}; the tag becomes the "
                         "app.kubernetes.io/version label")
    return value


def _env_name(value: str) -> str:
    if not ENV_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    if platform_env(value):
        raise ValueError(f"{value} is set by paved itself (PORT, PAVED_*, OTEL_*, KAFKA_*, the "
                         "data contract's PG*); choose another name")
    if injected_env(value):
        raise ValueError(f"{value} is set in every pod by Kubernetes or EKS (the API server's address, the service's "
                         "AWS credentials); a value here would replace theirs, so choose another name")
    return value


def _topic(value: str) -> str:
    if not TOPIC_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{value!r} is not a valid Kafka topic name (letters, digits, '.', '_' and '-', "
                         "at most 249 characters, not '.' or '..')")
    if value.startswith("__"):
        # __consumer_offsets, __transaction_state, MSK's __amazon_msk_canary: Kafka's own.
        raise ValueError(f"{value!r} starts with '__', which Kafka and MSK keep for their internal topics")
    return value


def _host(value: str) -> str:
    labels = value.split(".")
    if len(value) > MAX_HOST_LENGTH or len(labels) < 2 or not all(
            len(label) <= MAX_LABEL_LENGTH and DNS_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{value!r} is not a fully qualified host name (dot-separated DNS labels of at most 63 "
                         "lowercase letters, digits and '-', at most 253 characters in all)")
    return value


def relative_path_problem(value: str) -> str | None:
    """Why ``value`` cannot be a path relative to the catalog's folder, or None.

    Only the text: whether the file exists inside the repository is ``paved.catalog``'s
    check, which follows symlinks.
    """
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "has control characters; give a path relative to the catalog's folder"
    if value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value):
        return "is an absolute path; give a path relative to the catalog's folder"
    return None


_relative_path = _refusing(relative_path_problem)


def _some_ports(value: tuple) -> tuple:
    # After the items: an empty list is one error, not an extra one beside each bad port.
    if not value:
        raise ValueError("lists no port; an egress rule allows at least one TCP port")
    return value


def _egress_cidr(value: str) -> str:
    net = ip_network(value)
    if value in OPEN_WORLD or covers_public_internet([net]):
        raise ValueError(f"{value} opens egress to the whole internet; list the provider's own ranges")
    return value


def _as_tuple(value: Any) -> Any:
    # YAML gives lists; strict mode would refuse them for the (hashable) tuple fields.
    return tuple(value) if isinstance(value, list) else value


def _secret_shorthand(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _string(pattern: str, **extra: Any) -> WithJsonSchema:
    """The JSON Schema of a string field checked by a validator function, as strict as it."""
    return WithJsonSchema({"type": "string", "pattern": pattern, **extra})


# Unsigned, and some digit 1-9 before any suffix: the positive quantities.
_QUANTITY_SCHEMA = {"type": "string", "pattern": f"^\\+?(?=[0-9.]*[1-9]){QUANTITY_PATTERN.removeprefix('[+-]?')}$"}
Name = Annotated[str, AfterValidator(_dns_label), _string(_label_pattern("[a-z0-9]"))]
ServiceName = Annotated[str, AfterValidator(_service_name), _string(_label_pattern("[a-z]"))]
Namespace = Annotated[str, AfterValidator(_dns_label), AfterValidator(_namespace),
                      _string(_label_pattern("[a-z0-9]"), description="Not kube-*, default or a platform namespace.")]
Cpu = Annotated[Any, AfterValidator(_cpu), WithJsonSchema(
    {"anyOf": [_QUANTITY_SCHEMA, {"type": "number", "exclusiveMinimum": 0}]})]
Memory = Annotated[Any, AfterValidator(_memory), WithJsonSchema(
    {"anyOf": [_QUANTITY_SCHEMA, {"type": "integer", "exclusiveMinimum": 0}]})]
Image = Annotated[str, AfterValidator(_image), _string(
    r"^[a-z0-9]+([._/:-][a-z0-9]+)*?"
    r"(:(?!latest(@|$))[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?(@sha256:[a-f0-9]{64})?|@sha256:[a-f0-9]{64})$",
    maxLength=MAX_IMAGE_LENGTH)]
EnvName = Annotated[str, AfterValidator(_env_name), _string(
    r"^(?!(" + "|".join(sorted(PLATFORM_ENV_NAMES | INJECTED_ENV_NAMES)) + r")$|PAVED_|OTEL_|KAFKA_)[A-Za-z_][A-Za-z0-9_]*$")]
TopicName = Annotated[str, AfterValidator(_topic), _string(r"^(?!\.\.?$|__)[a-zA-Z0-9._-]{1,249}$")]
Host = Annotated[str, AfterValidator(_host), _string(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$")]
TagValue = Annotated[str, AfterValidator(_tag_value)]
EgressCidr = Annotated[str, AfterValidator(_egress_cidr), _string(
    r"^([0-9.]+/[0-9]{1,2}|[0-9A-Fa-f:.]+/[0-9]{1,3})$",
    examples=["203.0.113.0/24", "2001:db8::/32"])]
Port = Annotated[int, Field(ge=1, le=65535)]
RelativePath = Annotated[str, AfterValidator(_relative_path), _string(r"^(?![/\\]|[A-Za-z]:)[^\x00-\x1f\x7f]+$")]
LabelTagValue = Annotated[str, AfterValidator(_label_value), AfterValidator(_tag_value), _string(
    r"^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]


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


EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SLACK_CHANNEL = r"^#[a-z0-9][-_a-z0-9]{0,79}$"


class SlackReceiver(Model):
    """Notifications to a Slack channel through an incoming webhook.

    The webhook URL is a credential: it lives in Secrets Manager
    (``<env>/_alerts/<team>/slack``), never in the catalog.
    """

    channel: str = Field(pattern=SLACK_CHANNEL, examples=["#checkout-alerts"],
                         description="Slack channel, with its '#'.")


class EmailReceiver(Model):
    """Notifications by e-mail through the stack's SMTP relay (``paved:observability.smtp``).

    The relay's password lives in Secrets Manager (``<env>/_alerts/smtp``), never in the catalog.
    """

    to: str = Field(pattern=EMAIL, max_length=254, examples=["checkout-oncall@shop.example.com"],
                    description="Address the alerts are sent to.")


class PagerDutyReceiver(Model):
    """Pages through a PagerDuty service (Events API v2).

    The service's integration (routing) key lives in Secrets Manager
    (``<env>/_alerts/<team>/pagerduty``).
    """

    service: str = Field(min_length=1, max_length=255, examples=["Checkout"],
                         description="Name of the PagerDuty service the routing key belongs to (for people; "
                                     "the key decides where pages go).")


class Alerts(Model):
    """Where the team's alerts go: any of Slack, e-mail and PagerDuty. Alertmanager routes
    every alert with ``team: <name>`` to them (components/alerting.py)."""

    slack: SlackReceiver | None = None
    email: EmailReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The receiver kinds declared, in a fixed order."""
        return tuple(k for k in ALERT_RECEIVER_KINDS if getattr(self, k) is not None)


class Team(Model):
    """A team: owns services and gets one namespace."""

    name: Namespace
    owner: TagValue = Field(min_length=3, max_length=MAX_TAG_VALUE_LENGTH,
                            description="Contact of the owning team (e-mail or handle); an AWS tag value.")
    cost_center: LabelTagValue = Field(min_length=1, description="Cost center billed for the team's resources.")
    namespace: Namespace | None = Field(default=None, description="Namespace name; defaults to the team name.")
    quota: Quota
    alerts: Alerts | None = Field(
        default=None, examples=[{"slack": {"channel": "#checkout-alerts"}, "pagerduty": {"service": "Checkout"}}],
        description="Receivers of the team's alerts. Required in stacks with paved:protectStateful (prod).")

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


class LagScaling(Model):
    """Scale on Kafka consumer-group lag (KEDA) instead of CPU and memory."""

    topic: TopicName = Field(examples=["order-placed"], description=(
        "A topic the service consumes (it must be listed in kafka.consumes); KEDA reads the lag of the "
        "service's consumer group on it."))
    target: int = Field(ge=1, le=1_000_000, examples=[100], description=(
        "Messages of lag per replica (KEDA's lagThreshold): replicas = total lag / target, between "
        "scaling.min and scaling.max."))


class Scaling(Model):
    """Autoscaling bounds and targets for the HorizontalPodAutoscaler (or, with ``lag``, KEDA)."""

    min: int = Field(ge=1, le=1000, description="Minimum replicas.")
    max: int = Field(ge=1, le=1000, description="Maximum replicas.")
    target_cpu_percent: int = Field(default=70, ge=10, le=100)
    target_memory_percent: int = Field(default=80, ge=10, le=100)
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    lag: LagScaling | None = Field(default=None, examples=[{"topic": "order-placed", "target": 100}], description=(
        "Scale on consumer-group lag with a KEDA ScaledObject, which replaces the service's "
        "HorizontalPodAutoscaler; the CPU and memory targets then do not apply."))


class Probe(Model):
    """An HTTP probe on the service port."""

    path: str = Field(pattern=HTTP_PATH, max_length=1024, description="HTTP path, starting with '/'.")
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
    # It becomes the Secrets Manager secret's Description, at most 2048 characters.
    description: str | None = Field(default=None, min_length=1, max_length=2048)
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


class Egress(Model):
    """Traffic the service may send outside the cluster, as a rule of its NetworkPolicy.

    By CIDR only: a Kubernetes NetworkPolicy matches IP blocks, never host names, so a
    provider reached by name is declared by the address ranges it publishes.
    """

    cidr: EgressCidr = Field(description=(
        "Destination block, IPv4 or IPv6, with no host bits set (e.g. 203.0.113.0/24). Host names are not "
        "possible: Kubernetes NetworkPolicy matches IP blocks only. Not 0.0.0.0/0, ::/0, or blocks that together "
        "cover every public address."))
    ports: Annotated[tuple[Port, ...], BeforeValidator(_as_tuple), AfterValidator(_some_ports)] = Field(
        max_length=32, description="TCP ports allowed to that block, 1-65535, each once (at least one).",
        json_schema_extra={"minItems": 1})
    description: str = Field(min_length=1, max_length=256, description="Who is reached there and why.")


class Kafka(Model):
    """Kafka topics produced and consumed."""

    produces: Annotated[tuple[Topic, ...], BeforeValidator(_as_tuple)] = ()
    consumes: Annotated[tuple[TopicName, ...], BeforeValidator(_as_tuple)] = ()


class Slo(Model):
    """Service level objectives: availability and p99 latency."""

    availability: float = Field(gt=50, lt=100, description="Availability target in percent, e.g. 99.9.")
    latency_p99_ms: int = Field(ge=1, le=60000, description="p99 latency target in milliseconds.")


HTTPS_URL = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"


class PublicAuth(Model):
    """Authentication at the load balancer (OIDC): the ALB signs users in with the identity provider
    before a request reaches the service, and passes their claims in ``x-amzn-oidc-*`` headers.

    The client id and secret are never in the catalog: ``clientSecret`` names one of the service's
    declared ``secrets`` (``rotation: third-party``) whose Secrets Manager value is JSON
    ``{"clientID": "...", "clientSecret": "..."}``; External Secrets copies it for the ALB (docs/edge.md).
    """

    type: Literal["oidc"] = Field(examples=["oidc"], description="oidc (Cognito user pools: see docs/edge.md).")
    issuer: str = Field(pattern=HTTPS_URL, max_length=2048, examples=["https://login.example.com"],
                        description="The provider's issuer URL (https).")
    authorization_endpoint: str = Field(pattern=HTTPS_URL, max_length=2048,
                                        examples=["https://login.example.com/oauth2/authorize"])
    token_endpoint: str = Field(pattern=HTTPS_URL, max_length=2048, examples=["https://login.example.com/oauth2/token"])
    user_info_endpoint: str = Field(pattern=HTTPS_URL, max_length=2048,
                                    examples=["https://login.example.com/oauth2/userinfo"])
    client_secret: Name = Field(examples=["oidc-client"], description=(
        "Name of one of the service's `secrets` (rotation: third-party) holding {\"clientID\", \"clientSecret\"} "
        "as JSON in Secrets Manager."))
    on_unauthenticated_request: Literal["authenticate", "deny", "allow"] = Field(
        default="authenticate", description="authenticate: redirect to the provider; deny: 401 (APIs); allow: pass "
                                            "anonymous requests on without claims.")


class Public(Model):
    """Public exposure through the shared load balancer, behind the environment's WAF web ACL
    (AWS managed rule groups, docs/edge.md)."""

    host: Host
    # The load balancer's path conditions take at most 128 characters.
    path: str = Field(default="/", pattern=HTTP_PATH, max_length=128)
    rate_limit: int | None = Field(
        default=None, ge=10, le=2_000_000_000, examples=[1000],
        description="Requests one client IP may send to this host and path in 5 minutes; above it the WAF blocks "
                    "that IP (an AWS WAF rate-based rule, minimum 10). Unset: no rate limit for the service.")
    auth: PublicAuth | None = Field(default=None, description="Sign users in at the load balancer (OIDC).")


DURATION = r"^[1-9][0-9]{0,4}[smh]$"


class PauseStep(Model):
    """How long a canary step holds before the next one."""

    duration: str = Field(pattern=DURATION, examples=["5m", "30s", "1h"],
                          description="A number of seconds (s), minutes (m) or hours (h), e.g. '5m'.")


class RolloutStep(Model):
    """One canary step: either shift a share of the pods (``setWeight``) or hold (``pause``)."""

    set_weight: int | None = Field(default=None, ge=1, le=100, examples=[20],
                                   description="Percent of the replicas (and of the traffic) given to the new version.")
    pause: PauseStep | None = Field(default=None, examples=[{"duration": "5m"}],
                                    description="Hold for a duration while the analysis watches the SLO.")


class Rollout(Model):
    """Progressive delivery with Argo Rollouts: the service becomes a ``Rollout`` in place of its
    Deployment (docs/rollouts.md). A failing analysis aborts the release and returns to the stable version."""

    strategy: Literal["canary", "blueGreen"] = Field(
        examples=["canary"], description="canary: shift replicas step by step; blueGreen: a full preview set, "
                                         "promoted after its analysis passes.")
    steps: Annotated[tuple[RolloutStep, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), max_length=20, examples=[[{"setWeight": 20}, {"pause": {"duration": "5m"}}, {"setWeight": 50},
                                              {"pause": {"duration": "5m"}}]],
        description="Canary steps, in order (canary only); after the last one the new version takes everything.")
    analysis: Literal["slo"] | None = Field(
        default="slo", examples=["slo"],
        description="slo: an AnalysisTemplate checks the service's own SLO in Prometheus during the release and "
                    "aborts it on failure; null: no analysis.")


class Metrics(Model):
    """Where the service exposes Prometheus metrics."""

    path: str = Field(default="/metrics", pattern=HTTP_PATH, max_length=1024)
    port: int | None = Field(default=None, ge=1, le=65535, description="Defaults to the service port.")


class Api(Model):
    """An API the service provides, published to the developer portal (`paved export backstage`)."""

    type: Literal["openapi", "asyncapi", "graphql", "grpc"] = Field(description="Format of the definition.")
    definition: RelativePath = Field(min_length=1, max_length=1024,
                            description="Path of the definition file, relative to the catalog's folder and inside it.")


class CpuMemoryOverride(Model):
    """Either or both of a CPU and memory pair."""

    cpu: Cpu | None = None
    memory: Memory | None = None


class ResourcesOverride(Model):
    """Requests and limits, each merged onto the base entry's."""

    requests: CpuMemoryOverride | None = None
    limits: CpuMemoryOverride | None = None


class ScalingOverride(Model):
    """Any of the autoscaling fields; the merged result is checked like the base entry."""

    min: int | None = Field(default=None, ge=1, le=1000)
    max: int | None = Field(default=None, ge=1, le=1000)
    target_cpu_percent: int | None = Field(default=None, ge=10, le=100)
    target_memory_percent: int | None = Field(default=None, ge=10, le=100)
    scale_down_stabilization_seconds: int | None = Field(default=None, ge=0, le=3600)


from paved.model_data import (  # noqa: E402  (the data block's models; they build on Model above)
    Migrate,
    Postgres,
    KeyAttribute,
    SecondaryIndex,
    Capacity,
    Table,
    Cache,
    Data,
    PostgresOverride,
    CacheOverride,
    DataOverride,
    POSTGRES_MAJOR_VERSIONS,
    POSTGRES_VERSION,
    DB_INSTANCE_CLASS,
    MIN_DB_STORAGE_GB,
    MAX_DB_STORAGE_GB,
    ATTRIBUTE_NAME,
    CACHE_MAJOR_VERSIONS,
)


class ServiceOverride(Model):
    """Per-environment changes to a service; merged key by key onto the base entry."""

    image: Image | None = None
    resources: ResourcesOverride | None = None
    scaling: ScalingOverride | None = None
    env: dict[EnvName, str] | None = None
    public: Public | None = None
    data: DataOverride | None = None


class Service(Model):
    """A microservice: one catalog entry gives a hardened, autoscaled, observable workload."""

    name: ServiceName
    team: Name
    description: str = Field(min_length=1)
    former_names: Annotated[tuple[ServiceName, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), description="Names this service had before, oldest first; its resources are moved, not recreated.")
    former_teams: Annotated[tuple[Name, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), examples=[["checkout"]],
        description="Teams this service belonged to before, oldest first. A secret's Secrets Manager name "
                    "(<env>/<team>/<service>/<secret>) cannot change without replacing the secret and losing its "
                    "value, so the secrets keep the name of the first team listed here.")
    image: Image
    port: int = Field(ge=1, le=65535)
    resources: Resources
    scaling: Scaling
    probes: Probes = Probes()
    metrics: Metrics = Metrics()
    env: dict[EnvName, str] = Field(default_factory=dict)
    secrets: Annotated[tuple[SecretEntry, ...], BeforeValidator(_as_tuple)] = ()
    kafka: Kafka = Kafka()
    calls: Annotated[tuple[ServiceName, ...], BeforeValidator(_as_tuple)] = ()
    egress: Annotated[tuple[Egress, ...], BeforeValidator(_as_tuple)] = Field(
        default=(), description="Destinations outside the cluster the service may reach (CIDR blocks and TCP ports).")
    slo: Slo | None = None
    public: Public | None = None
    rollout: Rollout | None = Field(
        default=None, examples=[{"strategy": "canary", "steps": [{"setWeight": 20}, {"pause": {"duration": "5m"}}],
                                 "analysis": "slo"}],
        description="Release through Argo Rollouts (canary or blue-green) instead of a rolling update.")
    api: Api | None = Field(default=None, description="The API the service provides, for the developer portal.")
    data: Data | None = Field(
        default=None, examples=[{"postgres": {"instanceClass": "db.t4g.medium", "storageGb": 50,
                                              "migrate": {"command": ["python", "/app/service/app.py", "migrate"]}}}],
        description="Datastores the service owns (docs/data.md); the stack's paved:data must allow them.")
    overrides: dict[str, ServiceOverride] = Field(default_factory=dict)


class CatalogDoc(Model):
    """The whole ``services_catalog.yaml`` document."""

    teams: Annotated[tuple[Team, ...], BeforeValidator(_as_tuple)]
    services: Annotated[tuple[Service, ...], BeforeValidator(_as_tuple)]

