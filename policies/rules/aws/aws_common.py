"""Helpers the AWS security rules share: how a resource is named in a violation, IAM policy
documents, tags, and the pulumi_aws SDK lookup behind "taggable".

Everything reads props through :mod:`policies.framework` helpers, so a value unknown at preview
comes back as ``UNKNOWN`` instead of raising.
"""

from __future__ import annotations

import functools
import importlib
from importlib import resources as importlib_resources
import json
import keyword
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from paved.resources import SECRET, UNKNOWN, items, lookup

# How each pulumi_aws module reads in a message: "EKS Cluster paved-prod must ...".
_SERVICE_NAMES = {
    "ec2": "EC2", "eks": "EKS", "iam": "IAM", "kms": "KMS", "msk": "MSK", "s3": "S3",
    "secretsmanager": "Secrets Manager", "cloudwatch": "CloudWatch", "lambda": "Lambda",
    "rds": "RDS", "dynamodb": "DynamoDB", "elasticache": "ElastiCache",
}


def aws_kind(resource_type: str) -> str:
    """``aws:eks/cluster:Cluster`` → ``EKS Cluster``; ``aws:secretsmanager/secret:Secret`` →
    ``Secrets Manager Secret``."""
    parts = resource_type.split(":")
    if len(parts) != 3:
        return resource_type
    module = parts[1].split("/", 1)[0]
    return f"{_SERVICE_NAMES.get(module, module)} {parts[2]}"


def subject(resource_type: str, name: str) -> str:
    """The start of a violation: ``EKS Cluster paved-prod``."""
    return f"{aws_kind(resource_type)} {name}"


def plain(value: Any) -> Any:
    """A proxied value as plain Python, with every unknown part replaced by ``UNKNOWN``."""
    if value is UNKNOWN or isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {key: plain(lookup(value, (key,), None)) for key in list(value.keys())}
    if isinstance(value, Sequence):
        return [plain(v) for v in items(value, ())]
    return value


# --- IAM policy documents ------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, with ``where`` naming it in messages."""

    body: Mapping[str, Any]
    where: str

    @property
    def allows(self) -> bool:
        """Anything but an explicit Deny grants access (fail closed on a missing or odd Effect)."""
        return self.body.get("Effect") != "Deny"

    def strings(self, key: str) -> list[str]:
        """``Action`` / ``Resource`` as a list of strings (a single string is allowed by IAM)."""
        return [v for v in as_list(self.body.get(key)) if isinstance(v, str)]


