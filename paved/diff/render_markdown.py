"""The diff report as a GitHub pull-request comment (``paved diff --format markdown``).

A summary comes first, the details in collapsed sections; the whole stays under GitHub's
comment size limit, and what does not fit is left out with a note saying so and pointing to
the JSON report, which holds everything (the workflow attaches it as an artifact and links it
from the comment). A change made identically to several resources (a label on every object
of a service) is listed once, with the objects it touches, not under each of them.
"""

from __future__ import annotations

import html

from paved.diff.properties import PropertyChange
from paved.diff.render import SYMBOL, before_after, shown, shown_pair
from paved.diff.report import OPS, Group, Repeated, Report, ResourceChange, own_changes, short_type

COMMENT_LIMIT = 65_000  # GitHub refuses comments over 65,536 characters


def _cell(value: str) -> str:
    return html.escape(value, quote=False).replace("|", "&#124;").replace("\n", "<br>")


def _code(value: str) -> str:
    return f"<code>{_cell(value)}</code>"


def _md_change(c: PropertyChange) -> str:
    mark = " **(forces replacement)**" if c.forces_replacement else ""
    if c.kind == "added":
        return f"{_code(c.path)}: + {_code(shown(c.after))}{mark}"
    if c.kind == "removed":
        return f"{_code(c.path)}: − {_code(shown(c.before))}{mark}"
    old, new = shown_pair(c.before, c.after)
    return f"{_code(c.path)}: {_code(old)} → {_code(new)}{mark}"


def _md_row(r: ResourceChange, repeated: list[Repeated], max_changes: int = 10) -> str:
    what = f"{_cell(short_type(r.type))} {_code(r.name)}"
    if r.renamed and r.old_name != r.name:
        what += f" ← {_code(r.old_name or '')}"
    notes = []
    if r.replace_reasons:
        notes.append("replaced: " + ", ".join(_code(p) for p in r.replace_reasons) + " cannot change in place")
    if r.op in ("update", "replace"):
        own, common = own_changes(r, repeated)
        notes += [_md_change(c) for c in own[:max_changes]]
        if len(own) > max_changes:
            notes.append(f"… and {len(own) - max_changes} more change(s)")
        if common:
            notes.append(f"and {common} repeated change(s), listed once (≡)")
    if r.data_loss:
        notes.append(f"⚠️ **data-loss risk**: {_cell(r.data_loss['message'])}")
    notes += [f"⛔ {_cell(w)}" for w in r.warnings]
    op = r.op + (" (renamed)" if r.renamed else "")
    return f"| {SYMBOL[r.op]} {op} | {what} | {'<br>'.join(notes)} |"


_MORE_ROW = "| | … {n} more not shown (comment size limit) | |"


def _md_section(summary: str, rows: list[str], budget: int, header: tuple[str, ...],
                opened: bool = False) -> tuple[str, bool] | None:
    """(a collapsed section with as many rows as ``budget`` allows, whether rows were cut);
    None when not even one row fits."""
    start = f"<details{' open' if opened else ''}><summary>{summary}</summary>\n\n" + "".join(h + "\n" for h in header)
    end = "\n</details>\n\n"
    room = budget - len(start) - len(end) - len(_MORE_ROW) - 8
    body: list[str] = []
    for row in rows:
        if sum(len(b) + 1 for b in body) + len(row) + 1 > room:
            break
        body.append(row)
    if rows and not body:
        return None
    cut = len(body) < len(rows)
    if cut:
        body.append(_MORE_ROW.format(n=len(rows) - len(body)))
    return start + "".join(b + "\n" for b in body) + end, cut


def _truncation_note(report: Report, limit: int, left: int, full: str | None) -> str:
    what = f"{left} section(s) and some rows are not shown" if left else "some rows are not shown"
    where = f"The whole report, nothing cut: {full}; or run" if full else "Run"
    return (f"> [!NOTE]\n> Cut to fit a GitHub comment ({limit:,} characters): {what}. {where} "
            f"`paved diff --stack {report.stack} --base {_cell(report.base.ref)}`.\n")


def _names(resources: list[ResourceChange], most: int = 8) -> str:
    names = [_code(r.name) for r in resources[:most]]
    return ", ".join(names) + (f" and {len(resources) - most} more" if len(resources) > most else "")


def _repeated_row(g: Repeated) -> str:
    change = _md_change(PropertyChange(g.path, g.before, g.after))
    return f"| ≡ | on **{len(g.resources)} objects**: {_names(g.resources)} | {change} |"


def full_report(json_name: str | None, json_url: str | None) -> str | None:
    """Where the JSON report is, as markdown: a link when its address is known."""
    if json_url:
        return f"[{_cell(json_name or 'the JSON report')}]({json_url})"
    return f"{_code(json_name)} (JSON, attached to the workflow run)" if json_name else None


