"""Stack settings: ``stacks/Pulumi.<env>.yaml`` read into one typed object.

The same model serves both ways in: the offline engine reads the YAML file (and so can
point at the line of a bad key), while the Pulumi program reads ``pulumi.Config`` (strings,
as the engine hands them over) through :func:`settings_from_config`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from paved.errors import InputError, Issue, UsageError
from paved.model import Name
from paved.yamlsrc import load_located

NAMESPACE = "paved"
# kubernetes-validate ships schemas for these minor versions; EKS supports a subset.
# Stacks listed in the order changes are promoted through them; others follow by name.
PROMOTION_ORDER = ("dev", "staging", "prod")
SUPPORTED_K8S = tuple(f"1.{m}" for m in range(25, 38))


class StackSettings(BaseModel):
    """Everything environment-specific. Keys are ``paved:<camelCase>`` in the stack file."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    environment: Name = Field(description="Environment name; must equal the stack name.")
    aws_region: str = Field(alias="aws:region", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    kubernetes_version: str = Field(description="Kubernetes minor version, e.g. '1.31'.")
    cluster_name: Name = Field(description="EKS cluster the workloads run on.")
    kube_context: str | None = Field(default=None, description="kubeconfig context; defaults to the cluster name.")
    max_replicas: int = Field(ge=1, le=1000, description="Cap on any service's scaling.max.")
    min_replicas: int = Field(ge=1, le=100, description="Floor on any service's scaling.min (2 in prod for availability).")
    zone_spread: Literal["ScheduleAnyway", "DoNotSchedule"] = Field(
        description="Topology spread across zones: a preference (dev) or a hard rule (prod)."
    )
    protect_stateful: bool = Field(description="Protect and retain stateful resources on delete.")
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"

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

    @property
    def context(self) -> str:
        """The kubeconfig context the Kubernetes provider uses."""
        return self.kube_context or self.cluster_name


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


def stack_file(root: Path, env: str) -> Path:
    """Path of the stack's config file."""
    return root / "stacks" / f"Pulumi.{env}.yaml"


def list_stacks(root: Path) -> list[str]:
    """Names of the stacks that have a config file."""
    names = [p.name[len("Pulumi."):-len(".yaml")] for p in (root / "stacks").glob("Pulumi.*.yaml")]
    return sorted(names, key=lambda n: (PROMOTION_ORDER.index(n) if n in PROMOTION_ORDER else len(PROMOTION_ORDER), n))


def read_config(root: Path, env: str) -> tuple[dict[str, Any], str]:
    """The raw ``config:`` mapping of a stack file (values as YAML typed them) and its path."""
    path = stack_file(root, env)
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.exists():
        stacks = list_stacks(root)
        raise UsageError(f"unknown stack {env!r}: {display} does not exist; stacks are: {', '.join(stacks) or '(none)'}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Issue(display, 1, 1, "", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    doc = load_located(text, display)
    if doc.issues:
        raise InputError(doc.issues)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("config"), dict):
        raise InputError([doc.issue((), "config", "a stack file must be a mapping with a `config:` mapping")])
    return doc.data["config"], display


def load_stack(root: Path, env: str) -> StackSettings:
    """Read and validate ``stacks/Pulumi.<env>.yaml``; InputError names the key and line."""
    path = stack_file(root, env)
    config, display = read_config(root, env)
    doc = load_located(path.read_text(encoding="utf-8"), display)
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
                import difflib

                close = difflib.get_close_matches(key, list(keys.values()), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                issues.append(doc.issue(("config", key), key, f"unknown setting{hint}"))
            continue
        values[by_key[key]] = value
    try:
        settings = StackSettings.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            name = err["loc"][0] if err["loc"] else ""
            key = keys.get(str(name), str(name))
            msg = "required setting is missing" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            issues.append(doc.issue(("config", key), key, msg))
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
