"""``paved diff``: what a change does to a stack, for the reviewer of a pull request.

The base revision is planned with its own code, catalog, stack settings and policy pack: it
is checked out into a temporary ``git worktree`` and ``paved plan`` / ``check`` / ``cost``
run there, in a subprocess whose imports resolve to the worktree (the libraries come from
the current interpreter). The working tree is planned in this process when this process
runs its code, else the same way as the base. The two plan documents are matched by URN and
then by each new resource's ``aliases`` (a service's ``formerNames``), and every pair is
compared input by input. A renamed resource keeps its cloud identity (id, ARN, generated
name), so the offline engine's stand-ins for those, which it derives from logical names, are
carried over from the base before comparing.

Operations are Pulumi's: ``create``, ``update``, ``replace``, ``delete``; a resource matched
through an alias is also ``renamed``. A change replaces a resource when it touches a
property the provider cannot change in place (:data:`REPLACE_ON_CHANGE`, plus the few
value-dependent rules in :data:`CONDITIONAL_RULES`), or when its provider is replaced.
Deleting or replacing a stateful resource (:data:`DATA_TYPES`) or a protected one is a
data-loss risk; ``--fail-on-destroy`` turns any such risk into exit code 1.

What this cannot see (the offline engine's limits, stated in every report's notes): values
the cloud computes (ids, ARNs) are the offline engine's stand-ins, so a replacement does not
ripple into the resources that read the replaced one's outputs as it would in a real
preview; secret values are masked on both sides, so a changed secret value is invisible.

JSON schema (``--format json``), ``version`` 1; keys are never removed within a version::

    {
      "version": 1,
      "stack": "prod",
      "base": {"ref": "origin/main", "commit": "<sha>"},
      "head": {"ref": "working tree", "commit": "<sha or null>", "dirty": true},
      "summary": {
        "create": 0, "update": 0, "replace": 0, "delete": 0, "renamed": 0, "unchanged": 0,
        "dataLossRisks": 0, "warnings": 0, "policyIntroduced": 0, "policyFixed": 0,
        "cost": {"currency": "USD", "before": "1022.09", "after": "1030.00", "delta": "7.91",
                 "podsAtMax": {"before": "...", "after": "...", "delta": "..."}}
                 // infrastructure (what AWS bills); podsAtMax: pod requests at maximum replicas,
                 // an allocation of node capacity; null when either side has no estimate
      },
      "groups": [                                       // services, then teams, then platform
        {"kind": "service" | "team" | "platform", "name": "orders-v2" | null, "team": "checkout",
         "status": "created" | "deleted" | "renamed" | "changed",
         "formerName": "orders" | null,
         "counts": {"create": 0, "update": 0, "replace": 0, "delete": 0, "renamed": 0},
         "resources": [<resource>, ...]}
      ],
      "dataLossRisks": [<resource>, ...],               // the same objects as in "groups"
      "warnings": ["<resource urn>: <text>", ...],      // changes the provider will refuse
      "policy": {"introduced": [<violation>], "fixed": [<violation>]},
                                                        // <violation>: `paved check --format json`
      "cost": {"before": <paved cost --format json> | null, "after": ... | null},
      "hints": ["..."], "notes": ["..."]
    }

    <resource> = {
      "op": "create" | "update" | "replace" | "delete", "renamed": false,
      "urn": "<URN after the change; before it for a delete>",
      "oldUrn": "<URN before the change>" | null,  // set when matched through an alias
      "type": "aws:secretsmanager/secret:Secret", "name": "...", "oldName": "..." | null,
      "service": "orders" | null, "team": "checkout" | null,
      // a path's "#" enters a JSON document held in a string input: policy#Statement[0].Resource[2]
      "changes": [{"path": "spec.template.spec.containers[0].image", "kind": "changed",
                   "before": <value>, "after": <value>, "forcesReplacement": false}],
                  // kind "added" has no "before", kind "removed" has no "after";
                  // a long value becomes the string "<elided: N chars, sha256 XXXXXXXX>"
      "replaceReasons": ["metadata.name", ...],
      "dataLoss": null | {"stateful": true, "protected": true, "retainOnDelete": true,
                          "message": "..."},
      "warnings": ["..."]
    }
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from paved.resources import STATEFUL_TYPES
from paved.errors import PavedError, UsageError

DIFF_VERSION = 1
COMMENT_LIMIT = 65_000  # GitHub refuses comments over 65,536 characters
OPS = ("create", "update", "replace", "delete")

# Deleting or replacing one of these loses data (paved.resources.STATEFUL_TYPES, the set the
# protect transformation uses).
DATA_TYPES = STATEFUL_TYPES

# --- what forces a replacement ------------------------------------------------------------

_K8S_META = ("metadata.name", "metadata.namespace")
_LABEL_SELECTOR = ("spec.selector",)

# {type token: camelCase input paths whose change the provider cannot apply in place}.
# A path also covers everything under it.
#
# Kubernetes: pulumi-kubernetes ``forceNewProperties`` (provider/pkg/provider/diff.go):
# metadata.name and metadata.namespace for every kind, plus these per kind. policy/v1
# PodDisruptionBudgets are mutable (only policy/v1beta1 ``spec`` forces a new object).
#
# AWS: pulumi-aws is bridged from the Terraform AWS provider, whose schema marks these
# ``ForceNew`` / ``RequiresReplace`` (checked against internal/service/{kafka,eks,
# secretsmanager,kms,ec2,iam,logs}). Of note: EKS ``vpcConfig.subnetIds`` and the security
# groups are updatable in place (UpdateClusterConfig); MSK ``brokerNodeGroupInfo``
# instance type and storage are too, its client subnets and security groups are not.
REPLACE_ON_CHANGE: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": _LABEL_SELECTOR,
    "kubernetes:apps/v1:DaemonSet": _LABEL_SELECTOR,
    "kubernetes:apps/v1:StatefulSet": (
        "spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName",
        "spec.volumeClaimTemplates"),
    "kubernetes:batch/v1:Job": ("spec.completions", "spec.parallelism", "spec.selector", "spec.template"),
    "kubernetes:core/v1:ConfigMap": ("binaryData", "data"),
    "kubernetes:core/v1:Secret": ("type", "stringData", "data"),
    "kubernetes:core/v1:Service": ("spec.clusterIP",),
    "kubernetes:core/v1:ResourceQuota": ("spec.scopes",),
    "kubernetes:core/v1:PersistentVolumeClaim": ("spec",),
    "kubernetes:policy/v1beta1:PodDisruptionBudget": ("spec",),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": ("roleRef",),
    "kubernetes:storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
    "aws:msk/cluster:Cluster": (
        "clusterName", "brokerNodeGroupInfo.azDistribution", "brokerNodeGroupInfo.clientSubnets",
        "brokerNodeGroupInfo.securityGroups", "encryptionInfo.encryptionAtRestKmsKeyArn",
        "encryptionInfo.encryptionInTransit.inCluster"),
    "aws:msk/configuration:Configuration": ("name", "kafkaVersions"),
    "aws:msk/topic:Topic": ("name", "clusterArn", "replicationFactor"),
    "aws:eks/cluster:Cluster": (
        "name", "roleArn", "bootstrapSelfManagedAddons", "accessConfig.bootstrapClusterCreatorAdminPermissions",
        "kubernetesNetworkConfig.ipFamily", "kubernetesNetworkConfig.serviceIpv4Cidr", "outpostConfig",
        "remoteNetworkConfig"),
    "aws:eks/nodeGroup:NodeGroup": (
        "clusterName", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "subnetIds", "amiType",
        "capacityType", "diskSize", "instanceTypes", "launchTemplate.id", "launchTemplate.name", "remoteAccess"),
    "aws:eks/addon:Addon": ("addonName", "clusterName"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": ("clusterName", "namespace", "serviceAccount"),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix"),
    "aws:secretsmanager/secretRotation:SecretRotation": ("secretId",),
    "aws:kms/key:Key": ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
    "aws:kms/alias:Alias": ("name", "namePrefix"),
    "aws:ec2/vpc:Vpc": ("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
    "aws:ec2/subnet:Subnet": ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
    "aws:ec2/eip:Eip": ("domain", "address", "networkBorderGroup", "publicIpv4Pool", "customerOwnedIpv4Pool"),
    "aws:ec2/natGateway:NatGateway": ("allocationId", "subnetId", "connectivityType", "privateIp"),
    "aws:ec2/internetGateway:InternetGateway": (),  # vpcId is updatable: detach, attach
    "aws:ec2/routeTable:RouteTable": ("vpcId",),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId", "gatewayId"),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", "description", "vpcId"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpcId", "serviceName", "vpcEndpointType"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("securityGroupId",),
    "aws:iam/role:Role": ("name", "namePrefix", "path"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix", "role"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", "logGroupClass"),
}

_MISSING = object()


def is_kubernetes_object(type_token: str) -> bool:
    """A Kubernetes API object (not a provider, Helm chart or YAML group)."""
    return type_token.startswith("kubernetes:") and not type_token.split(":")[1].startswith(("helm.sh", "yaml"))


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
}

# --- property diff ------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*\Z")
JSON_MARK = "#"  # a path enters a JSON document held in a string input: policy#Statement[0].Action


class _InJson:
    """Path part: the string before it holds a JSON document."""


IN_JSON = _InJson()


def render_path(parts: tuple[Any, ...]) -> str:
    """``("spec", "containers", 0, "image")`` → ``spec.containers[0].image``; odd keys quoted."""
    out = ""
    for part in parts:
        if part is IN_JSON:
            out += JSON_MARK
        elif isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out and not out.endswith(JSON_MARK) else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def _lookup(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _json_document(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed = json.loads(value)
        except ValueError:
            return _MISSING
        return parsed if isinstance(parsed, (dict, list)) else _MISSING
    return _MISSING


def _walk(before: Any, after: Any, parts: tuple[Any, ...], out: list[tuple[tuple[Any, ...], Any, Any]]) -> None:
    if before == after and type(before) is type(after):
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            _walk(before.get(key, _MISSING), after.get(key, _MISSING), (*parts, key), out)
        return
    if isinstance(before, list) and isinstance(after, list) and before and after:
        if all(isinstance(v, dict) for v in (*before, *after)) or len(before) == len(after):
            for i in range(max(len(before), len(after))):
                _walk(before[i] if i < len(before) else _MISSING, after[i] if i < len(after) else _MISSING, (*parts, i), out)
            return
        if all(isinstance(v, (str, int, float, bool)) for v in (*before, *after)):
            # Items came or went: name them, at their index on their own side.
            gone, came = Counter(map(json.dumps, before)), Counter(map(json.dumps, after))
            for i, v in enumerate(before):
                if gone[json.dumps(v)] > came[json.dumps(v)]:
                    gone[json.dumps(v)] -= 1
                    out.append(((*parts, i), v, _MISSING))
            gone, came = Counter(map(json.dumps, before)), Counter(map(json.dumps, after))
            for i, v in enumerate(after):
                if came[json.dumps(v)] > gone[json.dumps(v)]:
                    came[json.dumps(v)] -= 1
                    out.append(((*parts, i), _MISSING, v))
            return
    old_doc, new_doc = _json_document(before), _json_document(after)
    if old_doc is not _MISSING and new_doc is not _MISSING:
        _walk(old_doc, new_doc, (*parts, IN_JSON), out)
        return
    out.append((parts, before, after))


@dataclass(frozen=True)
class PropertyChange:
    """One input that differs: ``added`` (no before), ``removed`` (no after) or ``changed``."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False

    @property
    def kind(self) -> str:
        """``added``, ``removed`` or ``changed``."""
        return "added" if self.before is _MISSING else "removed" if self.after is _MISSING else "changed"


