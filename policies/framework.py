"""What every paved policy rule is made of, and the helpers rules share.

A rule is a plain, importable object. ``Rule.policy()`` turns it into a pulumi-policy
``ResourceValidationPolicy`` or ``StackValidationPolicy`` (what ``pulumi preview
--policy-pack policies`` runs); ``paved check`` calls the very same validate function over
the offline plan. Building the ``PolicyPack`` itself starts a gRPC server, so only
``policies/__main__.py`` does that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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

from paved.resources import containers, kind_of, lookup, object_name, pod_spec

ReportViolation = Callable[..., None]
ID_PATTERN = re.compile(r"^PAVED-(SEC|COST|REL|DEP)-\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEVERITIES = {"low": Severity.LOW, "medium": Severity.MEDIUM, "high": Severity.HIGH, "critical": Severity.CRITICAL}
ENFORCEMENTS = {e.value: e for e in EnforcementLevel}


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
        if not ID_PATTERN.fullmatch(self.id):
            problems.append(f"id {self.id!r} must look like PAVED-SEC-001")
        if not NAME_PATTERN.fullmatch(self.name):
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
