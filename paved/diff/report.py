"""The diff report's model: changes by service, data-loss risks, policy and cost deltas.

Operations are Pulumi's: ``create``, ``update``, ``replace``, ``delete``; a resource matched
through an alias is also ``renamed``. A change replaces a resource when it touches a
property the provider cannot change in place (:mod:`paved.diff.replacement`), or when its
provider is replaced. Deleting or replacing a stateful resource (:data:`DATA_TYPES`) or a
protected one is a data-loss risk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from paved.diff.match import carried_identities, match, reported, substitute
from paved.diff.properties import MISSING, PropertyChange, covers, lookup, property_changes
from paved.diff.release import release_hints
from paved.diff.replacement import replace_reasons
from paved.diff.sides import Side
from paved.resources import ROLLOUT, STATEFUL_TYPES

OPS = ("create", "update", "replace", "delete")

# Deleting or replacing one of these loses data (paved.resources.STATEFUL_TYPES, the set the
# protect transformation uses).
DATA_TYPES = STATEFUL_TYPES


def short_type(type_token: str) -> str:
    """A type token as a reviewer names it: ``Deployment``, ``msk/Cluster``, ``aws provider``."""
    if type_token.startswith("pulumi:providers:"):
        return f"{type_token.rsplit(':', 1)[-1]} provider"
    package, module, kind = (type_token.split(":") + ["", ""])[:3]
    if package == "aws":
        return f"{module.split('/')[0]}/{kind}"
    return kind or type_token


@dataclass
class ResourceChange:
    """What happens to one resource; ``urn`` is the URN after the change (before, for a delete)."""

    op: str
    type: str
    name: str
    urn: str
    service: str | None
    team: str | None
    old_urn: str | None = None
    old_name: str | None = None
    old_service: str | None = None
    changes: list[PropertyChange] = field(default_factory=list)
    replace_reasons: list[str] = field(default_factory=list)
    data_loss: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def renamed(self) -> bool:
        """Matched to the base through an alias (a new name, type or parent)."""
        return self.old_urn is not None and self.old_urn != self.urn


def _options_changes(before: dict[str, Any], after: dict[str, Any]) -> list[PropertyChange]:
    out = []
    for key in ("protect", "retainOnDelete"):
        old, new = bool(before.get(key)), bool(after.get(key))
        if old != new:
            out.append(PropertyChange(f"options.{key}", old, new))
    if sorted(before.get("ignoreChanges", [])) != sorted(after.get("ignoreChanges", [])):
        out.append(PropertyChange("options.ignoreChanges", before.get("ignoreChanges", []), after.get("ignoreChanges", [])))
    return out


def _data_loss(resource: dict[str, Any], op: str) -> dict[str, Any] | None:
    """The risk of deleting or replacing ``resource`` (its state before the change)."""
    options = resource.get("options", {})
    stateful = resource["type"] in DATA_TYPES
    protected = bool(options.get("protect"))
    retain = bool(options.get("retainOnDelete"))
    if not (stateful or protected):
        return None
    parts = []
    if stateful:
        parts.append(f"{'replacing' if op == 'replace' else 'deleting'} a {short_type(resource['type'])} loses the data it holds"
                     + (" (a replacement starts empty)" if op == "replace" else ""))
    if protected:
        parts.append("it is protected: `pulumi up` stops with an error until `protect` is removed")
    if retain:
        parts.append("retainOnDelete leaves the old one in place, no longer managed by Pulumi")
    return {"stateful": stateful, "protected": protected, "retainOnDelete": retain, "message": "; ".join(parts)}


def compare(base: dict[str, Any], head: dict[str, Any]) -> tuple[list[ResourceChange], int]:
    """(changes, number of unchanged resources) between two plan documents."""
    pairs = match(base, head)
    base_by = {r["urn"]: r for r in base["resources"]}
    subs = carried_identities(base, head, pairs)
    changes: list[ResourceChange] = []
    unchanged = 0
    # The head's Kubernetes version: its schema says how the API server will merge the lists.
    version = head.get("kubernetesVersion") or base.get("kubernetesVersion")
    replaced: set[str] = set()  # head URNs of replaced providers
    # Providers first, so that their replacement can replace what they manage.
    order = sorted(head["resources"], key=lambda r: not r["type"].startswith("pulumi:providers:"))
    for h in order:
        if not reported(h):
            continue
        base_urn = pairs.get(h["urn"])
        rc = ResourceChange(op="create", type=h["type"], name=h["name"], urn=h["urn"], service=h.get("service"),
                            team=h.get("team"))
        if base_urn is None:
            changes.append(rc)
            continue
        b = base_by[base_urn]
        if base_urn != h["urn"]:
            rc.old_urn, rc.old_name, rc.old_service = base_urn, b["name"], b.get("service")
        inputs = substitute(h["inputs"], subs) if subs else h["inputs"]
        props = property_changes(b["inputs"], inputs, h.get("options", {}).get("ignoreChanges", []), h["type"],
                                 version)
        reasons, findings = replace_reasons(h["type"], b["inputs"], inputs)
        head_provider, base_provider = h.get("provider"), b.get("provider")
        if head_provider and base_provider and pairs.get(head_provider) != base_provider:
            reasons.append("provider")
        elif head_provider in replaced:
            reasons.append("provider (replaced)")
        marked = [PropertyChange(c.path, c.before, c.after, any(covers(r, c.path) or covers(c.path, r) for r in reasons))
                  for c in props]
        # What forces the replacement first: it is what the reviewer has to weigh.
        rc.changes = sorted(marked, key=lambda c: not c.forces_replacement) + _options_changes(
            b.get("options", {}), h.get("options", {}))
        rc.replace_reasons = reasons
        rc.warnings = [f"{f.path}: {f.message}" if f.kind == "fails" else f.message for f in findings]
        if reasons:
            rc.op = "replace"
            rc.data_loss = _data_loss(b, "replace")
            if h["type"].startswith("pulumi:providers:"):
                replaced.add(h["urn"])
        elif rc.changes or rc.renamed:
            rc.op = "update"
        else:
            unchanged += 1
            continue
        changes.append(rc)
    taken = set(pairs.values())
    for b in base["resources"]:
        if reported(b) and b["urn"] not in taken:
            changes.append(ResourceChange(op="delete", type=b["type"], name=b["name"], urn=b["urn"], service=b.get("service"),
                                          team=b.get("team"), data_loss=_data_loss(b, "delete")))
    return changes, unchanged


def policy_delta(before: list[dict[str, Any]], after: list[dict[str, Any]],
                 urn_map: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """(introduced, fixed) violations, matched by rule and resource (a renamed resource keeps
    its violations); messages may differ between the sides."""

    def key(v: dict[str, Any], mapped: bool) -> tuple[str, str | None]:
        urn = v.get("urn")
        return v.get("ruleId") or v.get("policy", ""), (urn_map.get(urn, urn) if mapped else urn)

    old: dict[tuple, list[dict]] = defaultdict(list)
    new: dict[tuple, list[dict]] = defaultdict(list)
    for v in before:
        old[key(v, True)].append(v)
    for v in after:
        new[key(v, False)].append(v)

    def surplus(mine: list[dict], theirs: list[dict]) -> list[dict]:
        extra = len(mine) - len(theirs)
        if extra <= 0:
            return []
        messages = {v.get("message") for v in theirs}
        ranked = sorted(mine, key=lambda v: v.get("message") in messages)  # unmatched messages first
        return ranked[:extra]

    introduced = [v for k in new for v in surplus(new[k], old.get(k, []))]
    fixed = [v for k in old for v in surplus(old[k], new.get(k, []))]
    return introduced, fixed


def cost_summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """Monthly infrastructure cost (what AWS bills, what budgets compare) before, after and the
    difference, plus the pod requests at maximum replicas (an allocation of node capacity, not
    added to the bill); numbers in ``currency``, rounded to cents. A side's estimate may be a string
    (what paved wrote before its cost JSON had numbers) or a number."""
    if not before or not after:
        return None
    old, new = _money(before["budgetedTotal"]), _money(after["budgetedTotal"])
    out: dict[str, Any] = {"currency": after.get("currency", "USD"), "before": float(old), "after": float(new),
                           "delta": float(new - old)}
    pods = [side.get("totals", {}).get("podsAtMax") for side in (before, after)]
    if all(isinstance(p, (str, int, float)) and not isinstance(p, bool) for p in pods):
        low, high = _money(pods[0]), _money(pods[1])
        out["podsAtMax"] = {"before": float(low), "after": float(high), "delta": float(high - low)}
    return out


def _money(value: str | float | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass
class Group:
    """The changes of one service, one team's shared resources, or the platform's."""

    kind: str  # service | team | platform
    name: str | None
    team: str | None
    status: str  # created | deleted | renamed | changed
    former_name: str | None
    resources: list[ResourceChange]

    def count(self, op: str) -> int:
        """How many of the group's resources undergo ``op`` (or are ``renamed``)."""
        if op == "renamed":
            return sum(r.renamed for r in self.resources)
        return sum(r.op == op for r in self.resources)

    @property
    def title(self) -> str:
        """``orders-v2`` / ``team checkout`` / ``platform``."""
        return self.name if self.kind == "service" else f"team {self.team}" if self.kind == "team" else "platform"


