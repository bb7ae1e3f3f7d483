"""What every paved policy rule is made of, and the helpers rules share.

A rule is a plain, importable object. ``Rule.policy()`` turns it into a pulumi-policy
``ResourceValidationPolicy`` or ``StackValidationPolicy`` (what ``pulumi preview
--policy-pack policies`` runs); ``paved check`` calls the very same validate function over
the offline plan. Building the ``PolicyPack`` itself starts a gRPC server, so only
``policies/__main__.py`` does that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

ReportViolation = Callable[..., None]
ID_PATTERN = re.compile(r"^PAVED-(SEC|COST|REL)-\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEVERITIES = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}
ENFORCEMENTS = {e.value: e for e in EnforcementLevel}


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


ContainerCheck = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]], str | None]


def container_check(check: ContainerCheck) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """Turn a one-container check into a resource validation over every workload kind.

    ``check(container, pod, config)`` returns what the container must do (``"set
    allowPrivilegeEscalation to false"``) or None. The violation reads
    ``Deployment orders container orders must set allowPrivilegeEscalation to false.``
    """

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        pod = pod_spec(args.resource_type, args.props)
        if pod is None:
            return
        config = args.get_config() or {}
        for c in containers(pod):
            must = check(c, pod, config)
            if must:
                name = lookup(c, "name", "?")
                report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} container {name} must {must}.")

    return validate


def pod_check(check: Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """Like :func:`container_check`, for rules about the pod as a whole."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        pod = pod_spec(args.resource_type, args.props)
        if pod is None:
            return
        must = check(pod, args.get_config() or {})
        if must:
            report(f"{kind_of(args.resource_type)} {object_name(args.props, args.name)} must {must}.")

    return validate


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One policy rule: identity, text, anchors, thresholds, and its validate function.

    Exactly one of ``validate`` (per resource, filtered to ``resource_types`` when given) and
    ``validate_stack`` (over all resources) is set. ``config`` holds JSON-schema properties
    of the rule's thresholds with their defaults; ``policies/config/<env>.json`` overrides
    them and the enforcement level per environment.
    """

    id: str
    name: str
    description: str
    severity: str
    remediation: str
    anchors: tuple[str, ...]
    validate: Callable[[ResourceValidationArgs, ReportViolation], None] | None = None
    validate_stack: Callable[[StackValidationArgs, ReportViolation], None] | None = None
    resource_types: frozenset[str] | None = None
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    enforcement: str = "mandatory"

    def __post_init__(self) -> None:
        problems = []
        if not ID_PATTERN.match(self.id):
            problems.append(f"id {self.id!r} must look like PAVED-SEC-001")
        if not NAME_PATTERN.match(self.name):
            problems.append(f"name {self.name!r} must be kebab-case")
        if not self.description.startswith("Checks whether "):
            problems.append("description must start with 'Checks whether '")
        if self.severity not in SEVERITIES:
            problems.append(f"severity must be one of {sorted(SEVERITIES)}")
        if self.enforcement not in ENFORCEMENTS:
            problems.append(f"enforcement must be one of {sorted(ENFORCEMENTS)}")
        if (self.validate is None) == (self.validate_stack is None):
            problems.append("exactly one of validate and validate_stack must be set")
        if not self.remediation or not self.anchors:
            problems.append("remediation and anchors are required")
        if problems:
            raise ValueError(f"rule {self.id}: " + "; ".join(problems))

    @property
    def policy_name(self) -> str:
        """The name Pulumi knows the rule by, and the key in ``policies/config/<env>.json``."""
        return f"{self.id.lower()}-{self.name}"

    def defaults(self) -> dict[str, Any]:
        """The rule's thresholds before any environment config."""
        return {k: v["default"] for k, v in self.config.items() if "default" in v}

    def _resource_validate(self, args: ResourceValidationArgs, report: ReportViolation) -> Any:
        if self.resource_types is not None and args.resource_type not in self.resource_types:
            return None
        return self.validate(_WithDefaults(args, self.defaults()), report)  # type: ignore[misc]

    def _stack_validate(self, args: StackValidationArgs, report: ReportViolation) -> Any:
        return self.validate_stack(_WithDefaults(args, self.defaults()), report)  # type: ignore[misc]

    def policy(self) -> ResourceValidationPolicy | StackValidationPolicy:
        """The pulumi-policy object for the pack."""
        common = dict(
            name=self.policy_name,
            description=self.description,
            enforcement_level=ENFORCEMENTS[self.enforcement],
            config_schema=PolicyConfigSchema(properties={k: dict(v) for k, v in self.config.items()}) if self.config else None,
            display_name=f"{self.id} {self.name}",
            severity=SEVERITIES[self.severity],
            tags=list(self.anchors),
            remediation_steps=self.remediation,
        )
        if self.validate is not None:
            return ResourceValidationPolicy(validate=self._resource_validate, **common)
        return StackValidationPolicy(validate=self._stack_validate, **common)

    def run_resource(self, args: ResourceValidationArgs, report: ReportViolation) -> None:
        """Run the rule on one resource exactly as the pack would (used by ``paved check``)."""
        if self.validate is not None:
            self._resource_validate(args, report)

    def run_stack(self, args: StackValidationArgs, report: ReportViolation) -> None:
        """Run a stack rule exactly as the pack would."""
        if self.validate_stack is not None:
            self._stack_validate(args, report)


class _WithDefaults:
    """The validation args with the rule's defaults under the configured thresholds."""

    def __init__(self, args: Any, defaults: Mapping[str, Any]):
        self._args = args
        self._config = {**defaults, **(args.get_config() or {})}

    def get_config(self) -> Mapping[str, Any]:
        return self._config

    def __getattr__(self, name: str) -> Any:
        return getattr(self._args, name)