def _covers(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith((outer + ".", outer + "[", outer + JSON_MARK))


def property_changes(before: dict, after: dict, ignore: list[str] | tuple[str, ...] = ()) -> list[PropertyChange]:
    """Every input path whose value differs, minus those under an ``ignoreChanges`` path."""
    raw: list[tuple[tuple[Any, ...], Any, Any]] = []
    _walk(before, after, (), raw)
    changes = []
    for parts, old, new in raw:
        path = render_path(parts)
        if any(_covers(render_path(tuple(_split_ignore(i))), path) for i in ignore):
            continue
        changes.append(PropertyChange(path, old, new))
    return changes


def _split_ignore(path: str) -> list[Any]:
    parts: list[Any] = []
    for token in re.findall(r'[^.\[\]]+|\[\d+\]|\["[^"]*"\]', path):
        if token.startswith('["'):
            parts.append(json.loads(token[1:-1]))
        elif token.startswith("["):
            parts.append(int(token[1:-1]))
        else:
            parts.append(token)
    return parts


def replace_reasons(type_token: str, before: dict, after: dict) -> tuple[list[str], list[Finding]]:
    """(input paths forcing a replacement, value-dependent findings) for one resource."""
    reasons = [p for p in replacement_paths(type_token) if _lookup(before, p) != _lookup(after, p)]
    findings = [f for rule in CONDITIONAL_RULES.get(type_token, ()) for f in rule(before, after)]
    reasons += [f.path for f in findings if f.kind == "replace" and f.path not in reasons]
    return reasons, findings


# --- matching and comparing two plans -----------------------------------------------------


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
        parts.append(f"{'replacing' if op == 'replace' else 'deleting'} a {_short(resource['type'])} loses the data it holds"
                     + (" (a replacement starts empty)" if op == "replace" else ""))
    if protected:
        parts.append("it is protected: `pulumi up` stops with an error until `protect` is removed")
    if retain:
        parts.append("retainOnDelete leaves the old one in place, no longer managed by Pulumi")
    return {"stateful": stateful, "protected": protected, "retainOnDelete": retain, "message": "; ".join(parts)}


def _region(doc: dict[str, Any]) -> str:
    for r in doc["resources"]:
        if r["type"] == "pulumi:providers:aws" and isinstance(r["inputs"].get("region"), str):
            return r["inputs"]["region"]
    return "us-east-1"


def _substitute(value: Any, subs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in subs:
            if old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, subs) for v in value]
    return value


