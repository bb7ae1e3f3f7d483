"""Run one rule on hand-made resources, the way the analyzer and ``paved check`` do.

Props are wrapped in pulumi-policy's unknown-checking proxy; ``UNKNOWN_*`` sentinels from
``pulumi_policy.proxy`` placed in props behave as values unknown at preview.
"""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policies.config import settings_for


def options(protect: bool = False, ignore_changes: list[str] | None = None, parent: str | None = None) -> PolicyResourceOptions:
    """Resource options as the analyzer passes them."""
    return PolicyResourceOptions(
        protect=protect, ignore_changes=ignore_changes or [], delete_before_replace=None, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[], parent=parent,
    )


def urn(resource_type: str, name: str) -> str:
    """A URN for a test resource."""
    return f"urn:pulumi:test::paved::{resource_type}::{name}"


def resource_violations(rule, resource_type: str, props: dict[str, Any], *, name: str = "r", config: dict | None = None,
                        opts: PolicyResourceOptions | None = None, provider: tuple[str, dict] | None = None) -> list[str]:
    """Messages a resource rule reports for one resource. ``config`` is the env's entry for the rule."""
    _, cfg = settings_for(rule, {rule.policy_name: config} if config else {})
    prov = None
    if provider:
        prov = PolicyProviderResource(provider[0], unknown_checking_proxy(copy.deepcopy(provider[1])), urn(provider[0], "p"), "p")
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(copy.deepcopy(props)), urn(resource_type, name), name,
                                  opts or options(), prov, config=cfg)
    found: list[str] = []
    rule.run_resource(args, lambda message, u=None: found.append(message))
    return found


def stack_violations(rule, resources: list[tuple[str, str, dict[str, Any]]], *, config: dict | None = None,
                     protect: set[str] | None = None) -> list[tuple[str, str | None]]:
    """(message, urn) pairs a stack rule reports; ``resources`` are (type, name, props)."""
    _, cfg = settings_for(rule, {rule.policy_name: config} if config else {})
    res = [
        PolicyResource(t, unknown_checking_proxy(copy.deepcopy(p)), urn(t, n), n, options(protect=n in (protect or set())),
                       None, None, [], {})
        for t, n, p in resources
    ]
    found: list[tuple[str, str | None]] = []
    rule.run_stack(StackValidationArgs(res, config=cfg), lambda message, u=None: found.append((message, u)))
    return found


def category_config(rules, env: str) -> dict:
    """The entries of ``policies/config/<env>.json`` that configure ``rules``."""
    import json
    from pathlib import Path

    names = {rule.policy_name for rule in rules}
    path = Path(__file__).resolve().parent.parent / "policies" / "config" / f"{env}.json"
    return {k: v for k, v in json.loads(path.read_text()).items() if k in names}


def sample(stack: str, resource_type: str, service: str | None = None, name: str | None = None) -> dict[str, Any]:
    """A deep copy of one resource's inputs from the repo's own plan for ``stack``: a passing fixture.

    The rule fixtures were written around orders' Deployment; orders is now released as an Argo
    Rollout (catalog ``rollout:``), so they get orders as it is without ``rollout:``: the
    Deployment the component builds (:func:`as_deployment`) and an autoscaler scaling it. The
    Rollout itself is tested from the plan in tests/test_rollouts.py.
    """
    from conftest import planned

    resources = planned(stack)[0]["resources"]
    for r in resources:
        if r["type"] == resource_type and (service is None or r["service"] == service) and (name is None or r["name"] == name):
            if lookup_kind(r["inputs"]) == "Rollout":  # see below: the fixtures' orders is a Deployment
                return mutate(r["inputs"], "spec.scaleTargetRef", {"apiVersion": "apps/v1", "kind": "Deployment",
                                                                    "name": r["inputs"]["spec"]["scaleTargetRef"]["name"]})
            return copy.deepcopy(r["inputs"])
    if resource_type == DEPLOYMENT and service is not None and name is None:
        # orders is released as an Argo Rollout (catalog `rollout:`); the rule fixtures keep its
        # Deployment, the one the component builds without `rollout:` (tests/test_rollouts.py
        # proves the two agree with the real plan).
        for r in resources:
            if r["type"] == ROLLOUT and r["service"] == service:
                return as_deployment(r["inputs"])
    raise LookupError(f"no {resource_type} for service={service} name={name} in the {stack} plan")


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"


def lookup_kind(props: dict[str, Any]) -> Any:
    """The kind an autoscaler's scaleTargetRef names (None for other resources)."""
    ref = (props.get("spec") or {}).get("scaleTargetRef") if isinstance(props.get("spec"), dict) else None
    return ref.get("kind") if isinstance(ref, dict) else None


def as_deployment(rollout: dict[str, Any]) -> dict[str, Any]:
    """The Deployment the Microservice component builds for a service, from its Rollout's inputs:
    the same metadata, selector, pod template and pacing, with the rolling update."""
    spec = rollout["spec"]
    keep = ("selector", "minReadySeconds", "progressDeadlineSeconds", "revisionHistoryLimit", "template")
    return copy.deepcopy({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": rollout["metadata"],
        "spec": {**{k: spec[k] for k in keep},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}},
    })


def mutate(props: dict, path: str, value) -> dict:
    """A deep copy of ``props`` with the dotted ``path`` set to ``value`` (``None`` deletes it)."""
    out = copy.deepcopy(props)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if value is None:
        node.pop(last, None)
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def names(found) -> set[str]:
    """Resource names in (message, urn) pairs from ``stack_violations``."""
    return {u.rsplit("::", 1)[-1] for _, u in found if u}


def subjects(messages: list[str]) -> set[str]:
    """Who each message is about: the text before " must "."""
    return {m.split(" must ", 1)[0] for m in messages}


def assert_flags(messages: list[str], *needles: str, who: set[str] | None = None) -> None:
    """At least one violation, every message a sentence, and each needle in some message.

    With ``who`` the messages are one finding about exactly those subjects ("Deployment orders
    container x"), so every message must carry every needle.
    """
    assert messages, "expected a violation"
    assert all(m.endswith(".") for m in messages), messages
    if who is not None:
        assert subjects(messages) == who, messages
    for needle in needles:
        hits = [needle in m for m in messages]
        assert all(hits) if who is not None else any(hits), (needle, messages)
