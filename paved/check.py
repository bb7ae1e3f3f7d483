"""``paved check``: the policy pack's rules over the offline plan, without cloud credentials.

The rule objects are the ones ``policies/__main__.py`` puts in the pack; here they are
called with pulumi-policy's own argument types, props wrapped in its unknown-checking
proxy, and the environment's ``policies/config/<env>.json``, exactly as the analyzer
would call them during ``pulumi preview``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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

# load_config is imported for the commands too: they call check.load_config and check.settings_for.
from policies.config import load_config, settings_for  # noqa: F401


@dataclass(frozen=True)
class Violation:
    """One rule broken by one resource (or by the stack as a whole, with urn None)."""

    policy: str
    rule_id: str
    enforcement: str
    severity: str
    urn: str | None
    service: str | None
    team: str | None
    message: str
    remediation: str

    def as_json(self) -> dict[str, Any]:
        """The JSON form (camelCase keys) used by ``--format json``."""
        d = asdict(self)
        d["ruleId"] = d.pop("rule_id")
        return d


def _opts(r: dict[str, Any]) -> PolicyResourceOptions:
    o = r.get("options", {})
    return PolicyResourceOptions(
        protect=bool(o.get("protect")),
        ignore_changes=list(o.get("ignoreChanges", [])),
        delete_before_replace=None,
        aliases=[a for a in o.get("aliases", []) if isinstance(a, str)],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=r.get("parent"),
    )


def _local_component(r: dict[str, Any]) -> bool:
    # The program's own components; a provider's components (helm.sh/v4 Chart, yaml/v2
    # ConfigGroup) are remote, and the engine records them as dependencies themselves.
    return not r.get("custom", True) and not r["type"].startswith("kubernetes:")


def _dependencies(r: dict[str, Any], by_urn: dict[str, dict[str, Any]],
                  children: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The URNs ``dependsOn`` becomes, as the Python SDK expands it (``pulumi.runtime.rpc._add_dependency``):
    a custom resource or remote component stands for itself; a local component for its custom
    and remote descendants, not descending below a custom resource or a remote component."""
    out: dict[str, None] = {}
    todo = list(r.get("options", {}).get("dependsOn", []))
    while todo:
        urn = todo.pop(0)
        dep = by_urn.get(urn)
        if dep is None:
            continue
        if _local_component(dep):
            todo.extend(c["urn"] for c in children.get(urn, []))
        elif urn != r["urn"]:
            out[urn] = None
    return list(out)


def _providers(plan: dict[str, Any]) -> dict[str, PolicyProviderResource]:
    return {
        r["urn"]: PolicyProviderResource(r["type"], unknown_checking_proxy(r["inputs"]), r["urn"], r["name"])
        for r in plan["resources"]
        if r["type"].startswith("pulumi:providers:")
    }


def run(plan: dict[str, Any], config: dict[str, Any], rules: tuple) -> list[Violation]:
    """Every violation of ``rules`` in a plan document, under an environment's config."""
    resources = [r for r in plan["resources"] if r.get("custom", True)]
    providers = _providers(plan)
    by_urn = {r["urn"]: r for r in resources}
    by_urn_all = {r["urn"]: r for r in plan["resources"]}
    violations: list[Violation] = []

    def reporter(rule, level: str, default_urn: str | None):
        def report(message: str, urn: str | None = None) -> None:
            target = urn or default_urn
            owner = by_urn.get(target, {})
            violations.append(Violation(
                policy=rule.policy_name, rule_id=rule.id, enforcement=level, severity=rule.severity, urn=target,
                service=owner.get("service"), team=owner.get("team"), message=message, remediation=rule.remediation,
            ))
        return report

    active = []
    for rule in rules:
        level, props = settings_for(rule, config)
        if level != "disabled":
            active.append((rule, level, props))

    resource_rules = [(rule, level, props) for rule, level, props in active if rule.validate is not None]
    proxies: dict[str, Any] = {}

    def props_of(r: dict[str, Any]) -> Any:
        # One proxy per resource, shared by every rule. Rules only read props (the proxies'
        # lists are read-only), so the plan document itself is wrapped, not a copy of it.
        if r["urn"] not in proxies:
            proxies[r["urn"]] = unknown_checking_proxy(r["inputs"])
        return proxies[r["urn"]]

    for r in resources:
        provider = providers.get(r.get("provider") or "")
        applicable = [(rule, level, cfg) for rule, level, cfg in resource_rules
                      if rule.resource_types is None or r["type"] in rule.resource_types]
        if not applicable:
            continue
        props = props_of(r)
        opts = _opts(r)
        for rule, level, cfg in applicable:
            args = ResourceValidationArgs(
                resource_type=r["type"], props=props, urn=r["urn"], name=r["name"], opts=opts,
                provider=provider, config=cfg,
            )
            rule.run_resource(args, reporter(rule, level, r["urn"]))

    stack_rules = [(rule, level, props) for rule, level, props in active if rule.validate_stack is not None]
    if stack_rules:
        # The engine hands stack policies every resource of the snapshot, components included,
        # with parents and the dependencies the SDK sent (see ``_dependencies``).
        everything = plan["resources"]
        policy_resources = {
            r["urn"]: PolicyResource(
                resource_type=r["type"], props=props_of(r), urn=r["urn"],
                name=r["name"], opts=_opts(r), provider=providers.get(r.get("provider") or ""), parent=None,
                dependencies=[], property_dependencies={},
            )
            for r in everything
        }
        children: dict[str, list[dict[str, Any]]] = {}
        for r in everything:
            children.setdefault(r.get("parent") or "", []).append(r)
        for r in everything:
            res = policy_resources[r["urn"]]
            res.parent = policy_resources.get(r.get("parent") or "")
            res.dependencies = [policy_resources[d] for d in _dependencies(r, by_urn_all, children) if d in policy_resources]
        for rule, level, props in stack_rules:
            args = StackValidationArgs(resources=list(policy_resources.values()), config=props)
            rule.run_stack(args, reporter(rule, level, None))
    return violations