@dataclass
class Repeated:
    """One change made identically (same path, same before and after) to several resources:
    a label that follows the image tag, say, shown once with the objects it touches."""

    path: str
    before: Any
    after: Any
    resources: list[ResourceChange]

    def matches(self, c: PropertyChange) -> bool:
        """Whether ``c`` is this change."""
        return c.path == self.path and _same(c.before, self.before) and _same(c.after, self.after)


def _key(value: Any) -> str:
    return "\0missing" if value is MISSING else json.dumps(value, sort_keys=True)


def _same(a: Any, b: Any) -> bool:
    return _key(a) == _key(b)


def repeated_changes(changes: list[ResourceChange], minimum: int = 2) -> list[Repeated]:
    """Identical property changes made to at least ``minimum`` updated or replaced resources,
    most widespread first."""
    found: dict[tuple[str, str, str], Repeated] = {}
    for r in changes:
        if r.op not in ("update", "replace"):
            continue
        for c in r.changes:
            if c.forces_replacement or c.path.startswith("options."):
                continue  # a replacement's cause is read where it happens
            k = (c.path, _key(c.before), _key(c.after))
            found.setdefault(k, Repeated(c.path, c.before, c.after, []))
            if not found[k].resources or found[k].resources[-1] is not r:
                found[k].resources.append(r)
    kept = [g for g in found.values() if len(g.resources) >= minimum]
    return sorted(kept, key=lambda g: (-len(g.resources), g.path))


