"""Stack settings: ``stacks/Pulumi.<env>.yaml`` read into one typed object.

The same model serves both ways in: the offline engine reads the YAML file (and so can
point at the line of a bad key), while the Pulumi program reads ``pulumi.Config`` (strings,
as the engine hands them over) through :func:`settings_from_config`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from paved.cidr import OPEN_WORLD, covers_public_internet, ipv4_network
from paved.errors import InputError, Issue, UsageError
from paved.model import Egress, LabelTagValue, Name, TagValue
from paved.yamlsrc import Located, load_located, read_source

NAMESPACE = "paved"
STACK_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Stacks listed in the order changes are promoted through them; others follow by name.
PROMOTION_ORDER = ("dev", "staging", "prod")
# kubernetes-validate ships schemas for these minor versions; EKS supports a subset.
SUPPORTED_K8S = tuple(f"1.{m}" for m in range(25, 38))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


# The narrowest block an endpoint allow-list may hold: a /8 is already 16 million addresses.
MIN_ALLOWED_PREFIX = 8


def _endpoint_cidr(value: str) -> str:
    if value in OPEN_WORLD:
        raise ValueError(f"{value} opens the endpoint to the whole internet; list the CIDRs that need it")
    net = ipv4_network(value)
    if net.prefixlen < MIN_ALLOWED_PREFIX:
        raise ValueError(f"{value} is wider than a /{MIN_ALLOWED_PREFIX} (rule: no allowed range wider than "
                         f"/{MIN_ALLOWED_PREFIX}); list the CIDRs that need the endpoint")
    return value


# Where a VPC's addresses come from: RFC 1918 private space, or the shared 100.64.0.0/10 block
# AWS accepts (often for pods). A public block would shadow real internet addresses for the
# cluster's nodes and pods.
VPC_RANGES = tuple(ipv4_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
# CloudWatch Logs keeps logs for one of these numbers of days (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)


def _vpc_cidr(value: str) -> str:
    net = ipv4_network(value)
    if not 16 <= net.prefixlen <= 24:
        raise ValueError(f"{value} is a /{net.prefixlen}; an AWS VPC block is /16 to /24")
    if not any(net.subnet_of(r) for r in VPC_RANGES):
        raise ValueError(f"{value} is not private address space; a VPC block lies in 10.0.0.0/8, 172.16.0.0/12, "
                         "192.168.0.0/16 or 100.64.0.0/10")
    return value


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        longer = next((d for d in LOG_RETENTION_DAYS if d > value), None)
        hint = f"; the next longer is {longer}" if longer else ""
        raise ValueError(f"{value} is not a retention CloudWatch Logs offers (one of {', '.join(map(str, LOG_RETENTION_DAYS))}){hint}")
    return value


def _distinct_cidrs(cidrs: list[str]) -> list[str]:
    nets = [ipv4_network(c) for c in cidrs]
    twice = sorted({str(n) for n in nets if nets.count(n) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} listed more than once")
    return cidrs


LogRetention = Annotated[int, Field(ge=1, le=3653), AfterValidator(_log_retention)]


def _no_open_world(cidrs: list[str]) -> list[str]:
    # Each entry is already a valid, narrow enough block (EndpointCidr); together they must not
    # cover the internet either (0.0.0.0/1 + 128.0.0.0/1, or every /8).
    if covers_public_internet([ipv4_network(c) for c in cidrs]):
        raise ValueError("these CIDRs together cover every public IPv4 address (rule: the union of the ranges, "
                         "with private and reserved space, must not be 0.0.0.0/0), which opens the endpoint to "
                         "the whole internet; list the CIDRs that need it")
    return cidrs


EndpointCidr = Annotated[str, AfterValidator(_endpoint_cidr)]


class NetworkSettings(_Section):
    """The VPC: created (``mode: create``) or an existing one (``mode: existing``)."""

    mode: Literal["create", "existing"]
    cidr: Annotated[str, AfterValidator(_vpc_cidr)] = Field(description="VPC CIDR, /16 to /24 (in existing mode: the VPC's, for network policies).")
    zones: int = Field(ge=2, le=6, description="Availability zones used (from aws.get_availability_zones).")
    nat_gateways: Literal["single", "perZone"] | None = Field(default=None, description="One NAT gateway, or one per zone.")
    vpc_id: str | None = Field(default=None, pattern=r"^vpc-[0-9a-f]+$")
    private_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]] = Field(default_factory=list)
    public_subnet_ids: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _mode_fields(self) -> "NetworkSettings":
        if self.mode == "create":
            if not self.nat_gateways:
                raise ValueError("mode create needs natGateways")
            if self.vpc_id or self.private_subnet_ids or self.public_subnet_ids:
                raise ValueError("vpcId and subnet ids belong to mode existing")
        else:
            if not self.vpc_id or len(self.private_subnet_ids) < self.zones:
                raise ValueError(f"mode existing needs vpcId and at least {self.zones} privateSubnetIds (one per zone)")
        return self


class NodeGroupSettings(_Section):
    """One managed node group."""

    name: Name
    instance_types: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9]+$")]] = Field(min_length=1)
    min_size: int = Field(ge=1, le=100)
    max_size: int = Field(ge=1, le=450)
    desired_size: int = Field(ge=1, le=450)
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    disk_size_gib: int = Field(ge=20, le=1000)

    @model_validator(mode="after")
    def _sizes(self) -> "NodeGroupSettings":
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"need minSize <= desiredSize <= maxSize (got {self.min_size}, {self.desired_size}, {self.max_size})")
        return self


PRINCIPAL_ARN = r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[A-Za-z0-9_+=,.@/-]{1,512}$"  # pydantic-core (Rust regex): $ is the very end


class ClusterAccess(_Section):
    """Who may use the cluster besides whoever ran the first ``pulumi up`` (EKS access entries)."""

    admins: list[Annotated[str, Field(pattern=PRINCIPAL_ARN)]] = Field(
        default_factory=list, description="IAM role or user ARNs with cluster-admin (AmazonEKSClusterAdminPolicy).")
    viewers: list[Annotated[str, Field(pattern=PRINCIPAL_ARN)]] = Field(
        default_factory=list, description="IAM role or user ARNs that may read everything but Secrets (AmazonEKSViewPolicy).")

    @model_validator(mode="after")
    def _distinct(self) -> "ClusterAccess":
        both = sorted(set(self.admins) & set(self.viewers))
        if both:
            raise ValueError(f"a principal has one access entry: {', '.join(both)} is listed as admin and viewer")
        for role, arns in (("admins", self.admins), ("viewers", self.viewers)):
            if len(set(arns)) != len(arns):
                raise ValueError(f"{role} lists a principal twice")
        return self


class DeployRunnerSettings(_Section):
    """An in-VPC GitHub Actions runner (CodeBuild) for deployments to a private cluster."""

    repository: str = Field(pattern=r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                            description="The GitHub repository whose workflows use the runner.")
    connection_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}$",
        description="The AWS CodeConnections connection to GitHub (created and approved once per account).")
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = "BUILD_GENERAL1_MEDIUM"
    image: str = Field(default="aws/codebuild/amazonlinux-x86_64-standard:5.0", pattern=r"^aws/codebuild/[a-z0-9._:-]+$")


class ClusterSettings(_Section):
    """The EKS cluster: created (``mode: create``) or adopted by name (``mode: existing``)."""

    mode: Literal["create", "existing"]
    endpoint_public_access_cidrs: Annotated[list[EndpointCidr], AfterValidator(_no_open_world),
                                            AfterValidator(_distinct_cidrs)] = Field(
        default_factory=list, description="CIDRs allowed to reach a public endpoint; empty keeps it private."
    )
    log_retention_days: LogRetention
    deletion_protection: bool
    identity: Literal["podIdentity", "irsa"] = Field(description="How pods get their IAM role.")
    node_groups: list[NodeGroupSettings] = Field(default_factory=list)
    access: ClusterAccess = Field(default_factory=ClusterAccess)
    deploy_runner: DeployRunnerSettings | None = Field(
        default=None, description="Where `pulumi up` reaches the API from; needed when the endpoint is private.")

    @model_validator(mode="after")
    def _groups(self) -> "ClusterSettings":
        if self.mode == "create" and not self.node_groups:
            raise ValueError("mode create needs at least one entry in nodeGroups")
        names = [g.name for g in self.node_groups]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"nodeGroups names {', '.join(map(repr, twice))} more than once; each group needs its own name")
        # An adopted cluster's endpoint is not paved's to know; a created one is private unless listed.
        if self.mode == "create" and not self.endpoint_public_access_cidrs and self.deploy_runner is None:
            raise ValueError("a private-only endpoint is reachable only from inside the VPC: set deployRunner "
                             "(an in-VPC runner for `pulumi up`) or list endpointPublicAccessCidrs")
        return self


class KafkaSettings(_Section):
    """The MSK cluster."""

    version: str = Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+(\.x)?$")
    broker_type: str = Field(pattern=r"^kafka\.[a-z0-9]+\.[a-z0-9]+$")
    brokers_per_zone: int = Field(ge=1, le=5)
    volume_size_gib: int = Field(ge=1, le=16384)
    replication_factor: int = Field(ge=1, le=5)
    min_insync_replicas: int = Field(ge=1, le=5)
    enhanced_monitoring: Literal["DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION"]
    log_retention_days: LogRetention

    @model_validator(mode="after")
    def _replicas(self) -> "KafkaSettings":
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError("minInsyncReplicas cannot exceed replicationFactor")
        return self


class SecretsSettings(_Section):
    """Secrets Manager entries."""

    recovery_window_days: int = Field(ge=7, le=30, description="Days a deleted secret can be restored.")
    rotation_lambda_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$",
        description="The function that rotates `rotation: managed` secrets (JSON with a `password` key, as AWS's "
                    "rotation templates expect).")
    rotation_role_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$",
        description="The rotation function's execution role: it gets a KMS grant to decrypt and encrypt with the "
                    "secrets key. Required with rotationLambdaArn.")

    @model_validator(mode="after")
    def _rotation_role(self) -> "SecretsSettings":
        if self.rotation_lambda_arn is not None and self.rotation_role_arn is None:
            raise ValueError("rotationRoleArn is required with rotationLambdaArn: the rotation function's role needs "
                             "a grant on the secrets key to read and write the secrets it rotates")
        return self


class IngressSettings(_Section):
    """The shared public load balancer: HTTPS only, with this certificate."""

    certificate_arn: str = Field(pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$",
                                 description="ACM certificate for the public hosts.")
    ssl_policy: str = Field(default="ELBSecurityPolicy-TLS13-1-2-2021-06", pattern=r"^ELBSecurityPolicy-[A-Za-z0-9-]+$",
                            description="TLS policy of the HTTPS listener (PAVED-SEC-061 accepts TLS 1.2+ policies only).")
    waf_requests_millions: int = Field(
        default=10, ge=0, le=1_000_000,
        description="Requests per month the WAF web ACL is assumed to inspect, in millions, for `paved cost`'s "
                    "per-request price: an assumption to state, not a measurement.")


class SmtpSettings(_Section):
    """The SMTP relay Alertmanager sends e-mail through (teams' ``alerts.email`` receivers).

    Its password is not here: it lives in Secrets Manager (``<env>/_alerts/smtp``,
    paved/naming.smtp_secret_name) and reaches Alertmanager as a file.
    """

    smarthost: str = Field(pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", examples=["email-smtp.us-east-1.amazonaws.com:587"],
                           description="host:port of the relay (STARTTLS).")
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Sender address of alert e-mail.")
    username: str = Field(min_length=1, max_length=256, description="SMTP user name (not a secret).")


class ObservabilitySettings(_Section):
    """Prometheus, Grafana and Jaeger sizes per environment, and the SMTP relay for alert e-mail."""

    prometheus_retention: str = Field(pattern=r"^[0-9]{1,6}[dhw]$", description="How long Prometheus keeps samples, e.g. 15d.")
    prometheus_storage_gib: int = Field(ge=5, le=2000)
    prometheus_replicas: int = Field(ge=1, le=3)
    jaeger_storage: Literal["memory", "badger"] = Field(description="In-memory (dev) or Badger on a volume.")
    jaeger_storage_gib: int = Field(ge=1, le=1000)
    trace_sampling_ratio: float = Field(gt=0, le=1, description="Share of traces services sample.")
    smtp: SmtpSettings | None = Field(default=None, description="Relay for alert e-mail; required when a team "
                                                               "declares alerts.email.")
    alert_egress: tuple[Egress, ...] = Field(default=(), max_length=32, description=(
        "Where Alertmanager may send notifications (the monitoring namespace is default-deny): CIDR blocks and TCP "
        "ports of the SMTP relay, Slack and PagerDuty endpoints, or of an egress proxy (docs/alerting.md). Empty: "
        "Alertmanager reaches nothing outside the cluster and its notifications fail."))


class LogsSettings(_Section):
    """Central logs: Fluent Bit ships every container's log lines to CloudWatch Logs, one log group per team."""

    retention_days: LogRetention = Field(description="How long CloudWatch Logs keeps the lines (one of the values "
                                                     "CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60, 90, ...).")
    kms: bool = Field(description="Encrypt the log groups with a customer-managed KMS key of the stack (the key "
                                  "policy lets CloudWatch Logs use it for these groups only).")
    gib_per_pod_month: float = Field(gt=0, le=1000, examples=[0.5], description=(
        "Assumed log volume one pod writes a month, in GiB: `paved cost` prices ingestion and storage with it. An "
        "assumption, not a measurement: compare with the groups' IncomingBytes metric once deployed."))


# The shortest backup retention a protected stack (prod) may keep: a week of point-in-time restore.
MIN_PROTECTED_BACKUP_DAYS = 7


class DataRequests(_Section):
    """Assumed monthly DynamoDB traffic per table, for `paved cost` (on-demand bills per request)."""

    reads_millions: float = Field(default=10, ge=0, le=1_000_000, description="Read requests per table per month, millions.")
    writes_millions: float = Field(default=2, ge=0, le=1_000_000, description="Write requests per table per month, millions.")


# A multi-AZ cache needs a replica in another zone: automatic failover promotes it.
MIN_MULTI_AZ_CACHE_NODES = 2
CACHE_NODE_TYPE = r"^cache\.[a-z0-9]+\.[a-z0-9]+$"


class CacheNodes(_Section):
    """Node-based caches: one primary and ``count - 1`` replicas of one node type."""

    node_type: str = Field(pattern=CACHE_NODE_TYPE, examples=["cache.t4g.small"],
                           description="ElastiCache node type of every node (paved/data/prices.json prices it).")
    count: int = Field(default=2, ge=1, le=6, description="Nodes per cache: a primary and count-1 read replicas "
                       "(at least 2 with multiAz, for automatic failover).")


class DataSettings(_Section):
    """Services' datastores (catalog ``data``): whether they are allowed, and their guardrails."""

    allowed: bool = Field(description="Whether services may declare `data` in this stack at all.")
    backup_retention_days: int = Field(ge=1, le=35, description="RDS automated backups kept, days (at least 7 where "
                                                               "paved:protectStateful is set).")
    allowed_instance_classes: list[Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")]] = Field(
        min_length=1, examples=[["db.t4g.micro", "db.t4g.small"]],
        description="RDS instance classes services may use (the cost cap).")
    multi_az: bool = Field(description="RDS standby in a second zone (required where paved:protectStateful is set).")
    cache_mode: Literal["serverless", "nodes"] = Field(
        default="serverless", examples=["nodes"],
        description="How caches run: `serverless` (ElastiCache Serverless, billed by storage and ECPUs) or `nodes` "
                    "(a replication group of cacheNodes.count nodes of cacheNodes.nodeType, billed per node-hour).")
    cache_nodes: CacheNodes | None = Field(default=None, description="The nodes of every cache, with cacheMode: nodes "
                                           "(and only then).")
    max_provisioned_capacity: int = Field(default=100, ge=1, le=40000, description="Cap on a provisioned table's "
                                          "read or write capacity units.")
    requests: DataRequests = Field(default_factory=DataRequests)

    @model_validator(mode="after")
    def _cache_nodes_with_nodes(self) -> "DataSettings":
        if self.cache_mode == "nodes" and self.cache_nodes is None:
            raise ValueError("data.cacheNodes (nodeType, count) is required with cacheMode: nodes")
        if self.cache_mode != "nodes" and self.cache_nodes is not None:
            raise ValueError(f"data.cacheNodes applies only with cacheMode: nodes (cacheMode is {self.cache_mode})")
        if self.cache_nodes is not None and self.multi_az and self.cache_nodes.count < MIN_MULTI_AZ_CACHE_NODES:
            raise ValueError(f"data.cacheNodes.count ({self.cache_nodes.count}) must be at least "
                             f"{MIN_MULTI_AZ_CACHE_NODES} with multiAz: a replica in another zone to fail over to")
        return self


class StackSettings(BaseModel):
    """Everything environment-specific. Keys are ``paved:<camelCase>`` in the stack file."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    environment: Name = Field(description="Environment name; must equal the stack name.")
    aws_region: str = Field(alias="aws:region", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    kubernetes_version: str = Field(description="Kubernetes minor version, e.g. '1.34'.")
    cluster_name: Name = Field(description="EKS cluster the workloads run on.")
    max_replicas: int = Field(ge=1, le=1000, description="Cap on any service's scaling.max.")
    min_replicas: int = Field(ge=1, le=100, description="Floor on any service's scaling.min (2 in prod for availability).")
    zone_spread: Literal["ScheduleAnyway", "DoNotSchedule"] = Field(
        description="Topology spread across zones: a preference (dev) or a hard rule (prod)."
    )
    protect_stateful: bool = Field(description="Protect and retain stateful resources on delete.")
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    platform_owner: TagValue = Field(min_length=3, max_length=256, description="Owner tag of platform-wide resources.")
    platform_cost_center: LabelTagValue = Field(min_length=1, description="Cost-center tag of platform-wide resources.")
    kms_deletion_window_days: int = Field(ge=7, le=30, description="Waiting period before a KMS key is deleted.")
    network: NetworkSettings
    cluster: ClusterSettings
    kafka: KafkaSettings
    secrets: SecretsSettings
    observability: ObservabilitySettings
    ingress: IngressSettings | None = Field(default=None, description="Needed when a service is public.")
    logs: LogsSettings | None = Field(default=None, description="Central logs to CloudWatch Logs; without it pod "
                                                                "logs stay on the nodes.")
    layout: Literal["single", "layered"] = Field(
        default="single",
        description="single: the environment is one stack; layered: a platform stack (ENV) plus one stack per "
                    "team (ENV.TEAM) that reads the platform's outputs (docs/layers.md).")
    data: DataSettings | None = Field(default=None, description="Datastores of services; unset means none allowed.")

    @model_validator(mode="after")
    def _protected_data(self) -> "StackSettings":
        if self.protect_stateful and self.data is not None:
            if self.data.backup_retention_days < MIN_PROTECTED_BACKUP_DAYS:
                raise ValueError(f"data.backupRetentionDays ({self.data.backup_retention_days}) is below "
                                 f"{MIN_PROTECTED_BACKUP_DAYS}, the minimum where paved:protectStateful is set")
            if not self.data.multi_az:
                raise ValueError("data.multiAz must be true where paved:protectStateful is set")
        return self

    @property
    def data_allowed(self) -> bool:
        """Whether services may declare datastores here."""
        return self.data is not None and self.data.allowed

    @model_validator(mode="after")
    def _kafka_fits_zones(self) -> "StackSettings":
        brokers = self.kafka.brokers_per_zone * self.network.zones
        if self.kafka.replication_factor > brokers:
            raise ValueError(f"kafka.replicationFactor ({self.kafka.replication_factor}) exceeds the {brokers} brokers")
        return self

    @property
    def kafka_brokers(self) -> int:
        """Broker count: always a multiple of the zones."""
        return self.kafka.brokers_per_zone * self.network.zones

    @field_validator("kubernetes_version")
    @classmethod
    def _supported(cls, v: str) -> str:
        if v not in SUPPORTED_K8S:
            raise ValueError(f"{v!r} is not a supported Kubernetes version ({SUPPORTED_K8S[0]}..{SUPPORTED_K8S[-1]})")
        return v

    @property
    def pod_security_version(self) -> str:
        """The Pod Security Admission version label matching the cluster version."""
        return f"v{self.kubernetes_version}"


def config_keys() -> dict[str, str]:
    """Field name → full config key (``paved:maxReplicas`` or ``aws:region``)."""
    return {
        name: info.alias if ":" in (info.alias or "") else f"{NAMESPACE}:{info.alias}"
        for name, info in StackSettings.model_fields.items()
    }


def settings_from_config(get: Callable[[str], str | None]) -> StackSettings:
    """Build settings from string config values, as ``pulumi.Config`` returns them.

    ``get`` takes a full key (``paved:maxReplicas``). Non-string settings arrive as JSON
    text, which is how Pulumi passes numbers, booleans and objects to programs.
    """
    values: dict[str, Any] = {}
    for name, key in config_keys().items():
        raw = get(key)
        if raw is None:
            continue
        annotation = StackSettings.model_fields[name].annotation
        wants_text = annotation is str or (annotation == (str | None)) or "Literal" in str(annotation)
        if wants_text:
            values[name] = raw
        else:
            try:
                values[name] = json.loads(raw)
            except json.JSONDecodeError:
                values[name] = raw
    return StackSettings.model_validate(values)


def stack_name(env: str) -> str:
    """``env``; UsageError unless it is a stack name (a DNS label, like paved:environment), so
    that a name given on the command line cannot lead out of ``stacks/`` or ``policies/config/``."""
    if not isinstance(env, str) or len(env) > 63 or not STACK_NAME.fullmatch(env):
        raise UsageError(f"{env!r} is not a stack name (lowercase letters, digits and '-', at most 63 characters)")
    return env


def stack_file(root: Path, env: str) -> Path:
    """Path of the stack's config file."""
    return root / "stacks" / f"Pulumi.{stack_name(env)}.yaml"


def list_stacks(root: Path) -> list[str]:
    """Names of the environments that have a stack file (a team stack's file, ``Pulumi.ENV.TEAM.yaml``,
    is not an environment)."""
    names = [p.name[len("Pulumi."):-len(".yaml")] for p in (root / "stacks").glob("Pulumi.*.yaml")]
    names = [n for n in names if "." not in n]
    return sorted(names, key=lambda n: (PROMOTION_ORDER.index(n) if n in PROMOTION_ORDER else len(PROMOTION_ORDER), n))


def _read_stack(root: Path, env: str) -> tuple[dict[str, Any], Located]:
    path = stack_file(root, env)
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.exists():
        stacks = list_stacks(root)
        raise UsageError(f"unknown stack {env!r}: {display} does not exist; stacks are: {', '.join(stacks) or '(none)'}")
    doc = load_located(read_source(path, display), display)
    if doc.issues:
        raise InputError(doc.issues)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("config"), dict):
        raise InputError([doc.issue((), "config", "a stack file must be a mapping with a `config:` mapping")])
    return doc.data["config"], doc


