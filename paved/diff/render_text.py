"""The diff report for a terminal (``paved diff``'s default ``--format text``)."""

from __future__ import annotations

from typing import Any

from paved.diff.properties import PropertyChange
from paved.diff.render import SYMBOL, before_after, shown, shown_pair
from paved.diff.report import OPS, Group, Repeated, Report, ResourceChange, own_changes, short_type


def _change_text(c: PropertyChange, limit: int = 80) -> str:
    mark = "  [forces replacement]" if c.forces_replacement else ""
    if c.kind == "added":
        return f"{c.path}: + {shown(c.after, limit)}{mark}"
    if c.kind == "removed":
        return f"{c.path}: - {shown(c.before, limit)}{mark}"
    old, new = shown_pair(c.before, c.after, limit)
    return f"{c.path}: {old} → {new}{mark}"


def _repeated_line(rep: Repeated) -> str:
    names = ", ".join(r.name for r in rep.resources[:8]) + (
        f" and {len(rep.resources) - 8} more" if len(rep.resources) > 8 else "")
    return f"  ≡  on {len(rep.resources)} objects ({names}): {_change_text(PropertyChange(rep.path, rep.before, rep.after))}"


def _resource_line(r: ResourceChange) -> str:
    line = f"{SYMBOL[r.op]:2} {r.op:7} {short_type(r.type)} {r.name}"
    if r.renamed:
        line += f" (renamed from {r.old_name})" if r.old_name != r.name else f" (was {r.old_urn})"
    if r.replace_reasons:
        line += f"; replaced because {', '.join(r.replace_reasons)} change{'s' if len(r.replace_reasons) == 1 else ''}"
    return line


def _group_heading(g: Group) -> str:
    head = g.title + (f" (team {g.team})" if g.kind == "service" and g.team else "")
    status = {"created": "new", "deleted": "removed", "renamed": f"renamed from {g.former_name}", "changed": ""}[g.status]
    counts = ", ".join(f"{g.count(op)} to {op}" for op in OPS if g.count(op))
    return f"{head}: " + "; ".join(p for p in (status, counts) if p)


def _cost_line(cost: dict[str, Any] | None) -> str:
    if not cost:
        return "monthly cost: not estimated"
    pods = f"; pod requests at max replicas {before_after(cost['podsAtMax'])}" if cost.get("podsAtMax") else ""
    return f"monthly cost: {before_after(cost)}{pods}"


def _totals(report: Report) -> str:
    ops = ", ".join(f"{report.count(op)} to {op}" for op in OPS)
    renamed = report.count("renamed")
    return f"{ops}" + (f" ({renamed} renamed)" if renamed else "") + f"; {report.unchanged} unchanged"


def _sides(report: Report) -> str:
    base, head = report.base, report.head
    where = f"working tree of {head.commit[:12]}" if head.commit else "working tree"
    return f"base {base.ref} ({(base.commit or '')[:12]}) → {where}{', with uncommitted changes' if head.dirty else ''}"


def _violation_text(v: dict[str, Any]) -> list[str]:
    out = [f"  {v.get('enforcement', '').upper():9} {v.get('ruleId')} {v.get('policy')}: {v.get('message')}"]
    if v.get("urn"):
        out.append(f"            resource: {v['urn']}")
    return out


def text(report: Report) -> str:
    """The report for a terminal."""
    out = [f"paved diff --stack {report.stack}: {_sides(report)}", "",
           f"resources: {_totals(report)}",
           f"data-loss risk: {len(report.data_loss) or 'none'}"
           + (" stateful or protected resource(s) would be deleted or replaced" if report.data_loss else ""),
           f"policy: {len(report.policy_introduced)} violation(s) introduced, {len(report.policy_fixed)} fixed",
           _cost_line(report.cost)]
    if not report.resources:
        out += ["", "No changes."]
    if report.repeated_across:
        out += ["", "Repeated changes (each made identically to objects of several groups, listed once)"]
        out += [_repeated_line(rep) for rep in report.repeated_across]
    for g in report.groups:
        out += ["", _group_heading(g)]
        out += [_repeated_line(rep) for rep in report.repeated_within(g)]
        for r in g.resources:
            out.append("  " + _resource_line(r))
            if r.op in ("update", "replace"):
                own, common = own_changes(r, report.repeated)
                out += [f"       {_change_text(c)}" for c in own]
                if common:
                    out.append(f"       and {common} repeated change(s), listed once (≡)")
            if r.data_loss:
                out.append(f"       DATA-LOSS RISK: {r.data_loss['message']}")
            out += [f"       WARNING: {w}" for w in r.warnings]
    if report.data_loss:
        out += ["", "Data-loss risks"]
        out += [f"  {r.op} {short_type(r.type)} {r.name}" + (f" (service {r.service})" if r.service else "")
                + f": {r.data_loss['message']}" for r in report.data_loss]
    if report.warnings:
        out += ["", "Warnings"] + [f"  {w}" for w in report.warnings]
    for title, items in (("Policy violations introduced", report.policy_introduced),
                         ("Policy violations fixed", report.policy_fixed)):
        if items:
            out += ["", title]
            for v in items:
                out += _violation_text(v)
    if report.hints:
        out += ["", "Hints"] + [f"  {h}" for h in report.hints]
    out += ["", "Notes"] + [f"  {n}" for n in report.notes]
    return "\n".join(out) + "\n"