def _computed(resource: dict[str, Any], region: str) -> dict[str, str]:
    from paved import offline_cloud

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
            reasons, _ = replace_reasons(h["type"], b["inputs"], _substitute(h["inputs"], ordered))
            if reasons:
                continue  # a new object: its identity is new too (it may still be carried on a later pass)
            before, after = _computed(b, region), _computed(h, region)
            subs.update({after[k]: before[k] for k in after.keys() & before.keys() if after[k] != before[k]})
            pending.remove((h, b))
            progress = True
    return sorted(subs.items(), key=lambda kv: -len(kv[0]))


def compare(base: dict[str, Any], head: dict[str, Any]) -> tuple[list[ResourceChange], int]:
    """(changes, number of unchanged resources) between two plan documents."""
    pairs = match(base, head)
    base_by = {r["urn"]: r for r in base["resources"]}
    subs = carried_identities(base, head, pairs)
    changes: list[ResourceChange] = []
    unchanged = 0
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
        inputs = _substitute(h["inputs"], subs) if subs else h["inputs"]
        props = property_changes(b["inputs"], inputs, h.get("options", {}).get("ignoreChanges", []))
        reasons, findings = replace_reasons(h["type"], b["inputs"], inputs)
        head_provider, base_provider = h.get("provider"), b.get("provider")
        if head_provider and base_provider and pairs.get(head_provider) != base_provider:
            reasons.append("provider")
        elif head_provider in replaced:
            reasons.append("provider (replaced)")
        marked = [PropertyChange(c.path, c.before, c.after, any(_covers(r, c.path) or _covers(c.path, r) for r in reasons))
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


# --- policy and cost ----------------------------------------------------------------------


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
    added to the bill); exact decimals as strings."""
    if not before or not after:
        return None
    old, new = Decimal(before["budgetedTotal"]), Decimal(after["budgetedTotal"])
    out: dict[str, Any] = {"currency": after.get("currency", "USD"), "before": str(old), "after": str(new),
                           "delta": str(new - old)}
    pods = [side.get("totals", {}).get("podsAtMax") for side in (before, after)]
    if all(isinstance(p, str) for p in pods):
        out["podsAtMax"] = {"before": pods[0], "after": pods[1], "delta": str(Decimal(pods[1]) - Decimal(pods[0]))}
    return out


# --- planning both sides ------------------------------------------------------------------


@dataclass
class Side:
    """One side of the comparison: its plan, policy violations and cost estimate."""

    ref: str
    commit: str | None
    doc: dict[str, Any]
    violations: list[dict[str, Any]]
    cost: dict[str, Any] | None
    dirty: bool = False
    notes: list[str] = field(default_factory=list)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=300)
    except FileNotFoundError:
        raise PavedError("paved diff needs git, which is not installed") from None


def _tail(text: str, lines: int = 25) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()][-lines:]
    return "\n  ".join(kept) if kept else "(no output)"


def repository(root: Path) -> Path:
    """The top of the git repository holding ``root``; PavedError outside one."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise PavedError(f"{root} is not in a git repository: paved diff compares git revisions ({top.stderr.strip()})")
    return Path(top.stdout.strip()).resolve()


