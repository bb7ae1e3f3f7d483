"""Spec builders, tested without the Pulumi engine: catalog entry → typed *Args."""

from __future__ import annotations

import pytest

from components.namespace import (
    allow_dns_spec,
    default_deny_spec,
    limit_range_spec,
    namespace_args,
    quota_spec,
)
from components.platform import peers
from components.security import RUN_AS_USER
from components.service import (
    MicroserviceArgs,
    Peer,
    container_spec,
    deployment_args,
    hpa_args,
    network_policy_args,
    pdb_args,
    pod_spec,
    service_account_args,
)
from paved.catalog import Catalog
from paved.model import Service, Team
from paved.stack import StackSettings


def _prod_settings() -> StackSettings:
    from conftest import ROOT

    from paved.stack import load_stack

    return load_stack(ROOT, "prod")


SETTINGS = _prod_settings()
TEAM = Team.model_validate({"name": "checkout", "owner": "a@b.c", "costCenter": "cc-1", "quota": {"cpu": "4", "memory": "8Gi", "pods": 20}})


def service(**changes) -> Service:
    base = {
        "name": "orders", "team": "checkout", "description": "d", "image": "reg.example/orders:1.0.0", "port": 8080,
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "scaling": {"min": 2, "max": 4}, "secrets": ["db-password"], "env": {"LOG_LEVEL": "info"},
    }
    base.update(changes)
    return Service.model_validate(base)


def margs(svc: Service | None = None, **kw) -> MicroserviceArgs:
    return MicroserviceArgs(service=svc or service(), team=TEAM, settings=SETTINGS, **kw)


def test_deployment_leaves_replicas_to_the_autoscaler():
    spec = deployment_args(margs()).spec
    assert spec.replicas is None
    assert spec.strategy.type == "RollingUpdate"
    assert spec.strategy.rolling_update.max_unavailable == 0
    assert spec.selector.match_labels == {"app.kubernetes.io/name": "orders", "app.kubernetes.io/instance": "orders"}


def test_pod_runs_restricted():
    pod = pod_spec(margs())
    assert pod.automount_service_account_token is False
    assert pod.security_context.run_as_non_root is True
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"
    sc = container_spec(margs()).security_context
    assert sc.allow_privilege_escalation is False
    assert sc.read_only_root_filesystem is True
    assert sc.run_as_user == RUN_AS_USER and RUN_AS_USER >= 10000
    assert sc.capabilities.drop == ["ALL"]
    assert [m.mount_path for m in container_spec(margs()).volume_mounts][0] == "/tmp"
    assert pod.volumes[0].empty_dir is not None


def test_topology_spread_follows_the_stack():
    constraint = pod_spec(margs()).topology_spread_constraints[0]
    assert constraint.topology_key == "topology.kubernetes.io/zone"
    assert constraint.when_unsatisfiable == "DoNotSchedule"


def test_container_has_requests_limits_and_three_probes():
    c = container_spec(margs())
    assert c.resources.requests == {"cpu": "250m", "memory": "256Mi"}
    assert c.resources.limits == {"cpu": "1", "memory": "512Mi"}
    assert c.startup_probe.http_get.path == "/healthz"
    assert c.liveness_probe.http_get.path == "/healthz"
    assert c.readiness_probe.http_get.path == "/readyz"


def test_secrets_are_files_never_values():
    env = {e.name: e.value for e in container_spec(margs()).env}
    assert "DB_PASSWORD" not in env
    assert env["DB_PASSWORD_FILE"] == "/var/run/secrets/paved/db-password"
    assert env["LOG_LEVEL"] == "info" and env["PAVED_ENVIRONMENT"] == "prod"
    secret_volume = next(v for v in pod_spec(margs()).volumes if v.secret is not None)
    assert secret_volume.secret.secret_name == "orders-secrets"
    assert secret_volume.secret.default_mode == 0o400
    assert [(i.key, i.path) for i in secret_volume.secret.items] == [("db-password", "db-password")]
    mount = next(m for m in container_spec(margs()).volume_mounts if m.name == secret_volume.name)
    assert mount.read_only is True and mount.mount_path == "/var/run/secrets/paved"


def test_no_secret_volume_without_secrets():
    plain = margs(service(secrets=()))
    assert [v.name for v in pod_spec(plain).volumes] == ["tmp"]
    assert [m.mount_path for m in container_spec(plain).volume_mounts] == ["/tmp"]


def test_hpa_bounds_targets_and_stabilisation():
    spec = hpa_args(margs(service(scaling={"min": 3, "max": 9, "targetCpuPercent": 60}))).spec
    assert (spec.min_replicas, spec.max_replicas) == (3, 9)
    assert spec.scale_target_ref.name == "orders"
    targets = {m.resource.name: m.resource.target.average_utilization for m in spec.metrics}
    assert targets == {"cpu": 60, "memory": 80}
    assert spec.behavior.scale_down.stabilization_window_seconds == 300