def own_changes(r: ResourceChange, repeated: list[Repeated]) -> tuple[list[PropertyChange], int]:
    """(``r``'s changes that are not among ``repeated``, how many are), for renderers that
    list the repeated ones once."""
    mine = [g for g in repeated if any(x is r for x in g.resources)]
    own = [c for c in r.changes if not any(g.matches(c) for g in mine)]
    return own, len(r.changes) - len(own)


@dataclass
class Report:
    """Everything ``paved diff`` says about one stack."""

    stack: str
    base: Side
    head: Side
    resources: list[ResourceChange]
    unchanged: int
    groups: list[Group]
    policy_introduced: list[dict[str, Any]]
    policy_fixed: list[dict[str, Any]]
    cost: dict[str, str] | None
    hints: list[str]
    notes: list[str]
    repeated: list[Repeated] = field(default_factory=list)

    @property
    def data_loss(self) -> list[ResourceChange]:
        """Stateful or protected resources that would be deleted or replaced."""
        return [r for r in self.resources if r.data_loss]

    @property
    def warnings(self) -> list[str]:
        """Changes the provider or the service will refuse, one line each."""
        return [f"{r.urn}: {w}" for r in self.resources for w in r.warnings]

    def count(self, op: str) -> int:
        """How many resources undergo ``op`` (or are ``renamed``)."""
        return sum(g.count(op) for g in self.groups)

    def repeated_within(self, group: Group) -> list[Repeated]:
        """The repeated changes made only to ``group``'s resources: listed once in its section."""
        mine = {id(r) for r in group.resources}
        return [g for g in self.repeated if all(id(r) in mine for r in g.resources)]

    @property
    def repeated_across(self) -> list[Repeated]:
        """The repeated changes that span several groups: listed once for the whole report."""
        where = {id(r): i for i, g in enumerate(self.groups) for r in g.resources}
        return [g for g in self.repeated if len({where.get(id(r)) for r in g.resources}) > 1]


