"""What forces a replacement: the properties a provider cannot change in place.

A change replaces a resource when it touches a path in :data:`REPLACE_ON_CHANGE` (read from
``paved/data/replacement.json``, with the provider versions it was checked against) or
Kubernetes' ``metadata.name`` and ``metadata.namespace`` for every kind, or when one of the few
value-dependent rules in :data:`CONDITIONAL_RULES` says so; those rules also name the changes
the provider will refuse outright (a Kafka partition count going down).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paved.diff.properties import lookup
from paved.resources import is_kubernetes_object

_K8S_META = ("metadata.name", "metadata.namespace")
TABLE_FILE = Path(__file__).resolve().parent.parent / "data" / "replacement.json"
SDKS = ("pulumi-aws", "pulumi-kubernetes")


@functools.cache
def _table() -> dict[str, Any]:
    return json.loads(TABLE_FILE.read_text(encoding="utf-8"))


def checked_against() -> dict[str, str]:
    """{SDK distribution: the version the table was checked against}."""
    return dict(_table()["checkedAgainst"])


# {type token: camelCase input paths whose change the provider cannot apply in place}, from
# paved/data/replacement.json (where the sources are named). One data file, not code: it is
# checked against the provider versions it names, and a newer installed SDK fails a test.
REPLACE_ON_CHANGE: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _table()["replaceOnChange"].items()}


def sdk_versions() -> dict[str, str]:
    """{SDK distribution: installed version}, read from each SDK's ``pulumi-plugin.json``."""
    out = {}
    for dist in SDKS:
        spec = importlib.util.find_spec(dist.replace("-", "_"))
        if spec and spec.submodule_search_locations:
            plugin = Path(next(iter(spec.submodule_search_locations))) / "pulumi-plugin.json"
            if plugin.is_file():
                out[dist] = json.loads(plugin.read_text(encoding="utf-8"))["version"]
    return out


def bundled_schemas() -> list[Path]:
    """Provider schema files shipped inside the installed SDKs that carry replacement rules
    (``replaceOnChanges``, ``forceNew``): if one appears, the table should be generated from
    it. Today's SDKs ship none (only ``pulumi-plugin.json``)."""
    found = []
    for dist in SDKS:
        spec = importlib.util.find_spec(dist.replace("-", "_"))
        if not spec or not spec.submodule_search_locations:
            continue
        for f in Path(next(iter(spec.submodule_search_locations))).rglob("*.json"):
            if f.name != "pulumi-plugin.json" and f.stat().st_size < 200_000_000:
                text = f.read_text(encoding="utf-8", errors="replace")
                if "replaceOnChanges" in text or "forceNew" in text:
                    found.append(f)
    return found


def replacement_paths(type_token: str) -> tuple[str, ...]:
    """The input paths of ``type_token`` whose change replaces the resource."""
    paths = REPLACE_ON_CHANGE.get(type_token, ())
    return (*_K8S_META, *paths) if is_kubernetes_object(type_token) else paths


@dataclass(frozen=True)
class Finding:
    """A value-dependent verdict: ``replace`` (forces a new resource) or ``fails`` (refused)."""

    kind: str
    path: str
    message: str


def _version(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d+(\.\d+)*", value):
        return None
    return tuple(int(p) for p in value.split("."))


def _kafka_version(before: dict, after: dict) -> list[Finding]:
    old, new = _version(before.get("kafkaVersion")), _version(after.get("kafkaVersion"))
    if old and new and new < old:
        return [Finding("replace", "kafkaVersion", "MSK cannot downgrade Kafka in place: a new cluster is created")]
    return []


def _eks_encryption(before: dict, after: dict) -> list[Finding]:
    if before.get("encryptionConfig") and not after.get("encryptionConfig"):
        return [Finding("replace", "encryptionConfig", "EKS envelope encryption cannot be turned off: a new cluster is created")]
    return []


def _eks_version(before: dict, after: dict) -> list[Finding]:
    old, new = _version(before.get("version")), _version(after.get("version"))
    if old and new and new < old:
        return [Finding("fails", "version",
                        f"EKS cannot downgrade Kubernetes ({before['version']} → {after['version']}): the update fails")]
    return []


def _topic_partitions(before: dict, after: dict) -> list[Finding]:
    old, new = before.get("partitionCount"), after.get("partitionCount")
    if isinstance(old, int) and isinstance(new, int) and new < old:
        return [Finding("fails", "partitionCount",
                        f"Kafka cannot remove partitions ({old} → {new}): the update fails; keep {old} or create a new topic")]
    return []


_RULE_SOURCES = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")


def _rule_source(before: dict, after: dict) -> list[Finding]:
    old = next((k for k in _RULE_SOURCES if before.get(k)), None)
    new = next((k for k in _RULE_SOURCES if after.get(k)), None)
    if old and new and old != new:
        return [Finding("replace", new, f"a security group rule's source kind cannot change ({old} → {new})")]
    return []


# {type token: rules over (inputs before, inputs after)} for what depends on the values.
CONDITIONAL_RULES: dict[str, tuple[Callable[[dict, dict], list[Finding]], ...]] = {
    "aws:msk/cluster:Cluster": (_kafka_version,),
    "aws:msk/topic:Topic": (_topic_partitions,),
    "aws:eks/cluster:Cluster": (_eks_encryption, _eks_version),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (_rule_source,),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (_rule_source,),
}


def replace_reasons(type_token: str, before: dict, after: dict) -> tuple[list[str], list[Finding]]:
    """(input paths forcing a replacement, value-dependent findings) for one resource."""
    reasons = [p for p in replacement_paths(type_token) if lookup(before, p) != lookup(after, p)]
    findings = [f for rule in CONDITIONAL_RULES.get(type_token, ()) for f in rule(before, after)]
    reasons += [f.path for f in findings if f.kind == "replace" and f.path not in reasons]
    return reasons, findings