@pytest.mark.parametrize(("minimum", "expect_pdb"), [(1, False), (2, True), (5, True)])
def test_pdb_only_from_two_replicas(minimum, expect_pdb):
    pdb = pdb_args(margs(service(scaling={"min": minimum, "max": 6})))
    assert (pdb is not None) == expect_pdb
    if pdb:
        assert pdb.spec.max_unavailable == 1


def test_network_policy_admits_callers_and_reaches_callees_only():
    np = network_policy_args(margs(callers=(Peer("fulfillment", "shipping", 8080),), callees=(Peer("fulfillment", "inventory", 9090),)))
    spec = np.spec
    assert spec.policy_types == ["Ingress", "Egress"]
    assert len(spec.ingress) == 1 and spec.ingress[0].ports[0].port == 8080
    frm = spec.ingress[0].from_[0]
    assert frm.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "fulfillment"}
    assert frm.pod_selector.match_labels == {"app.kubernetes.io/name": "shipping"}
    assert spec.egress[0].to[0].pod_selector.match_labels == {"app.kubernetes.io/name": "inventory"}
    assert spec.egress[0].ports[0].port == 9090


def test_network_policy_without_peers_denies_everything():
    spec = network_policy_args(margs()).spec
    assert spec.ingress == [] and spec.egress == []


def test_service_account_mounts_no_token():
    assert service_account_args(margs()).automount_service_account_token is False


def test_namespace_enforces_restricted_pod_security_pinned():
    labels = namespace_args(TEAM, SETTINGS).metadata.labels
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.35"
    assert labels["paved.dev/cost-center"] == "cc-1"


def test_namespace_quota_limits_and_default_deny():
    assert quota_spec(TEAM).hard == {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "20"}
    item = limit_range_spec().limits[0]
    assert item.max_limit_request_ratio == {"cpu": "4", "memory": "2"}
    deny = default_deny_spec()
    assert deny.pod_selector.match_labels is None and deny.policy_types == ["Ingress", "Egress"]
    dns = allow_dns_spec().egress[0]
    assert {p.port for p in dns.ports} == {53} and {p.protocol for p in dns.ports} == {"UDP", "TCP"}


def test_peers_are_derived_from_calls():
    a = service(name="orders", calls=("inventory",))
    b = service(name="inventory", team="checkout", port=9090)
    c = service(name="shipping", calls=("orders",))
    catalog = Catalog(file="x", teams=(TEAM,), services=(a, b, c), environment="prod")
    callers, callees = peers(catalog, "orders")
    assert callers == (Peer("checkout", "shipping", 8080),)
    assert callees == (Peer("checkout", "inventory", 9090),)


# --- secrets: pure builders -----------------------------------------------------------------


def test_team_secret_statements_write_only_managed_secrets():
    from components.addons.external_secrets import team_statements

    read = ["arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/t/a/x-AbCdEf",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/t/b/y-AbCdEf"]
    key = "arn:aws:kms:us-east-1:123456789012:key/1234"
    only_read = {st["Sid"]: st for st in team_statements(read, [], key, "us-east-1")}
    assert set(only_read) == {"ReadTeamSecrets", "DecryptTeamSecrets"}
    assert only_read["DecryptTeamSecrets"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}
    both = {st["Sid"]: st for st in team_statements(read, read[:1], key, "us-east-1")}
    assert both["WriteFirstValueOfManagedSecrets"]["Resource"] == read[:1]
    assert both["EncryptManagedSecrets"]["Condition"] == only_read["DecryptTeamSecrets"]["Condition"]
    for st in both.values():
        assert "*" not in str(st["Action"]) + str(st["Resource"])


def test_grafana_and_managed_secrets_share_one_password_definition():
    import inspect

    from components.addons import external_secrets, prometheus

    assert "password_generator(" in inspect.getsource(prometheus.KubePrometheusStack.deploy)
    assert not [n for n in dir(prometheus) if n.endswith("password_spec")]
    assert external_secrets.password_spec()["symbols"] == 0  # nothing to escape in a DSN or a shell


def test_push_secret_never_overwrites_and_writes_json_with_the_key():
    from components.addons.external_secrets import push_secret_spec

    spec = push_secret_spec("aws-secrets-manager", "paved-password", "dev/t/a/x", "password")
    assert spec["updatePolicy"] == "IfNotExists" and spec["deletionPolicy"] == "None"
    (data,) = spec["data"]
    assert data["match"]["remoteRef"] == {"remoteKey": "dev/t/a/x", "property": "password"}
    assert data["metadata"]["spec"] == {"secretPushFormat": "string"}
