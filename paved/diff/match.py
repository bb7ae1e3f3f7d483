"""Matching resources between the base's plan and the head's: by URN, then through aliases.

A resource renamed in the catalog (a service's ``formerNames``) carries ``aliases`` to the
URNs it had, so it is matched to its old self instead of being deleted and created. A
renamed resource keeps its cloud identity (id, ARN, generated name), so the offline
engine's stand-ins for those, which it derives from logical names, are carried over from
the base before the two are compared (:func:`carried_identities`).
"""

from __future__ import annotations

from typing import Any

from paved import offline_cloud
from paved.diff.replacement import replace_reasons


def reported(resource: dict[str, Any]) -> bool:
    """Resources a reviewer sees: custom resources and Helm charts (components whose objects
    the mock runtime cannot see one by one)."""
    return bool(resource.get("custom", True)) or resource["type"].startswith("kubernetes:helm.sh/")


def _urn_parts(urn: str) -> tuple[str, str, str, str]:
    head, project, qualified, name = urn.split("::", 3)
    return head.removeprefix("urn:pulumi:"), project, qualified, name


def _last_type(urn: str) -> str:
    return _urn_parts(urn)[2].rsplit("$", 1)[-1]


def _type_alternatives(resource: dict[str, Any] | None) -> list[str]:
    if resource is None:
        return []
    types = [_last_type(resource["urn"])]
    for spec in resource.get("options", {}).get("aliases", []):
        if isinstance(spec, str):
            types.append(_last_type(spec))
        elif isinstance(spec, dict) and spec.get("type"):
            types.append(spec["type"])
    return list(dict.fromkeys(types))


def alias_urns(resource: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> list[str]:
    """The URNs ``resource`` may have had: its aliases, also under its parent's aliases.

    URNs are formed the way the plan document forms them (the parent's type, then ``$``, then
    the resource's type), so a name or type alias maps onto the URN the base would have had.
    """
    stack, project, qualified, name = _urn_parts(resource["urn"])
    prefix, _, own_type = qualified.rpartition("$")
    parent_types = _type_alternatives(by_urn.get(resource.get("parent") or "")) or ([prefix] if prefix else [""])
    if prefix and prefix not in parent_types:
        parent_types.insert(0, prefix)
    specs: list[dict[str, Any]] = [{}]
    found: list[str] = []
    for spec in resource.get("options", {}).get("aliases", []):
        if isinstance(spec, str):
            found.append(spec)
        elif isinstance(spec, dict):
            specs.append(spec)
    for spec in specs:
        parents = [_last_type(spec["parent"])] if spec.get("parent") else parent_types
        for parent in parents:
            typ = spec.get("type", own_type)
            qtype = f"{parent}${typ}" if parent else typ
            where = f"{spec.get('stack', stack)}::{spec.get('project', project)}"
            found.append(f"urn:pulumi:{where}::{qtype}::{spec.get('name', name)}")
    return [u for u in dict.fromkeys(found) if u != resource["urn"]]


def match(base: dict[str, Any], head: dict[str, Any]) -> dict[str, str]:
    """{head URN: base URN}: equal URNs first, then each unmatched head resource's aliases."""
    base_by = {r["urn"]: r for r in base["resources"]}
    head_by = {r["urn"]: r for r in head["resources"]}
    pairs = {urn: urn for urn in head_by if urn in base_by}
    taken = set(pairs.values())
    for r in head["resources"]:
        if r["urn"] in pairs:
            continue
        for candidate in alias_urns(r, head_by):
            if candidate in base_by and candidate not in taken and candidate not in head_by:
                pairs[r["urn"]] = candidate
                taken.add(candidate)
                break
    return pairs



def _region(doc: dict[str, Any]) -> str:
    for r in doc["resources"]:
        if r["type"] == "pulumi:providers:aws" and isinstance(r["inputs"].get("region"), str):
            return r["inputs"]["region"]
    return "us-east-1"


def substitute(value: Any, subs: list[tuple[str, str]]) -> Any:
    """``value`` with every ``old`` substring of its strings replaced by ``new``, in ``subs``' order."""
    if isinstance(value, str):
        for old, new in subs:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: substitute(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, subs) for v in value]
    return value


def _computed(resource: dict[str, Any], region: str) -> dict[str, str]:
    _, state = offline_cloud.outputs(resource["type"], resource["name"], resource["inputs"], region)
    return {k: v for k, v in state.items() if isinstance(v, str) and resource["inputs"].get(k) != v}


def carried_identities(base: dict[str, Any], head: dict[str, Any], pairs: dict[str, str]) -> list[tuple[str, str]]:
    """[(stand-in after, stand-in before)] for renamed resources that are not replaced.

    A renamed resource is the same cloud object: it keeps its id, ARN and generated name.
    The offline engine derives those from the logical name, so the new name's stand-ins are
    mapped back to the old name's before comparing, or every resource that refers to a
    renamed one (a role policy naming its role) would look changed, or even replaced.
    """
    base_by = {r["urn"]: r for r in base["resources"]}
    head_by = {r["urn"]: r for r in head["resources"]}
    region = _region(head)
    pending = [(head_by[h], base_by[b]) for h, b in pairs.items() if h != b and head_by[h].get("custom", True)]
    subs: dict[str, str] = {}
    progress = True
    while progress:
        progress = False
        ordered = sorted(subs.items(), key=lambda kv: -len(kv[0]))
        for h, b in list(pending):
            reasons, _ = replace_reasons(h["type"], b["inputs"], substitute(h["inputs"], ordered))
            if reasons:
                continue  # a new object: its identity is new too (it may still be carried on a later pass)
            before, after = _computed(b, region), _computed(h, region)
            subs.update({after[k]: before[k] for k in after.keys() & before.keys() if after[k] != before[k]})
            pending.remove((h, b))
            progress = True
    return sorted(subs.items(), key=lambda kv: -len(kv[0]))

