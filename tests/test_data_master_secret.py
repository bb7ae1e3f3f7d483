"""The database user is created by the migration Job: the RDS-managed master user secret reaches
the Job alone (an ExternalSecret through the team's store, a file named in
PAVED_DB_MASTER_SECRET_FILE), the team's External Secrets role reads exactly that secret, and
PAVED-SEC-035 refuses any other pod template that uses it.

Plan checks read `paved plan`'s record of the real program under mocks, with the URN in each
message; the sample's migrate against a real PostgreSQL is in tests/test_samples_datastores.py.
Not verified against AWS or a cluster.
"""

from __future__ import annotations

import copy
import json

import pytest
from policy_harness import names, stack_violations

from components.data import master_secret_statements
from components.migration import MASTER_SECRET_DIR, MASTER_SECRET_ENV
from conftest import STACKS, by_type, planned
from policies.rules.kubernetes import sec_035_database_master_secret as sec_035

EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
JOB = "kubernetes:batch/v1:Job"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout", "kubernetes:apps/v1:StatefulSet")


def _master_arn(plan: dict, service: str) -> str:
    (db,) = [r for r in by_type(plan, "aws:rds/instance:Instance") if r["service"] == service]
    assert db["inputs"]["manageMasterUserPassword"] is True and db["inputs"]["masterUserSecretKmsKeyId"], db["urn"]
    (es,) = [r for r in by_type(plan, EXTERNAL_SECRET) if r["name"] == f"{service}-db-master"]
    (entry,) = es["inputs"]["spec"]["data"]
    return entry["remoteRef"]["key"]


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_migration_job_gets_the_master_secret(stack):
    plan = planned(stack)[0]
    for service in ("orders", "payments"):
        arn = _master_arn(plan, service)
        assert arn.startswith("arn:aws:secretsmanager:") and ":secret:rds!db-" in arn, (stack, service)
        (job,) = [j for j in by_type(plan, JOB) if j["service"] == service]
        spec = job["inputs"]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["db-master"]["secret"]["secretName"] == f"{service}-db-master", job["urn"]
        (c,) = spec["containers"]
        assert {"name": MASTER_SECRET_ENV, "value": f"{MASTER_SECRET_DIR}/master.json"} in c["env"], job["urn"]
        assert {"name": "db-master", "mountPath": MASTER_SECRET_DIR, "readOnly": True} in c["volumeMounts"], job["urn"]
        es_urn = next(r["urn"] for r in by_type(plan, EXTERNAL_SECRET) if r["name"] == f"{service}-db-master")
        assert es_urn in job["options"]["dependsOn"], job["urn"]
    # The service's own pods never see it: no volume, mount or variable of it anywhere else.
    for t in WORKLOADS:
        for w in by_type(plan, t):
            text = json.dumps(w["inputs"])
            assert "db-master" not in text and MASTER_SECRET_ENV not in text, w["urn"]


def test_the_team_store_reads_exactly_that_secret_with_the_service_key():
    plan = planned("prod")[0]
    policies = {r["name"]: r for r in by_type(plan, "aws:iam/rolePolicy:RolePolicy")}
    for service in ("orders", "payments"):
        arn = _master_arn(plan, service)
        grant = policies[f"paved-secrets-{service}-db-master"]
        doc = json.loads(grant["inputs"]["policy"])
        read, decrypt = doc["Statement"]
        assert read["Resource"] == arn and read["Action"] == ["secretsmanager:DescribeSecret",
                                                              "secretsmanager:GetSecretValue"], grant["urn"]
        (db,) = [r for r in by_type(plan, "aws:rds/instance:Instance") if r["service"] == service]
        assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == db["inputs"]["masterUserSecretKmsKeyId"]
        assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
        # On the team's store role, not the service's own role.
        assert grant["inputs"]["role"].startswith("paved-secrets-checkout-role"), grant["urn"]
    # The service's own role has no right on the master secret.
    for r in by_type(plan, "aws:iam/rolePolicy:RolePolicy"):
        if r["service"] in ("orders", "payments") and not r["name"].endswith("-db-master"):
            assert "rds!db-" not in r["inputs"]["policy"], r["urn"]


def test_master_secret_statements_name_one_secret():
    read, decrypt = master_secret_statements("arn:s", "arn:k", "eu-west-1")
    assert read["Resource"] == "arn:s" and decrypt["Resource"] == "arn:k"
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"


# --- PAVED-SEC-035 --------------------------------------------------------------------------


def _fixture() -> list[tuple[str, str, dict]]:
    plan = planned("prod")[0]
    keep = [r for r in plan["resources"] if r["service"] in ("orders", "payments")
            and (r["type"] in (EXTERNAL_SECRET, JOB) or r["type"] in WORKLOADS)]
    return [(r["type"], r["name"], copy.deepcopy(r["inputs"])) for r in keep]


def _pod(props: dict) -> dict:
    return props["spec"]["template"]["spec"]


def test_sec_035_passes_the_plan_and_catches_a_pod_using_the_master_secret():
    clean = _fixture()
    assert stack_violations(sec_035.RULE, clean) == []
    assert any(t == EXTERNAL_SECRET and n == "orders-db-master" for t, n, _ in clean)

    def injected(kind: str) -> list[tuple[str, str, dict]]:
        out = copy.deepcopy(clean)
        for t, n, p in out:
            if t == "kubernetes:apps/v1:Deployment" and n == "payments-deployment":
                pod = _pod(p)
                if kind == "volume":
                    pod["volumes"].append({"name": "m", "secret": {"secretName": "payments-db-master"}})
                elif kind == "env":
                    pod["containers"][0]["env"].append({"name": "MASTER", "valueFrom": {"secretKeyRef": {
                        "name": "payments-db-master", "key": "master.json"}}})
                elif kind == "envFrom":
                    pod["containers"][0]["envFrom"] = [{"secretRef": {"name": "payments-db-master"}}]
            if kind == "other-job" and t == JOB and n == "payments-migrate":
                # orders' migration Job mounting payments' master secret: another service's Job.
                p["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "orders"
        return out

    for kind in ("volume", "env", "envFrom"):
        found = stack_violations(sec_035.RULE, injected(kind))
        assert names(found) == {"payments-deployment"}, (kind, found)
        assert "must not use the database master user secret payments-db-master" in found[0][0]
    found = stack_violations(sec_035.RULE, injected("other-job"))
    assert names(found) == {"payments-migrate"} and "only the migration Job of payments" in found[0][0]

