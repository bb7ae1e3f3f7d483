"""List-aware property diffs: each list kind compared the way its reader merges it.

Kubernetes lists by the merge keys of the shipped OpenAPI schemas, ``set`` lists as sets,
ordered lists (``args``, ``command``) by position, IAM statements by ``Sid`` then content,
other lists of objects by alignment.
"""

from __future__ import annotations

import copy
import json

import pytest

from paved.diff.list_keys import merge_keys, schema_tree
from paved.diff.properties import property_changes

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
VERSION = "1.35"


def deployment(env: list[str], args: list[str] | None = None, volumes: list[str] = ("tmp",),
               ports: tuple[int, ...] = (8080,)) -> dict:
    container = {"name": "orders", "image": "orders:1", "env": [{"name": n, "value": n.lower()} for n in env],
                 "ports": [{"containerPort": p, "protocol": "TCP", "name": f"p{p}"} for p in ports],
                 "volumeMounts": [{"name": v, "mountPath": f"/{v}"} for v in volumes]}
    if args is not None:
        container["args"] = args
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "orders", "finalizers": ["a", "b"]},
            "spec": {"template": {"spec": {"containers": [container], "volumes": [{"name": v, "emptyDir": {}} for v in volumes]}}}}


def changes(before: dict, after: dict, token: str = DEPLOYMENT) -> list[tuple[str, str]]:
    return [(c.path, c.kind) for c in property_changes(before, after, (), token, VERSION)]


def test_merge_keys_come_from_the_schema():
    keys = merge_keys(DEPLOYMENT, VERSION)
    pod = "spec.template.spec"
    assert keys[f"{pod}.containers"] == ("name",) and keys[f"{pod}.containers[].env"] == ("name",)
    assert keys[f"{pod}.volumes"] == ("name",) and keys[f"{pod}.containers[].volumeMounts"] == ("mountPath",)
    assert keys[f"{pod}.containers[].ports"] == ("containerPort", "protocol")  # list-map-keys before the merge key
    assert keys[f"{pod}.containers[].args"] == "atomic" and keys["metadata.finalizers"] == "set"
    assert merge_keys("kubernetes:core/v1:Service", VERSION)["spec.ports"] == ("port", "protocol")
    # Custom resources and non-Kubernetes types have no shipped schema; recursive schemas terminate.
    assert schema_tree("kubernetes:external-secrets.io/v1beta1:ExternalSecret", VERSION) is None
    assert schema_tree("aws:iam/role:Role", VERSION) is None
    assert merge_keys("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", VERSION)


def test_removed_env_variable_is_one_removal_not_a_shift():
    env = ["A", "B", "C", "D", "E"]
    found = changes(deployment(env), deployment(["A", "C", "D", "E"]))
    assert found == [("spec.template.spec.containers[name=orders].env[name=B]", "removed")]


def test_reordered_and_changed_keyed_items():
    before, after = deployment(["A", "B"]), deployment(["B", "A"])
    assert changes(before, after) == []  # the API server merges by name: order is not a change
    after["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "new"
    assert changes(before, after) == [("spec.template.spec.containers[name=orders].env[name=B].value", "changed")]


def test_volumes_mounts_and_ports_by_their_keys():
    found = changes(deployment([], volumes=["tmp", "cache", "secrets"], ports=(8080, 9090)),
                    deployment([], volumes=["tmp", "secrets"], ports=(9090,)))
    pod = "spec.template.spec"
    assert sorted(found) == sorted([
        (f"{pod}.containers[name=orders].ports[containerPort=8080,protocol=TCP]", "removed"),
        (f"{pod}.containers[name=orders].volumeMounts[mountPath=/cache]", "removed"),
        (f"{pod}.volumes[name=cache]", "removed")])


def test_args_stay_positional():
    found = changes(deployment([], args=["serve", "--port", "80"]), deployment([], args=["--port", "80", "serve"]))
    assert [p for p, _ in found] == [f"spec.template.spec.containers[name=orders].args[{i}]" for i in range(3)]


def test_set_lists_compare_as_sets():
    before, after = deployment([]), deployment([])
    after["metadata"]["finalizers"] = ["b", "a", "c"]
    assert changes(before, after) == [("metadata.finalizers[2]", "added")]


def test_unkeyed_object_lists_are_aligned():
    # A Secret volume's items carry no merge key: a removed first item is one removal.
    def items(keys):
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [], "volumes": [
            {"name": "s", "secret": {"secretName": "s", "items": [{"key": k, "path": k} for k in keys]}}]}}
    found = changes(items(["a", "b", "c"]), items(["b", "c"]), "kubernetes:core/v1:Pod")
    assert found == [("spec.volumes[name=s].secret.items[0]", "removed")]
    # The same in a custom resource, which has no shipped schema.
    es = "kubernetes:external-secrets.io/v1beta1:ExternalSecret"
    data = [{"secretKey": k, "remoteRef": {"key": k}} for k in "abc"]
    assert changes({"spec": {"data": data}}, {"spec": {"data": data[1:]}}, es) == [("spec.data[0]", "removed")]


def policy(*statements: dict) -> dict:
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


READ = {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:a", "arn:b"]}
WRITE = {"Sid": "Write", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "arn:a"}
ANON = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:q"}


def test_iam_statements_by_sid_then_content():
    token = "aws:iam/rolePolicy:RolePolicy"
    fewer = dict(READ, Resource=["arn:b"])
    assert changes(policy(READ, WRITE), policy(WRITE, fewer), token) == [
        ("policy#Statement[Sid=Read].Resource[0]", "removed")]
    assert changes(policy(READ, ANON, WRITE), policy(ANON, WRITE), token) == [("policy#Statement[Sid=Read]", "removed")]
    # Without a Sid: matched by content, so an inserted statement does not shift the others.
    other = dict(ANON, Resource="arn:r")
    assert changes(policy(ANON), policy(other, ANON), token) == [("policy#Statement[0]", "added")]
    # Actions are a set to IAM: reordering them is no change.
    assert changes(policy(WRITE), policy(dict(WRITE, Action=WRITE["Action"][::-1])), token) == []


@pytest.mark.parametrize("token", ["aws:ec2/subnet:Subnet", "aws:eks/cluster:Cluster"])
def test_other_scalar_lists_name_what_came_and_went(token):
    assert changes({"ids": ["a", "b", "c"]}, {"ids": ["a", "c"]}, token) == [("ids[1]", "removed")]


def test_ignore_changes_names_items_by_index():
    before, after = deployment(["A"]), deployment(["A"])
    after["spec"]["template"]["spec"]["containers"][0]["image"] = "orders:2"
    ignored = property_changes(before, after, ["spec.template.spec.containers[0].image"], DEPLOYMENT, VERSION)
    assert ignored == []
    assert copy.deepcopy(before) == before


def _statements(inputs):
    """Every IAM statement in the JSON documents a resource's string inputs hold."""
    from test_aws import walk_strings

    for value in walk_strings(inputs):
        if value[:1] == "{" and '"Statement"' in value:
            statements = json.loads(value)["Statement"]
            yield from statements if isinstance(statements, list) else [statements]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_iam_statement_paved_writes_has_a_stable_sid(stack):
    # The diff matches statements by Sid: one without would be matched by content only.
    from conftest import planned

    seen = 0
    for r in planned(stack)[0]["resources"]:
        if r["type"].startswith("aws:"):
            for statement in _statements(r["inputs"]):
                seen += 1
                assert isinstance(statement.get("Sid"), str) and statement["Sid"].isalnum(), (r["urn"], statement)
    assert seen > 20