def as_list(value: Any) -> list[Any]:
    """IAM's "a string or a list of strings"."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def parse_document(value: Any) -> Mapping[str, Any] | None:
    """A policy document from a ``policy`` / ``assumeRolePolicy`` prop, or None when it cannot
    be read yet.

    The prop is a JSON string. During preview it is UNKNOWN as a whole as soon as it embeds an ARN
    of a resource created in the same run (``Output.json_dumps``); the engine checks the resource
    again with the real document before creating it, so the rules pass it here rather than block
    every first preview. A string that is not JSON is left to AWS, which rejects it.
    """
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
    else:
        doc = plain(value)
    return doc if isinstance(doc, Mapping) else None


def statements(document: Mapping[str, Any] | None, where: str) -> Iterator[Statement]:
    """Every statement of a parsed document; ``where`` is e.g. ``policy`` or ``inline policy s3``."""
    if document is None:
        return
    for index, body in enumerate(as_list(document.get("Statement")), 1):
        if isinstance(body, Mapping):
            sid = body.get("Sid")
            label = f"statement {sid}" if isinstance(sid, str) and sid else f"statement {index}"
            yield Statement(body, f"{where}, {label}")


IAM_POLICY_TYPES = frozenset({
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/role:Role",
})


def permission_statements(resource_type: str, props: Mapping[str, Any]) -> Iterator[Statement]:
    """The permission statements of an IAM resource: ``policy`` of a (role/user/group) policy, and
    every ``inlinePolicies[].policy`` of a role. A role's ``assumeRolePolicy`` is trust, not
    permissions, and is not included."""
    if resource_type == "aws:iam/role:Role":
        for index, inline in enumerate(items(props, "inlinePolicies"), 1):
            if not isinstance(inline, Mapping):
                continue
            name = lookup(inline, "name")
            where = f"inline policy {name}" if isinstance(name, str) and name else f"inline policy {index}"
            yield from statements(parse_document(lookup(inline, "policy")), where)
    elif resource_type in IAM_POLICY_TYPES:
        yield from statements(parse_document(lookup(props, "policy")), "policy")


def principal_values(statement: Statement, key: str = "Principal") -> dict[str, list[Any]]:
    """``Principal`` as {"*": ["*"]} for the bare wildcard, else {"AWS": [...], "Service": [...], ...}."""
    principal = statement.body.get(key)
    if principal is None:
        return {}
    if isinstance(principal, Mapping):
        return {str(k): as_list(v) for k, v in principal.items()}
    return {"*": as_list(principal)}


def wildcard_principal(statement: Statement) -> bool:
    """True when an Allow statement trusts anyone: ``"*"`` or ``{"AWS": "*"}`` (any principal type)."""
    return any(v == "*" for values in principal_values(statement).values() for v in values)


# --- tags ------------------------------------------------------------------------------------


def tag_map(value: Any) -> dict[str, Any] | None:
    """A ``tags`` prop as {key: value-or-UNKNOWN}; None when the whole map is UNKNOWN."""
    if value is UNKNOWN:
        return None
    if not isinstance(value, Mapping):
        return {}
    return {str(k): lookup(value, (k,)) for k in list(value.keys())}


def provider_default_tags(provider: Any) -> dict[str, Any] | None:
    """The AWS provider's ``defaultTags.tags``; None when they are not knowable at preview.

    The provider passes ``defaultTags`` as a JSON string (``{"tags": {...}}``) in its inputs.
    """
    if provider is None or not str(getattr(provider, "resource_type", "")).startswith("pulumi:providers:aws"):
        return {}
    raw = lookup(provider.props, "defaultTags")
    if raw is UNKNOWN:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    if not isinstance(raw, Mapping):
        return {}
    return tag_map(lookup(raw, "tags", {}))


# --- the pulumi_aws SDK --------------------------------------------------------------------


@functools.cache
def aws_resource_class(resource_type: str) -> type | None:
    """The pulumi_aws resource class of a type token (``aws:eks/cluster:Cluster`` →
    ``pulumi_aws.eks.Cluster``), or None when the installed SDK has no such type."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    module_name = parts[1].split("/", 1)[0]
    candidates = [module_name]
    if keyword.iskeyword(module_name):  # Pulumi's Python codegen: aws:lambda/... → pulumi_aws.lambda_
        candidates.insert(0, module_name + "_")
    for candidate in candidates:
        # SDK modules load lazily, on first attribute access, and warn about their own
        # deprecated classes when they do: noise in every policy run.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                cls = getattr(importlib.import_module(f"pulumi_aws.{candidate}"), parts[2], None)
            except ImportError:
                continue
        if isinstance(cls, type) and pulumi.get_type_token(cls) == resource_type:
            return cls
    return None


# Which of the types paved creates take tags, as the installed SDK answers (sdk_taggable):
# asking it imports the type's SDK module, a second or more for the large ones, in a process
# that did not run the program (paved check --plan, the base side of paved diff). Written by
# write_taggable from every stack's plan (PAVED_UPDATE_SNAPSHOTS=1 pytest tests/test_aws.py -k
# taggable_table); used only for the SDK version it was written for (that test checks it).
# Found like the price file (paved.cost.prices): beside it, in the paved package.
TAGGABLE_FILE = Path(str(importlib_resources.files("paved").joinpath("data", "aws_taggable.json")))


def _sdk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pulumi-aws")
    except PackageNotFoundError:
        return "none"