def read_config(root: Path, env: str) -> tuple[dict[str, Any], str]:
    """The raw ``config:`` mapping of a stack file (values as YAML typed them) and its path."""
    config, doc = _read_stack(root, env)
    return config, doc.file


def load_stack(root: Path, env: str) -> StackSettings:
    """Read and validate ``stacks/Pulumi.<env>.yaml``; InputError names the key and line."""
    config, doc = _read_stack(root, env)
    keys = config_keys()
    by_key = {v: k for k, v in keys.items()}
    # pydantic names a missing field by its alias (`maxReplicas`), a bad one by its name.
    keys.update({info.alias: keys[n] for n, info in StackSettings.model_fields.items() if info.alias})
    issues: list[Issue] = []
    values: dict[str, Any] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key.startswith(("paved:", "aws:")):
            continue  # other providers' and plugins' settings are not ours to judge
        if key not in by_key:
            if key.startswith("paved:"):
                close = difflib.get_close_matches(key, list(keys.values()), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                issues.append(doc.issue(("config", key), key, f"unknown setting{hint}"))
            continue
        values[by_key[key]] = value
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "[")))]
            name = loc[0] if loc else ""
            key = keys.get(str(name), str(name)) if name else "config"
            rest = tuple(loc[1:])
            label = key + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)
            if err["type"] == "missing":
                msg = "required setting is missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown setting"
            else:
                msg = err["msg"].removeprefix("Value error, ")
            issues.append(doc.issue(("config", key, *rest) if name else ("config",), label, msg))
        raise InputError(issues) from None
    if settings.environment != env:
        issues.append(doc.issue(("config", "paved:environment"), "paved:environment",
                                f"is {settings.environment!r} but the stack is {env!r}"))
    if issues:
        raise InputError(issues)
    return settings