def resolve_commit(root: Path, ref: str) -> str:
    """The commit ``ref`` names; UsageError naming the ref when it names none."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"--base {ref!r}: not a git revision")
    found = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise UsageError(f"--base {ref}: no such commit, branch or tag in {repository(root)} "
                         "(in CI, fetch it first: actions/checkout with fetch-depth: 0)")
    return found.stdout.strip()


def head_state(root: Path) -> tuple[str | None, bool]:
    """(HEAD commit or None in a repository without commits, uncommitted changes under root)."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    status = _git(root, "status", "--porcelain", "--", ".")
    return (commit.stdout.strip() or None) if commit.returncode == 0 else None, bool(status.stdout.strip())


# Runs in the base's worktree with the base's code: its plan, then its own check and cost
# of that plan. An editable install of the working tree registers an import hook that would
# otherwise answer for paved/components/policies; it is dropped so the base's files answer.
_BOOTSTRAP = r"""
import json, sys
from pathlib import Path
root, out, stack, catalog = Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__name__", type(f).__name__).lower()]
sys.path.insert(0, str(root))
try:
    import paved.cli
except ImportError as exc:
    print(f"the base has no importable paved package: {exc}", file=sys.stderr)
    sys.exit(3)
if not Path(paved.cli.__file__).resolve().is_relative_to(root):
    print(f"the base has no paved package (paved came from {paved.cli.__file__})", file=sys.stderr)
    sys.exit(3)

def call(argv):
    try:
        return paved.cli.main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2

cat = ["--catalog", catalog] if catalog else []
codes = {"plan": call(["plan", "--stack", stack, *cat, "--format", "json", "--output", str(out / "plan.json")])}
if codes["plan"] == 0:
    for cmd in ("check", "cost"):
        codes[cmd] = call([cmd, "--stack", stack, *cat, "--plan", str(out / "plan.json"), "--format", "json",
                           "--output", str(out / f"{cmd}.json")])
(out / "codes.json").write_text(json.dumps(codes))
"""

_BASE_CACHE: dict[tuple[str, str, str, str], Side] = {}