@functools.cache
def known_taggable() -> dict[str, bool]:
    """The table's answers, or none when it was written for another SDK version."""
    try:
        data = json.loads(TAGGABLE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("pulumiAws") != _sdk_version():
        return {}
    return {**{t: True for t in data.get("taggable", ())}, **{t: False for t in data.get("untaggable", ())}}


@functools.cache
def is_taggable(resource_type: str) -> bool:
    """Whether the SDK's Args class for this type has a ``tags`` input."""
    known = known_taggable().get(resource_type)
    return sdk_taggable(resource_type) if known is None else known


def sdk_taggable(resource_type: str) -> bool:
    """:func:`is_taggable`, asked of the SDK itself."""
    cls = aws_resource_class(resource_type)
    if cls is None:
        return False
    module = importlib.import_module(cls.__module__)
    args_cls = getattr(module, f"{cls.__name__}Args", None)
    return isinstance(getattr(args_cls, "tags", None), property)


# --- Secrets Manager rotation ---------------------------------------------------------------

ROTATION_TYPE = "aws:secretsmanager/secretRotation:SecretRotation"
# A secret whose value comes from a vendor (an API key) and cannot be rotated by a Lambda of ours
# carries this tag; its rotation is then advisory (PAVED-SEC-053) instead of mandatory (052).
THIRD_PARTY_TAG = "paved.dev/rotation"
THIRD_PARTY_VALUE = "third-party"


def is_third_party(secret_props: Mapping[str, Any]) -> bool:
    """Whether a Secret is marked ``paved.dev/rotation: third-party``."""
    tags = tag_map(lookup(secret_props, "tags")) or {}
    return tags.get(THIRD_PARTY_TAG) == THIRD_PARTY_VALUE


def secret_names(secret_id: str) -> list[str]:
    """What a known ``secretId`` may name: itself (a name or full ARN) and, for an ARN
    ``arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf``, the secret's name
    (AWS appends a six-character suffix to the name in the ARN)."""
    names = [secret_id]
    _, sep, tail = secret_id.partition(":secret:")
    if secret_id.startswith("arn:") and sep and tail:
        names.append(tail)
        if len(tail) > 7 and tail[-7] == "-":
            names.append(tail[:-7])
    return names


def rotations_by_secret(resources: Sequence[Any]) -> dict[str, list[Any]]:
    """Secret URN → the SecretRotation resources that rotate it.

    A rotation is linked to a secret by, in order: the engine's property dependencies of
    ``secretId``; else its dependencies; its parent chain; or a known ``secretId`` naming the
    secret's ``name`` or ``arn`` (``secretId`` takes either; see :func:`secret_names`).
    """
    secrets = [r for r in resources if r.resource_type == SECRET]
    by_urn: dict[str, list[Any]] = {s.urn: [] for s in secrets}
    by_name: dict[str, str] = {}
    for s in secrets:
        for key in ("name", "arn"):
            value = lookup(s.props, key)
            if isinstance(value, str) and value:
                by_name[value] = s.urn
    for rotation in resources:
        if rotation.resource_type != ROTATION_TYPE:
            continue
        linked: set[str] = set()
        prop_deps = (getattr(rotation, "property_dependencies", None) or {}).get("secretId")
        deps = prop_deps if prop_deps else (getattr(rotation, "dependencies", None) or [])
        linked.update(d.urn for d in deps if getattr(d, "urn", None) in by_urn)
        parent = getattr(rotation, "parent", None)
        while parent is not None:
            if parent.urn in by_urn:
                linked.add(parent.urn)
            parent = getattr(parent, "parent", None)
        secret_id = lookup(rotation.props, "secretId")
        if isinstance(secret_id, str):
            for candidate in secret_names(secret_id):
                if candidate in by_name:
                    linked.add(by_name[candidate])
        for urn in linked:
            by_urn[urn].append(rotation)
    return by_urn


def rotation_days(rotation_props: Mapping[str, Any]) -> float | Any | None:
    """Days between rotations of a SecretRotation: a number, UNKNOWN, or None (not rotating on a
    schedule this rule can read: rotation disabled or no rules).

    Reads ``rotationRules.automaticallyAfterDays``, else a ``scheduleExpression`` of
    ``rate(N days|hours)``; a ``cron(...)`` runs at least monthly when its month field is ``*``
    or ``?`` (counted as 31 days), and is otherwise not readable here.
    """
    enabled = lookup(rotation_props, "rotationEnabled")
    if enabled is False:
        return None
    days = lookup(rotation_props, "rotationRules.automaticallyAfterDays")
    if days is UNKNOWN or isinstance(days, (int, float)) and not isinstance(days, bool):
        return days
    expression = lookup(rotation_props, "rotationRules.scheduleExpression")
    if expression is UNKNOWN:
        return UNKNOWN
    if not isinstance(expression, str):
        return None
    expression = expression.strip().lower()
    if expression.startswith("rate(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) == 2 and fields[0].isdigit():
            n = int(fields[0])
            if fields[1] in ("day", "days"):
                return float(n)
            if fields[1] in ("hour", "hours"):
                return n / 24
        return None
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) == 6 and fields[3] in ("*", "?"):
            return 31.0
    return None


def rotation_problem(rotations: Sequence[Any], max_days: float) -> str | None:
    """What a secret must do about rotation, or None if one of its rotations is good enough."""
    if not rotations:
        return f"have a SecretRotation with rotationRules.automaticallyAfterDays <= {max_days:g}"
    periods = [rotation_days(r.props) for r in rotations]
    if any(p is UNKNOWN or (p is not None and p <= max_days) for p in periods):
        return None
    known = [p for p in periods if p is not None]
    if known:
        return f"rotate at least every {max_days:g} days, not every {min(known):g}"
    return f"enable its SecretRotation with a schedule of at most {max_days:g} days"


def write_taggable(types: Sequence[str]) -> dict[str, Any]:
    """The table for ``types`` (the AWS types of a plan), as the installed SDK answers."""
    aws_types = sorted({t for t in types if t.startswith("aws:") and aws_resource_class(t) is not None})
    return {"pulumiAws": _sdk_version(),
            "taggable": [t for t in aws_types if sdk_taggable(t)],
            "untaggable": [t for t in aws_types if not sdk_taggable(t)]}