def summary(violations: list[Violation], rules_run: int, resources: int) -> dict[str, Any]:
    """Counts by enforcement, for the JSON output and the exit code."""
    return {
        "mandatory": sum(v.enforcement == "mandatory" for v in violations),
        "advisory": sum(v.enforcement == "advisory" for v in violations),
        "rules": rules_run,
        "resources": resources,
        "passed": not any(v.enforcement == "mandatory" for v in violations),
    }


JSON_VERSION = 1  # of the `paved check --format json` document (docs/schemas/check.schema.json)
ENFORCEMENTS = ("advisory", "mandatory")  # in rising order: --min-enforcement keeps this one and above
SHOWN_PER_RULE = 3


def at_least(violations: list[Violation], minimum: str) -> list[Violation]:
    """The violations at ``minimum`` enforcement or above (``advisory`` keeps all)."""
    floor = ENFORCEMENTS.index(minimum)
    return [v for v in violations if v.enforcement in ENFORCEMENTS and ENFORCEMENTS.index(v.enforcement) >= floor]


def _owner(v: Violation) -> str:
    return f"service {v.service}, team {v.team}" if v.service else (f"team {v.team}" if v.team else "platform")


def text(violations: list[Violation], summ: dict[str, Any], stack: str, *, verbose: bool = False,
         min_enforcement: str = "advisory") -> str:
    """Violations rolled up per rule, mandatory first: one line per rule with its count, then the
    first few findings (every finding, each with its resource URN, when ``verbose``)."""
    shown = at_least(violations, min_enforcement)
    hidden = len(violations) - len(shown)
    tail = f" ({hidden} advisory not shown: --min-enforcement {min_enforcement})" if hidden else ""
    if not shown:
        found = "no violations" if not violations else "no violations at or above " + min_enforcement
        return f"paved check --stack {stack}: {summ['rules']} rules over {summ['resources']} resources, {found}{tail}\n"
    by_rule: dict[tuple[str, str], list[Violation]] = {}
    for v in shown:
        by_rule.setdefault((v.enforcement, v.rule_id), []).append(v)
    out = []
    for (level, rule_id) in sorted(by_rule, key=lambda k: (k[0] != "mandatory", k[1])):
        group = sorted(by_rule[(level, rule_id)], key=lambda v: (v.service or "~", v.urn or "", v.message))
        first = group[0]
        count = f"{len(group)} finding{'s' if len(group) != 1 else ''}"
        out.append(f"{level.upper():9} {rule_id} {first.policy} ({first.severity}): {count}")
        listed = group if verbose else group[:SHOWN_PER_RULE]
        for v in listed:
            out.append(f"  - {v.message} [{_owner(v)}]")
            if verbose and v.urn:
                out.append(f"    resource: {v.urn}")
        if len(group) > len(listed):
            out.append(f"  ... and {len(group) - len(listed)} more (--verbose lists every one, with its resource URN)")
        out.append(f"  fix: {first.remediation}")
        out.append("")
    out.append(
        f"paved check --stack {stack}: {summ['mandatory']} mandatory and {summ['advisory']} advisory violation(s) "
        f"from {summ['rules']} rules over {summ['resources']} resources{tail}"
    )
    return "\n".join(out) + "\n"


def as_json(violations: list[Violation], summ: dict[str, Any], stack: str, min_enforcement: str) -> dict[str, Any]:
    """``--format json`` (docs/schemas/check.schema.json): the findings at ``min_enforcement`` or
    above, and the counts of all of them."""
    return {"version": JSON_VERSION, "stack": stack, "minEnforcement": min_enforcement,
            "violations": [v.as_json() for v in at_least(violations, min_enforcement)], "summary": summ}