def plan_base(root: Path, ref: str, stack: str, catalog_rel: str | None = None) -> Side:
    """Plan ``ref`` for ``stack`` with the base's own code, in a temporary worktree.

    A commit is immutable, so the result is kept for the life of the process. PavedError
    when the checkout is not clean (a checkout filter or hook changed files), when the base
    holds no paved project, or when it does not plan.
    """
    root = root.resolve()
    top = repository(root)
    commit = resolve_commit(root, ref)
    rel = root.relative_to(top).as_posix() if root != top else "."
    key = (commit, stack, rel, catalog_rel or "")
    if key in _BASE_CACHE:
        cached = _BASE_CACHE[key]
        return Side(ref, commit, cached.doc, cached.violations, cached.cost, notes=list(cached.notes))
    short = commit[:12]
    tmp = Path(tempfile.mkdtemp(prefix="paved-diff-"))
    worktree = tmp / "base"
    try:
        added = _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        if added.returncode != 0:
            raise PavedError(f"--base {ref} ({short}): could not check it out into a temporary worktree:\n  "
                             f"{_tail(added.stderr)}")
        dirty = _dirty_paths(worktree, rel)
        if dirty:
            raise PavedError(f"--base {ref} ({short}) is dirty once checked out: {len(dirty)} path(s) differ from the commit "
                             f"(first: {dirty[0]}); a checkout filter or .gitattributes rewrites them, so what would be "
                             "planned is not what was committed")
        base_root = worktree / rel
        if not (base_root / "Pulumi.yaml").is_file() or not (base_root / "platform" / "__main__.py").is_file():
            raise PavedError(f"--base {ref} ({short}) holds no paved project at {rel}: "
                             "Pulumi.yaml or platform/__main__.py is missing")
        if not (base_root / "stacks" / f"Pulumi.{stack}.yaml").is_file():
            doc = {"version": 1, "project": "paved", "stack": stack, "resources": [], "outputs": {}}
            side = Side(ref, commit, doc, [], None, notes=[f"stack {stack} does not exist at the base: every resource is new"])
        else:
            catalog = str(base_root / catalog_rel) if catalog_rel else ""
            side = _run_side(base_root, tmp, f"--base {ref} ({short})", stack, catalog)
            side.ref, side.commit = ref, commit
    finally:
        _git(top, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(tmp, ignore_errors=True)
        _git(top, "worktree", "prune")
    _BASE_CACHE[key] = side
    return Side(ref, commit, side.doc, side.violations, side.cost, notes=list(side.notes))


def _dirty_paths(worktree: Path, rel: str) -> list[str]:
    """Paths of a fresh checkout whose content is not the commit's. Files are cleaned and
    hashed again (git trusts its stat cache right after a checkout), in the temporary
    worktree's own index."""
    _git(worktree, "add", "--renormalize", "--", rel)
    changed = _git(worktree, "diff", "--cached", "--name-only", "HEAD", "--", rel).stdout.splitlines()
    status = _git(worktree, "status", "--porcelain", "--untracked-files=all", "--", rel).stdout.splitlines()
    return [*changed, *(line[3:] for line in status if line.startswith("??"))]


def _run_side(project: Path, out: Path, who: str, stack: str, catalog: str) -> Side:
    """Plan, check and cost ``project`` with its own code, in a subprocess; ``who`` names it in errors."""
    env = {k: v for k, v in os.environ.items() if k not in ("PAVED_CATALOG", "PYTHONPATH")}
    env.update(PAVED_ROOT=str(project), PYTHONPATH=str(project), PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run([sys.executable, "-c", _BOOTSTRAP, str(project), str(out), stack, catalog],
                              cwd=project, env=env, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise PavedError(f"{who}: planning stack {stack} took over 30 minutes; stopped") from None
    codes_file = out / "codes.json"
    if proc.returncode == 3:
        raise PavedError(f"{who} cannot be planned by paved diff: {_tail(proc.stderr, 3)}")
    if proc.returncode != 0 or not codes_file.is_file():
        raise PavedError(f"{who} does not plan for stack {stack} (its own code failed):\n  {_tail(proc.stderr)}")
    codes = json.loads(codes_file.read_text())
    if codes.get("plan") != 0:
        raise PavedError(f"{who} does not plan for stack {stack} (`paved plan` exited {codes.get('plan')}):\n  "
                         f"{_tail(proc.stderr)}")
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    side = Side("", None, doc, [], None)
    if codes.get("check") in (0, 1) and (out / "check.json").is_file():
        side.violations = json.loads((out / "check.json").read_text(encoding="utf-8"))["violations"]
    else:
        side.violations = None  # type: ignore[assignment]  # filled by the working tree's pack
        side.notes.append(f"the own `paved check` of {who} did not run (exit {codes.get('check')}): its violations "
                          "were computed with the working tree's policy pack and config")
    if codes.get("cost") == 0 and (out / "cost.json").is_file():
        side.cost = json.loads((out / "cost.json").read_text(encoding="utf-8"))
    else:
        side.notes.append(f"the own `paved cost` of {who} did not run (exit {codes.get('cost')}): its cost was "
                          "estimated with the working tree's price file")
        side.cost = {}  # estimated by the working tree below
    return side


def _estimate(doc: dict[str, Any], stack: str) -> tuple[dict[str, Any] | None, str | None]:
    from paved import cost

    try:
        est = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"] if r.get("custom", True)])
    except cost.CostError as exc:
        return None, f"no cost estimate: {exc}"
    return cost.as_json(est, stack), None


_CODE = ("paved", "components", "policies")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts:
            h.update(f.relative_to(folder).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def runs_own_code(root: Path) -> bool:
    """Whether this process's paved, components and policies are ``root``'s (the same folder,
    or the same files): then the working tree can be planned in this process."""
    import importlib

    for name in _CODE:
        found = getattr(importlib.import_module(name), "__file__", None)
        if not found:  # a namespace package: some other folder of that name answered
            return False
        here = Path(found).resolve().parent
        there = (root / name).resolve()
        if here != there and (not there.is_dir() or _digest(here) != _digest(there)):
            return False
    return True


def plan_head(root: Path, stack: str, catalog_path: str | Path) -> Side:
    """Plan the working tree with its own code, policy pack and price file: in this process
    when this process runs that code (the usual case), else in a subprocess like the base."""
    commit, dirty = head_state(root)
    if not runs_own_code(root):
        with tempfile.TemporaryDirectory(prefix="paved-diff-") as tmp:
            side = _run_side(root, Path(tmp), "the working tree", stack, str(Path(catalog_path).resolve()))
        side.ref, side.commit, side.dirty = "working tree", commit, dirty
        return side
    from paved import check, plan
    from policies.registry import RULES

    doc, _ = plan.build(stack, catalog_path, root)
    config = check.load_config(root, stack, RULES)
    violations = [v.as_json() for v in check.run(doc, config, RULES)]
    est, problem = _estimate(doc, stack)
    return Side("working tree", commit, doc, violations, est, dirty=dirty, notes=[problem] if problem else [])


# --- the report ---------------------------------------------------------------------------


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
        if r.get("service") == service and r["type"] == "kubernetes:apps/v1:Deployment":
            containers = _lookup(r["inputs"], "spec.template.spec.containers")
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


def build(root: Path, stack: str, base_ref: str, catalog_path: str | Path | None = None) -> Report:
    """Plan ``base_ref`` and the working tree for ``stack`` and compare them."""
    root = Path(root).resolve()
    catalog = Path(catalog_path) if catalog_path else root / "services_catalog.yaml"
    absolute = catalog if catalog.is_absolute() else Path.cwd() / catalog
    catalog_rel = absolute.resolve().relative_to(root).as_posix() if absolute.resolve().is_relative_to(root) else None
    base = plan_base(root, base_ref, stack, catalog_rel)
    head = plan_head(root, stack, catalog)
    notes = [*base.notes, *head.notes]
    if catalog_rel is None:
        notes.append(f"the catalog {catalog} is outside the project: the base was planned with its own services_catalog.yaml")
    for side in (base, head):
        if side.violations is None:
            from paved import check
            from policies.registry import RULES

            side.violations = [v.as_json() for v in check.run(side.doc, check.load_config(root, stack, RULES), RULES)]
        if side.cost == {}:
            side.cost, problem = _estimate(side.doc, stack)
            notes += [problem] if problem else []
    changes, unchanged = compare(base.doc, head.doc)
    groups, _ = _groups(changes, base.doc, head.doc)
    urn_map = {r.old_urn: r.urn for r in changes if r.old_urn}
    introduced, fixed = policy_delta(base.violations, head.violations, urn_map)
    return Report(stack=stack, base=base, head=head, resources=[r for g in groups for r in g.resources], unchanged=unchanged,
                  groups=groups, policy_introduced=introduced, policy_fixed=fixed,
                  cost=cost_summary(base.cost, head.cost), hints=_rename_hints(groups, base.doc, head.doc),
                  notes=[*notes, *NOTES])


# --- output -------------------------------------------------------------------------------


def _short(type_token: str) -> str:
    if type_token.startswith("pulumi:providers:"):
        return f"{type_token.rsplit(':', 1)[-1]} provider"
    package, module, kind = (type_token.split(":") + ["", ""])[:3]
    if package == "aws":
        return f"{module.split('/')[0]}/{kind}"
    return kind or type_token


def _json_value(value: Any, limit: int = 200) -> Any:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    if len(text) <= limit:
        return value
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"<elided: {len(text)} chars, sha256 {digest}>"


def shown(value: Any, limit: int = 80) -> str:
    """A value for a person: JSON, cut to ``limit`` characters with its length when longer."""
    if value is _MISSING:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} chars)"


def shown_pair(before: Any, after: Any, limit: int = 80) -> tuple[str, str]:
    """Two values for a person; long ones cut around where they first differ, so that two
    long strings that differ only at the end (an image tag) still show the difference."""
    if before is _MISSING or after is _MISSING:
        return shown(before, limit), shown(after, limit)
    old, new = (json.dumps(v, sort_keys=True, ensure_ascii=False) for v in (before, after))
    if len(old) <= limit and len(new) <= limit:
        return old, new
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    start = max(0, same - limit // 3)

    def cut(text: str) -> str:
        part = text[start:]
        cut_end = len(part) > limit
        part = ("…" if start else "") + (part[: limit - 1] + "…" if cut_end else part)
        return part + (f" ({len(text)} chars)" if start or cut_end else "")

    return cut(old), cut(new)


def _change_text(c: PropertyChange, limit: int = 80) -> str:
    mark = "  [forces replacement]" if c.forces_replacement else ""
    if c.kind == "added":
        return f"{c.path}: + {shown(c.after, limit)}{mark}"
    if c.kind == "removed":
        return f"{c.path}: - {shown(c.before, limit)}{mark}"
    old, new = shown_pair(c.before, c.after, limit)
    return f"{c.path}: {old} → {new}{mark}"


_SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def _resource_line(r: ResourceChange) -> str:
    line = f"{_SYMBOL[r.op]:2} {r.op:7} {_short(r.type)} {r.name}"
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


def _money(amount: str) -> str:
    value = Decimal(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _before_after(d: dict[str, str]) -> str:
    sign = "+" if Decimal(d["delta"]) >= 0 else ""
    return f"{_money(d['before'])} → {_money(d['after'])} ({sign}{_money(d['delta'])})"


def _cost_line(cost: dict[str, Any] | None) -> str:
    if not cost:
        return "monthly cost: not estimated"
    pods = f"; pod requests at max replicas {_before_after(cost['podsAtMax'])}" if cost.get("podsAtMax") else ""
    return f"monthly cost: {_before_after(cost)}{pods}"


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
    for g in report.groups:
        out += ["", _group_heading(g)]
        for r in g.resources:
            out.append("  " + _resource_line(r))
            if r.op in ("update", "replace"):
                out += [f"       {_change_text(c)}" for c in r.changes]
            if r.data_loss:
                out.append(f"       DATA-LOSS RISK: {r.data_loss['message']}")
            out += [f"       WARNING: {w}" for w in r.warnings]
    if report.data_loss:
        out += ["", "Data-loss risks"]
        out += [f"  {r.op} {_short(r.type)} {r.name}" + (f" (service {r.service})" if r.service else "")
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


def _resource_json(r: ResourceChange) -> dict[str, Any]:
    changes = []
    for c in r.changes:
        d: dict[str, Any] = {"path": c.path, "kind": c.kind}
        if c.kind != "added":
            d["before"] = _json_value(c.before)
        if c.kind != "removed":
            d["after"] = _json_value(c.after)
        d["forcesReplacement"] = c.forces_replacement
        changes.append(d)
    return {
        "op": r.op, "renamed": r.renamed, "urn": r.urn, "oldUrn": r.old_urn, "type": r.type, "name": r.name,
        "oldName": r.old_name if r.renamed else None, "service": r.service, "team": r.team, "changes": changes,
        "replaceReasons": list(r.replace_reasons), "dataLoss": r.data_loss, "warnings": list(r.warnings),
    }


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (the schema in this module's docstring)."""
    return {
        "version": DIFF_VERSION,
        "stack": report.stack,
        "base": {"ref": report.base.ref, "commit": report.base.commit},
        "head": {"ref": report.head.ref, "commit": report.head.commit, "dirty": report.head.dirty},
        "summary": {
            **{op: report.count(op) for op in OPS}, "renamed": report.count("renamed"), "unchanged": report.unchanged,
            "dataLossRisks": len(report.data_loss), "warnings": len(report.warnings),
            "policyIntroduced": len(report.policy_introduced), "policyFixed": len(report.policy_fixed),
            "cost": report.cost,
        },
        "groups": [{
            "kind": g.kind, "name": g.name, "team": g.team, "status": g.status, "formerName": g.former_name,
            "counts": {op: g.count(op) for op in (*OPS, "renamed")},
            "resources": [_resource_json(r) for r in g.resources],
        } for g in report.groups],
        "dataLossRisks": [_resource_json(r) for r in report.data_loss],
        "warnings": report.warnings,
        "policy": {"introduced": report.policy_introduced, "fixed": report.policy_fixed},
        "cost": {"before": report.base.cost or None, "after": report.head.cost},
        "hints": report.hints,
        "notes": report.notes,
    }


# --- markdown (a pull-request comment) ----------------------------------------------------


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


def _md_row(r: ResourceChange, max_changes: int = 10) -> str:
    what = f"{_cell(_short(r.type))} {_code(r.name)}"
    if r.renamed and r.old_name != r.name:
        what += f" ← {_code(r.old_name or '')}"
    notes = []
    if r.replace_reasons:
        notes.append("replaced: " + ", ".join(_code(p) for p in r.replace_reasons) + " cannot change in place")
    if r.op in ("update", "replace"):
        shown_changes = r.changes[:max_changes]
        notes += [_md_change(c) for c in shown_changes]
        if len(r.changes) > max_changes:
            notes.append(f"… and {len(r.changes) - max_changes} more change(s)")
    if r.data_loss:
        notes.append(f"⚠️ **data-loss risk**: {_cell(r.data_loss['message'])}")
    notes += [f"⛔ {_cell(w)}" for w in r.warnings]
    op = r.op + (" (renamed)" if r.renamed else "")
    return f"| {_SYMBOL[r.op]} {op} | {what} | {'<br>'.join(notes)} |"


_MORE_ROW = "| | … {n} more not shown (comment size limit) | |"


def _md_section(summary: str, rows: list[str], budget: int, header: tuple[str, ...]) -> tuple[str, bool] | None:
    """(a collapsed section with as many rows as ``budget`` allows, whether rows were cut);
    None when not even one row fits."""
    start = f"<details><summary>{summary}</summary>\n\n" + "".join(h + "\n" for h in header)
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


def _truncation_note(report: Report, limit: int, left: int) -> str:
    what = f"{left} section(s) and some rows are not shown" if left else "some rows are not shown"
    return (f"> [!NOTE]\n> Cut to fit a GitHub comment ({limit:,} characters): {what}. Run "
            f"`paved diff --stack {report.stack} --base {_cell(report.base.ref)}` for the whole report.\n")


def markdown(report: Report, limit: int = COMMENT_LIMIT) -> str:
    """The report as a GitHub comment: a summary first, details in collapsed sections, at most
    ``limit`` characters (what does not fit is left out, with a note saying so)."""
    risks = len(report.data_loss)
    head = [f"## paved diff: `{report.stack}`", ""]
    base = report.base
    where = f"the working tree of `{report.head.commit[:12]}`" if report.head.commit else "the working tree"
    head += [f"Base `{_cell(base.ref)}` (`{(base.commit or '')[:12]}`) → {where}"
             + (", with uncommitted changes" if report.head.dirty else "") + ".", ""]
    head += [
        "| create | update | replace | delete | renamed | unchanged | data-loss risk | policy (new / fixed) | monthly cost |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| {report.count('create')} | {report.count('update')} | {report.count('replace')} | {report.count('delete')} "
        f"| {report.count('renamed')} | {report.unchanged} | {'⚠️ **' + str(risks) + '**' if risks else '0'} "
        f"| +{len(report.policy_introduced)} / −{len(report.policy_fixed)} "
        f"| {_before_after(report.cost) if report.cost else 'not estimated'} |", "",
    ]
    if report.cost and report.cost.get("podsAtMax"):
        head += [f"Monthly cost is what AWS bills. Pod requests at maximum replicas, the node capacity the services "
                 f"can claim: {_before_after(report.cost['podsAtMax'])}.", ""]
    if not report.resources:
        head += ["No changes.", ""]
    if risks:
        head += ["> [!CAUTION]", f"> **{risks} stateful or protected resource(s) would be deleted or replaced:**"]
        head += [f"> - **{r.op}** {_cell(_short(r.type))} {_code(r.name)}"
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
    for g in report.groups:
        counts = ", ".join(f"{g.count(op)} {op}" for op in OPS if g.count(op))
        status = _md_status(g)
        sections.append((f"<b>{_cell(g.title)}</b>: {counts}" + (f" — {status}" if status else ""),
                         [_md_row(r) for r in g.resources], ("| | resource | changes |", "|---|---|---|")))
    for title, items in (("Policy violations introduced", report.policy_introduced),
                         ("Policy violations fixed", report.policy_fixed)):
        if items:
            rows = [f"| {_cell(v.get('enforcement', ''))} | {_code(v.get('ruleId') or '')} {_cell(v.get('policy') or '')} "
                    f"| {_cell(v.get('message') or '')}" + (f"<br>{_code(v['urn'])}" if v.get("urn") else "") + " |"
                    for v in items]
            sections.append((f"<b>{title}</b>: {len(items)}", rows, ("| enforcement | rule | violation |", "|---|---|---|")))
    sections.append(("Notes", [f"- {_cell(n)}" for n in report.notes], ()))

    out = "\n".join(head) + "\n"
    reserve = len(_truncation_note(report, limit, len(sections))) + 2
    left, cut = 0, False
    for summary, rows, header in sections:
        made = _md_section(summary, rows, limit - len(out) - reserve, header)
        if made is None:
            left += 1
            continue
        out += made[0]
        cut = cut or made[1]
    if left or cut:
        out += _truncation_note(report, limit, left)
    if len(out) > limit:  # the summary alone is over the limit: cut it hard
        tail = "\n\n…(cut at the GitHub comment limit)\n"
        out = out[: limit - len(tail)] + tail
    return out


def _md_status(g: Group) -> str:
    return {"created": "new", "deleted": "removed", "renamed": f"renamed from {_code(g.former_name or '')}",
            "changed": ""}[g.status]


# --- the command --------------------------------------------------------------------------


def run(args: Any, root: Path, catalog_path: str | Path) -> int:
    """``paved diff``: print or write the report; 1 when ``--fail-on-destroy`` finds data at risk."""
    report = build(root, args.stack, args.base, catalog_path)
    fmt = getattr(args, "format", "text")
    if fmt == "json":
        out = json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":
        out = markdown(report, getattr(args, "max_chars", None) or COMMENT_LIMIT)
    else:
        out = text(report)
    if fmt != "json" and os.environ.get("PAVED_NO_CHARTS") == "1":
        out += "\nnote: chart contents were not checked (--no-charts)\n"
    if getattr(args, "output", None):
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    if getattr(args, "fail_on_destroy", False) and report.data_loss:
        names = ", ".join(f"{r.op} {_short(r.type)} {r.name}" for r in report.data_loss)
        print(f"paved diff: refusing (--fail-on-destroy): {len(report.data_loss)} stateful or protected resource(s) "
              f"would be deleted or replaced: {names}", file=sys.stderr)
        return 1
    return 0