def pulumi_config(root: Path, env: str) -> dict[str, str]:
    """The stack's config as the Pulumi engine hands it to a program: strings, JSON for the rest."""
    config, _ = read_config(root, env)
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


# What a team stack's own file (stacks/Pulumi.ENV.TEAM.yaml) may set; everything else it inherits
# from the environment's file, and the platform's settings are the platform stack's alone.
TEAM_SETTINGS = ("paved:imagePullPolicy", "paved:zoneSpread")


def team_stack_file(root: Path, env: str, team: str) -> Path:
    """Path of a team stack's optional config file."""
    return root / "stacks" / f"Pulumi.{stack_name(env)}.{stack_name(team)}.yaml"


def team_config(root: Path, env: str, team: str) -> dict[str, Any]:
    """The ``config:`` of a team stack's file (empty when there is none); InputError on a key the
    team may not set."""
    path = team_stack_file(root, env, team)
    if not path.exists():
        return {}
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    doc = load_located(read_source(path, display), display)
    if doc.issues:
        raise InputError(doc.issues)
    if doc.data is None:
        return {}
    config = doc.data.get("config") if isinstance(doc.data, dict) else None
    if not isinstance(config, dict):
        raise InputError([doc.issue((), "config", "a stack file must be a mapping with a `config:` mapping")])
    issues = [doc.issue(("config", k), str(k), f"a team stack may set only {', '.join(TEAM_SETTINGS)}; "
                        f"the rest comes from {stack_file(root, env).name}")
              for k in config if isinstance(k, str) and k.startswith(("paved:", "aws:")) and k not in TEAM_SETTINGS]
    if issues:
        raise InputError(issues)
    return config


def load_layer_stack(root: Path, env: str, team: str | None) -> StackSettings:
    """The settings of the environment's stack, with a team stack's own settings over them."""
    settings = load_stack(root, env)
    if team is None:
        return settings
    own = team_config(root, env, team)
    if not own:
        return settings
    by_key = {v: k for k, v in config_keys().items()}
    try:
        return settings.model_validate({**settings.model_dump(), **{by_key[k]: v for k, v in own.items() if k in by_key}})
    except ValidationError as exc:
        raise InputError([Issue(str(team_stack_file(root, env, team).name), 1, 1, "config",
                                exc.errors()[0]["msg"])]) from None


def layer_config(root: Path, env: str, team: str | None,
                 environment: dict[str, str] | None = None) -> dict[str, str]:
    """A layer stack's config as the engine hands it to the program: the environment's, then the team's.

    ``environment``: the environment's config, already read (``layer_config(root, env, None)``),
    for a caller that asks for every team of an environment."""
    config = dict(environment) if environment is not None else pulumi_config(root, env)
    if team is not None:
        config.update({str(k): v if isinstance(v, str) else json.dumps(v)
                       for k, v in team_config(root, env, team).items()})
    return config
