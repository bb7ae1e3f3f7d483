"""PAVED-REL-004: Deployments roll out without dropping below their serving capacity."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from paved.resources import UNKNOWN, is_set, items, lookup, number, object_name, shown
from policies.framework import Rule


def _amount(value) -> tuple[str, Decimal] | None:
    """("percent"|"count", n) of an IntOrString, or None when unknown or unreadable."""
    if value is UNKNOWN or value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        n = number(value.strip()[:-1])
        return ("percent", n) if isinstance(n, Decimal) else None
    n = number(value)
    return ("count", n) if isinstance(n, Decimal) else None


def _mounts_claim(props) -> bool:
    """The pod template mounts a PersistentVolumeClaim (on EKS an EBS volume, ReadWriteOnce)."""
    return any(isinstance(v, Mapping) and is_set(v, "persistentVolumeClaim.claimName")
               for v in items(props, "spec.template.spec.volumes"))


def validate(args, report) -> None:
    cap = Decimal(str(args.get_config()["maxUnavailablePercent"]))
    who = f"Deployment {object_name(args.props, args.name)}"
    kind = lookup(args.props, "spec.strategy.type")
    if kind == "Recreate" and _mounts_claim(args.props):
        return  # a volume that attaches to one node: a surge pod elsewhere would never start
    if kind not in (None, UNKNOWN, "RollingUpdate"):
        report(f"{who} must use strategy RollingUpdate (strategy {kind} stops every pod before starting new ones).")
        return
    unavailable = lookup(args.props, "spec.strategy.rollingUpdate.maxUnavailable")
    parsed = _amount(unavailable)
    if parsed is not None:
        unit, n = parsed
        if (unit == "count" and n != 0) or (unit == "percent" and n > cap):
            report(f"{who} must keep strategy.rollingUpdate.maxUnavailable at 0 or at most {cap:f}% "
                   f"(it is {shown(unavailable)}).")
    surge = lookup(args.props, "spec.strategy.rollingUpdate.maxSurge")
    parsed = _amount(surge)
    if parsed is not None and parsed[1] <= 0:
        report(f"{who} must set strategy.rollingUpdate.maxSurge to at least 1 (it is {shown(surge)}), so new pods "
               f"start before old ones stop.")


RULE = Rule(
    id="PAVED-REL-004",
    name="rolling-update-strategy",
    description=(
        "Checks whether a Deployment uses the RollingUpdate strategy (or leaves it unset; Recreate only when its "
        "pods mount a PersistentVolumeClaim, whose volume attaches to one node at a time) with "
        "rollingUpdate.maxUnavailable 0 or a percentage of at most maxUnavailablePercent (25% when unset) and "
        "maxSurge of at least 1 (25% when unset). Values unknown at preview pass."
    ),
    severity="medium",
    remediation=(
        "Use strategy RollingUpdate with maxUnavailable: 0 and maxSurge: 1 (what the Microservice component "
        "sets), plus minReadySeconds and progressDeadlineSeconds so a bad rollout stops instead of taking "
        "capacity down."
    ),
    anchors=("REL-K8S-003", "ks:deployment-strategy"),
    validate=validate,
    resource_types=frozenset({"kubernetes:apps/v1:Deployment"}),
    config={
        "maxUnavailablePercent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 25,
                                  "description": "Largest percentage maxUnavailable may take."},
    },
    enforcement="mandatory",
)
