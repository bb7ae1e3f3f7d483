"""PAVED-DEP-010: a role that writes to an MSK topic may also write idempotently to its cluster.

Kafka producers enable idempotence by default since Kafka 3.0 (KIP-679), and the platform
contract's client keeps that default. With MSK IAM access control an idempotent producer
needs ``kafka-cluster:WriteDataIdempotently`` on the *cluster* ARN besides ``WriteData`` on
the topic; without it the first send fails with ``ClusterAuthorizationException``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from paved.resources import UNKNOWN, items, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import json_value

WRITE, IDEMPOTENT = "kafka-cluster:WriteData", "kafka-cluster:WriteDataIdempotently"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(statements: list[dict], action: str) -> list[str]:
    """Resources an Allow statement grants ``action`` on (IAM wildcards in the action)."""
    out = []
    for s in statements:
        if s.get("Effect") == "Allow" and any(fnmatchcase(action.lower(), str(a).lower()) for a in _list(s.get("Action"))):
            out.extend(str(r) for r in _list(s.get("Resource")))
    return out


def cluster_of(topic_arn: str) -> str | None:
    """``arn:aws:kafka:r:a:topic/<cluster>/<uuid>/<topic>`` → ``arn:aws:kafka:r:a:cluster/<cluster>/<uuid>``."""
    head, _, path = topic_arn.partition(":topic/")
    parts = path.split("/")
    return f"{head}:cluster/{parts[0]}/{parts[1]}" if path and len(parts) >= 3 else None


def statements_by_role(resources) -> dict[str, tuple[Any, list[dict]]]:
    """Role → (a resource to report on, every statement of its policies)."""
    out: dict[str, tuple[Any, list[dict]]] = {}
    for r in resources:
        if r.resource_type == "aws:iam/rolePolicy:RolePolicy":
            role, docs = lookup(r.props, "role"), [lookup(r.props, "policy")]
        elif r.resource_type == "aws:iam/role:Role":
            role, docs = r.urn, [lookup(p, "policy") for p in items(r.props, "inlinePolicies")]
        else:
            continue
        key = role if isinstance(role, str) else r.urn
        for doc in docs:
            parsed = json_value(doc) if doc is not UNKNOWN else None
            if isinstance(parsed, dict):
                holder = out.setdefault(key, (r, []))
                holder[1].extend(s for s in _list(parsed.get("Statement")) if isinstance(s, dict))
    return out


def validate_stack(args, report) -> None:
    for resource, statements in statements_by_role(args.resources).values():
        topics = [t for t in allowed(statements, WRITE) if ":topic/" in t]
        clusters = sorted({c for c in (cluster_of(t) for t in topics) if c})
        granted = allowed(statements, IDEMPOTENT)
        missing = [c for c in clusters if not any(fnmatchcase(c, g) for g in granted)]
        if missing:
            report(f"RolePolicy {resource.name} must allow {IDEMPOTENT} on {', '.join(missing)}: the role writes to "
                   f"topics there and Kafka producers are idempotent by default.", resource.urn)


RULE = Rule(
    id="PAVED-DEP-010",
    name="kafka-idempotent-producer",
    description=(
        "Checks whether every IAM role whose policies allow kafka-cluster:WriteData on an MSK topic also allow "
        "kafka-cluster:WriteDataIdempotently on that topic's cluster ARN."
    ),
    severity="high",
    remediation=(
        "Add a statement allowing kafka-cluster:WriteDataIdempotently on the cluster ARN to the service's policy "
        "(components/identity.py builds it from the catalog's kafka.produces)."
    ),
    anchors=(
        "docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html (WriteDataIdempotently: resource type "
        "cluster)",
        "KIP-679: producer enables idempotence by default (Kafka 3.0)",
    ),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