_OP_ORDER = {"delete": 0, "replace": 1, "update": 2, "create": 3}


def _groups(changes: list[ResourceChange], base: dict, head: dict) -> tuple[list[Group], dict[str, str]]:
    renames = {r.service: r.old_service for r in changes
               if r.renamed and r.service and r.old_service and r.service != r.old_service}
    back = {old: new for new, old in renames.items()}
    base_services = {r.get("service") for r in base["resources"]} - {None}
    head_services = {r.get("service") for r in head["resources"]} - {None}
    buckets: dict[tuple[str, str | None], list[ResourceChange]] = defaultdict(list)
    teams: dict[str, str | None] = {}
    for rc in changes:
        service = back.get(rc.service, rc.service) if rc.op == "delete" else rc.service
        if service:
            buckets[("service", service)].append(rc)
            teams[service] = rc.team
        elif rc.team:
            buckets[("team", rc.team)].append(rc)
        else:
            buckets[("platform", None)].append(rc)
    groups = []
    for (kind, name), items in buckets.items():
        items.sort(key=lambda r: (_OP_ORDER[r.op], r.type, r.name))
        former = renames.get(name) if kind == "service" else None
        if kind != "service":
            status = "changed"
        elif former:
            status = "renamed"
        elif name not in base_services:
            status = "created"
        elif name not in head_services:
            status = "deleted"
        else:
            status = "changed"
        groups.append(Group(kind, name if kind == "service" else None, teams.get(name) if kind == "service" else name,
                            status, former, items))
    groups.sort(key=lambda g: ({"service": 0, "team": 1, "platform": 2}[g.kind], g.name or g.team or ""))
    return groups, renames


def _image_repository(doc: dict[str, Any], service: str) -> str | None:
    for r in doc["resources"]:
        if r.get("service") == service and r["type"] in ("kubernetes:apps/v1:Deployment", ROLLOUT):
            containers = lookup(r["inputs"], "spec.template.spec.containers")
            image = containers[0].get("image") if isinstance(containers, list) and containers else None
            if isinstance(image, str):
                image = image.split("@", 1)[0]
                name, _, tag = image.rpartition(":")
                return name if name and "/" not in tag else image
    return None


def _rename_hints(groups: list[Group], base: dict, head: dict) -> list[str]:
    gone = [g for g in groups if g.kind == "service" and g.status == "deleted"]
    new = [g for g in groups if g.kind == "service" and g.status == "created"]
    hints = []
    for g in new:
        repo = _image_repository(head, g.name)
        for old in gone:
            if old.team == g.team and repo and repo == _image_repository(base, old.name):
                hints.append(f"service {g.name} runs the image of deleted service {old.name} (team {g.team}): if it is "
                             f"{old.name} renamed, add `formerNames: [{old.name}]` to it so its resources are kept and "
                             "renamed instead of deleted and created anew")
    return hints


NOTES = (
    "Cloud-computed values (ids, ARNs, endpoints) are the offline engine's stand-ins: in a real preview a "
    "replacement also changes the resources that read its outputs.",
    "Secret values are masked on both sides, so a changed secret value does not show.",
)


def assemble(stack: str, base: Side, head: Side, notes: list[str]) -> Report:
    """The report on two planned sides whose violations and cost are filled in; ``notes``
    first, then the offline engine's limits."""
    changes, unchanged = compare(base.doc, head.doc)
    groups, _ = _groups(changes, base.doc, head.doc)
    urn_map = {r.old_urn: r.urn for r in changes if r.old_urn}
    introduced, fixed = policy_delta(base.violations, head.violations, urn_map)
    return Report(stack=stack, base=base, head=head, resources=[r for g in groups for r in g.resources], unchanged=unchanged,
                  groups=groups, policy_introduced=introduced, policy_fixed=fixed,
                  cost=cost_summary(base.cost, head.cost), hints=[*_rename_hints(groups, base.doc, head.doc),
                                                                  *release_hints(changes, head.doc)],
                  notes=[*notes, *NOTES], repeated=repeated_changes(changes))