def markdown(report: Report, limit: int = COMMENT_LIMIT, full: str | None = None) -> str:
    """The report as a GitHub comment: a summary first, details in collapsed sections, at most
    ``limit`` characters (what does not fit is left out, with a note saying so and pointing
    to ``full``, markdown naming the JSON report, see :func:`full_report`)."""
    risks = len(report.data_loss)
    head = [f"## paved diff: `{report.stack}`", ""]
    base = report.base
    where = f"the working tree of `{report.head.commit[:12]}`" if report.head.commit else "the working tree"
    head += [f"Base `{_cell(base.ref)}` (`{(base.commit or '')[:12]}`) → {where}"
             + (", with uncommitted changes" if report.head.dirty else "") + "."
             + (f" Full report: {full}." if full else ""), ""]
    head += [
        "| create | update | replace | delete | renamed | unchanged | data-loss risk | policy (new / fixed) | monthly cost |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {report.count('create')} | {report.count('update')} | {report.count('replace')} | {report.count('delete')} "
        f"| {report.count('renamed')} | {report.unchanged} | {'⚠️ **' + str(risks) + '**' if risks else '0'} "
        f"| +{len(report.policy_introduced)} / −{len(report.policy_fixed)} "
        f"| {before_after(report.cost) if report.cost else 'not estimated'} |", "",
    ]
    if report.cost and report.cost.get("podsAtMax"):
        head += [f"Monthly cost is what AWS bills. Pod requests at maximum replicas, the node capacity the services "
                 f"can claim: {before_after(report.cost['podsAtMax'])}.", ""]
    if not report.resources:
        head += ["No changes.", ""]
    if risks:
        head += ["> [!CAUTION]", f"> **{risks} stateful or protected resource(s) would be deleted or replaced:**"]
        head += [f"> - **{r.op}** {_cell(short_type(r.type))} {_code(r.name)}"
                 + (f" (service {_cell(r.service)})" if r.service else "") + f": {_cell(r.data_loss['message'])}"
                 for r in report.data_loss]
        head.append("")
    if report.warnings:
        head += ["> [!WARNING]", "> **Changes that will be refused:**"] + [f"> - {_cell(w)}" for w in report.warnings] + [""]
    if report.groups:
        head += ["| | team | create | update | replace | delete | |", "|---|---|---:|---:|---:|---:|---|"]
        for g in report.groups:
            head.append(f"| **{_cell(g.title)}** | {_cell(g.team or '')} | {g.count('create')} | {g.count('update')} "
                        f"| {g.count('replace')} | {g.count('delete')} | {_md_status(g)} |")
        head.append("")
    for hint in report.hints:
        head += ["> [!TIP]", f"> {_cell(hint)}", ""]

    sections: list[tuple[str, list[str], tuple[str, ...]]] = []
    table = ("| | resource | changes |", "|---|---|---|")
    across = report.repeated_across
    if across:
        sections.append((f"<b>Repeated changes</b>: {len(across)}, each made identically to objects of several groups",
                         [_repeated_row(g) for g in across], table))
    for g in report.groups:
        counts = ", ".join(f"{g.count(op)} {op}" for op in OPS if g.count(op))
        status = _md_status(g)
        sections.append((f"<b>{_cell(g.title)}</b>: {counts}" + (f" — {status}" if status else ""),
                         [*map(_repeated_row, report.repeated_within(g)), *(_md_row(r, report.repeated) for r in g.resources)],
                         table))
    for title, items in (("Policy violations introduced", report.policy_introduced),
                         ("Policy violations fixed", report.policy_fixed)):
        if items:
            rows = [f"| {_cell(v.get('enforcement', ''))} | {_code(v.get('ruleId') or '')} {_cell(v.get('policy') or '')} "
                    f"| {_cell(v.get('message') or '')}" + (f"<br>{_code(v['urn'])}" if v.get("urn") else "") + " |"
                    for v in items]
            sections.append((f"<b>{title}</b>: {len(items)}", rows, ("| enforcement | rule | violation |", "|---|---|---|")))
    sections.append(("Notes", [f"- {_cell(n)}" for n in report.notes], ()))

    out = "\n".join(head) + "\n"
    reserve = len(_truncation_note(report, limit, len(sections), full)) + 2
    left, cut = 0, False
    for summary, rows, header in sections:
        made = _md_section(summary, rows, limit - len(out) - reserve, header, opened=summary.startswith("<b>Repeated"))
        if made is None:
            left += 1
            continue
        out += made[0]
        cut = cut or made[1]
    if left or cut:
        out += _truncation_note(report, limit, left, full)
    if len(out) > limit:  # the summary alone is over the limit: cut it hard
        tail = "\n\n…(cut at the GitHub comment limit)\n"
        out = out[: limit - len(tail)] + tail
    return out


def _md_status(g: Group) -> str:
    return {"created": "new", "deleted": "removed", "renamed": f"renamed from {_code(g.former_name or '')}",
            "changed": ""}[g.status]
