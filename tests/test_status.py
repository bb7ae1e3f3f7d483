"""``paved status`` and ``paved verify`` with the real ``kubernetes`` client against the fake
API server in tests/kube_fake.py, holding objects made from the dev stack's own plan."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

import kubernetes_validate
import pytest

from kube_fake import ARN, FakeKube, event, find, kubeconfig, live_objects
from paved import cli, status
from paved.crd_schema import CrdIndex
from paved.stack import load_stack

from conftest import ROOT, planned


@pytest.fixture(scope="session")
def dev_plan():
    return planned("dev")[0]


@pytest.fixture(scope="session")
def healthy(dev_plan):
    return live_objects(dev_plan)


@pytest.fixture
def objects(healthy):
    return copy.deepcopy(healthy)


@pytest.fixture
def paved(dev_plan, monkeypatch, tmp_path):
    """Run ``paved ARGS`` against a FakeKube holding ``objects``: (exit code, stdout, stderr)."""
    monkeypatch.setattr(status, "plan_for", lambda args, root, catalog: dev_plan)

    def run(objects, *args, token=None, prepare=None):
        with FakeKube(objects) as kube:
            if prepare:
                prepare(kube)
            monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kubeconfig", kube.url, token or kube.token))
            return cli.main(list(args)), kube

    return run


def test_fixtures_are_valid_api_objects(healthy, dev_plan):
    crds = CrdIndex([r["inputs"] for r in dev_plan["resources"] if isinstance(r["inputs"], dict)])
    kinds = set()
    for obj in healthy + [event("checkout", "Pod", "orders-x", "BackOff", "Back-off restarting failed container")]:
        kinds.add(obj["kind"])
        if crds.knows(obj):
            assert crds.validate(obj) == [], f"{obj['kind']}/{obj['metadata']['name']}"
        else:
            kubernetes_validate.validate(obj, load_stack(ROOT, "dev").kubernetes_version, strict=True)
    assert {"Deployment", "Pod", "HorizontalPodAutoscaler", "ExternalSecret", "Ingress", "Event",
            "PodDisruptionBudget", "CustomResourceDefinition", "ServiceMonitor", "EndpointSlice"} <= kinds


def test_healthy_stack(paved, objects, capsys):
    code, kube = paved(objects, "status", "--stack", "dev", "--format", "json")
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, [s["problems"] for s in doc["services"]]
    assert doc["schemaVersion"] == 1 and doc["context"] == ARN and doc["healthy"]
    orders = next(s for s in doc["services"] if s["service"] == "orders")
    assert orders["rollout"]["state"] == "complete"
    assert orders["externalSecret"]["ready"] is True
    assert orders["hpa"]["metricsAvailable"] and "cpu 40%" in orders["hpa"]["current"]
    assert orders["ingress"]["address"].endswith(".elb.amazonaws.com")
    assert orders["serviceMonitor"] == {"name": "orders", "ports": ["http"], "targets": 1}
    assert any(c["present"] for c in doc["platform"]["crds"])
    assert "/apis" in kube.requests  # discovery


def test_schema_describes_the_document(paved, objects, capsys):
    import jsonschema

    paved(objects, "status", "--stack", "dev", "--format", "json")
    schema = json.loads((ROOT / "schemas" / "status.schema.json").read_text())
    jsonschema.validate(json.loads(capsys.readouterr().out), schema)


def test_text_has_one_row_per_service_and_no_colour_off_a_tty(paved, objects, capsys, dev_plan):
    paved(objects, "status", "--stack", "dev")
    out = capsys.readouterr().out
    for svc in {r["service"] for r in dev_plan["resources"] if r.get("service")}:
        assert any(line.startswith(svc + " ") for line in out.splitlines()), svc
    assert "\033[" not in out and out.rstrip().endswith("healthy")


def test_colour_only_on_a_tty(paved, objects, capsys):
    paved(objects, "status", "--stack", "dev", "--format", "json")
    doc = json.loads(capsys.readouterr().out)
    assert "\033[32m" in status.text(doc, tty=True) and "\033[" not in status.text(doc, tty=False)


def test_unknown_service_is_named(paved, objects, capsys):
    code, _ = paved(objects, "status", "--stack", "dev", "--service", "nope")
    assert code == 1 and "no catalog service matches" in capsys.readouterr().err


def test_service_and_team_filters(paved, objects, capsys):
    paved(objects, "status", "--stack", "dev", "--service", "orders", "--format", "json")
    assert [s["service"] for s in json.loads(capsys.readouterr().out)["services"]] == ["orders"]
    paved(objects, "status", "--stack", "dev", "--team", "checkout", "--format", "json")
    assert [s["service"] for s in json.loads(capsys.readouterr().out)["services"]] == ["orders", "payments"]
    paved(objects, "status", "--stack", "dev", "--team", "checkout")
    out = capsys.readouterr().out
    assert "platform:" not in out and "payments" in out


def test_events_are_the_services_own():
    events = [event("checkout", "Pod", "orders-7d9f8c6b5-ax1", "BackOff", "a"),
              event("checkout", "ReplicaSet", "orders-7d9f8c6b5", "FailedCreate", "b"),
              event("checkout", "Pod", "orders-api-5c6d7e8f9-bx2", "BackOff", "another service's pod"),
              {**event("checkout", "Pod", "orders-7d9f8c6b5-ax1", "Pulled", "c"), "type": "Normal"}]
    got = status.warning_events(events, {"orders", "orders-7d9f8c6b5-ax1"}, "orders")
    assert sorted(e["reason"] for e in got) == ["BackOff", "FailedCreate"]


# The Deployment-status scenarios use payments: orders is released by Argo Rollouts (its phase is
# judged instead, test_rollout_phases).
def _pod(objects, name="payments"):
    return find(objects, "Pod", name, "checkout")


@pytest.mark.parametrize("scenario, reason", [
    ("crashloop", "CrashLoopBackOff"),
    ("imagepull", "ImagePullBackOff"),
    ("configerror", "CreateContainerConfigError"),
    ("oom", "OOMKilled"),
    ("midrollout", "RolloutInProgress"),
    ("deadline", "ProgressDeadlineExceeded"),
    ("nometrics", "NoMetrics"),
    ("secret", "SecretNotSynced"),
    ("notargets", "NoTargets"),
])
def test_unhealthy_states(paved, objects, capsys, scenario, reason):
    pod, dep = _pod(objects), find(objects, "Deployment", "payments")
    cs = pod["status"]["containerStatuses"][0]
    if scenario in ("crashloop", "imagepull", "configerror"):
        # As the controllers report it: the one pod is not ready, so the Deployment is not available.
        dep["status"].update(readyReplicas=0, availableReplicas=0, unavailableReplicas=1)
        dep["status"]["conditions"][0].update(status="False", reason="MinimumReplicasUnavailable",
                                              message="Deployment does not have minimum availability.")
        cs.update(ready=False, state={"waiting": {"reason": reason, "message": f"{reason} for payments"}}, restartCount=7
                  if scenario == "crashloop" else 0)
        objects.append(event("checkout", "Pod", pod["metadata"]["name"], "BackOff", "Back-off restarting failed container"))
    elif scenario == "oom":
        cs.update(restartCount=3, lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137}})
    elif scenario == "midrollout":
        dep["metadata"]["generation"] = 2
        dep["status"].update(observedGeneration=2, updatedReplicas=0, availableReplicas=1)
    elif scenario == "deadline":
        dep["status"]["conditions"][1].update(status="False", reason="ProgressDeadlineExceeded",
                                              message='ReplicaSet "payments-5c6d" has timed out progressing.')
    elif scenario == "nometrics":
        hpa = find(objects, "HorizontalPodAutoscaler", "payments")
        hpa["status"].pop("currentMetrics")
        hpa["status"]["conditions"][1].update(status="False", reason="FailedGetResourceMetric",
                                              message="unable to get metrics for resource cpu")
    elif scenario == "notargets":  # the pod is not ready: the slice lists it not ready, Prometheus has nothing
        (eps,) = [o for o in objects if o["kind"] == "EndpointSlice"
                  and o["metadata"]["labels"]["kubernetes.io/service-name"] == "payments"]
        eps["endpoints"][0]["conditions"]["ready"] = False
    elif scenario == "secret":
        es = find(objects, "ExternalSecret", "payments-secrets")
        es["status"]["conditions"][0].update(status="False", reason="SecretSyncedError", message="could not get secret")
    code, _ = paved(objects, "status", "--stack", "dev", "--format", "json")
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    by = {s["service"]: s for s in doc["services"]}
    reasons = [p["reason"] for p in by["payments"]["problems"]]
    not_available = scenario in ("crashloop", "imagepull", "configerror")
    assert reasons == (["RolloutInProgress", reason] if not_available else [reason])
    assert all(p["hint"].startswith("docs/runbooks/") for p in by["payments"]["problems"])
    assert all(s["healthy"] for name, s in by.items() if name != "payments")
    if scenario in ("crashloop", "imagepull", "configerror", "oom"):
        assert by["payments"]["problems"][-1]["object"] == f"Pod/{pod['metadata']['name']}"
    if scenario == "crashloop":
        assert by["payments"]["containers"]["restarts"] == 7
        assert by["payments"]["events"][0]["reason"] == "BackOff"


def test_platform_workload_not_ready_and_crd_missing(paved, objects, capsys):
    eso = find(objects, "Deployment", "paved-secrets-eso-external-secrets")
    eso["status"].update(readyReplicas=0, availableReplicas=0)
    objects.remove(find(objects, "CustomResourceDefinition", "externalsecrets.external-secrets.io"))
    code, _ = paved(objects, "status", "--stack", "dev", "--format", "json")
    plat = json.loads(capsys.readouterr().out)["platform"]
    assert code == 1
    assert {(p["object"], p["reason"]) for p in plat["problems"]} == {
        ("Deployment/paved-secrets-eso-external-secrets", "NotReady"),
        ("CustomResourceDefinition/externalsecrets.external-secrets.io", "CrdMissing")}


def test_missing_object_is_named(paved, objects, capsys):
    objects.remove(find(objects, "HorizontalPodAutoscaler", "orders"))
    code, kube = paved(objects, "status", "--stack", "dev", "--service", "orders", "--format", "json")
    (orders,) = json.loads(capsys.readouterr().out)["services"]
    assert code == 1 and orders["hpa"] is None
    assert [(p["object"], p["reason"]) for p in orders["problems"]] == [("HorizontalPodAutoscaler/orders", "Missing")]
    assert "/apis/autoscaling/v2/namespaces/checkout/horizontalpodautoscalers/orders" in kube.requests  # a get


def test_runbook_hints_point_at_files():
    for hint in status.HINTS.values():
        assert (ROOT / hint.split(":")[0].split(" ")[0]).is_file(), hint


def test_verify_healthy_and_no_drift(paved, objects, capsys):
    code, _ = paved(objects, "verify", "--stack", "dev")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "healthy, no drift" in out


def test_verify_reports_drifted_image_and_replicas(paved, objects, capsys):
    dep = find(objects, "Deployment", "payments")
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/payments:hotfix"
    dep["metadata"]["managedFields"].append({"manager": "kubectl-set", "operation": "Update", "apiVersion": "apps/v1",
                                             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:template": {
                                                 "f:spec": {"f:containers": {'k:{"name":"payments"}': {"f:image": {}}}}}}}})
    hpa = find(objects, "HorizontalPodAutoscaler", "payments")
    hpa["spec"]["maxReplicas"] = 9
    code, _ = paved(objects, "verify", "--stack", "dev")
    out = capsys.readouterr().out
    assert code == 1
    lines = [ln for ln in out.splitlines() if "Drift" in ln]
    assert any(ln.startswith("payments: Deployment/payments: Drift: spec.template.spec.containers[payments].image")
               and "kubectl-set" in ln for ln in lines), out
    assert any("HorizontalPodAutoscaler/payments" in ln and "spec.maxReplicas is 9" in ln for ln in lines), out


def test_drift_names_only_the_manager_that_owns_the_field():
    from paved.verify import managers_of

    live = {"metadata": {"managedFields": [
        {"manager": "pulumi-kubernetes-7f3a1c2e", "fieldsV1": {"f:spec": {"f:maxReplicas": {}}}},
        {"manager": "kubectl-edit", "fieldsV1": {"f:spec": {"f:maxReplicas": {}}}},
        {"manager": "kube-controller-manager", "fieldsV1": {"f:status": {"f:currentReplicas": {}}}},
        {"manager": "kubectl-set", "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
            'k:{"name":"sidecar"}': {"f:image": {}}}}}}}}]}}
    assert managers_of(live, "spec.maxReplicas") == ["kubectl-edit"]
    assert managers_of(live, "spec.template.spec.containers[orders].image") == []
    assert managers_of(live, "spec.template.spec.containers[sidecar].image") == ["kubectl-set"]


def test_verify_reports_platform_drift(paved, objects, capsys):
    ms = find(objects, "Deployment", "paved-metrics-server")
    ms["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.k8s.io/metrics-server/metrics-server:v0.0.1"
    code, _ = paved(objects, "verify", "--stack", "dev")
    out = capsys.readouterr().out
    assert code == 1
    assert any(ln.startswith("platform: Deployment/paved-metrics-server: Drift: spec.template.spec.containers[")
               and "v0.0.1" in ln for ln in out.splitlines()), out


@pytest.mark.parametrize("wait", ["soon", "10x", ""])
def test_bad_wait_is_a_usage_error(paved, objects, capsys, wait):
    code, _ = paved(objects, "verify", "--stack", "dev", "--wait", wait)
    assert code == 2 and "give a duration like 90s" in capsys.readouterr().err


def test_drift_ignores_values_only_the_cloud_knows(paved, objects, capsys):
    """The offline plan invents cloud outputs (Kafka brokers in env); real ones differ without drift."""
    dep = find(objects, "Deployment", "payments")
    for env in dep["spec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in env and "kafka" in env["value"]:
            env["value"] = "b-1.real.abc123.c3.kafka.us-east-1.amazonaws.com:9098"
            break
    else:
        pytest.fail("payments has no Kafka bootstrap env in the dev plan")
    code, _ = paved(objects, "verify", "--stack", "dev")
    assert code == 0, capsys.readouterr().out


def test_verify_waits_with_progress_until_the_rollout_completes(paved, objects, capsys):
    dep = find(objects, "Deployment", "payments")
    done = copy.deepcopy(dep["status"])
    dep["status"]["updatedReplicas"] = 0

    def finish(kube):  # the controller finishes the rollout while verify watches
        find(kube.objects, "Deployment", "payments")["status"] = done

    code, kube = paved(objects, "verify", "--stack", "dev", "--wait", "60s",
                       prepare=lambda k: setattr(k, "on_watch", finish))
    captured = capsys.readouterr()
    assert code == 0, captured.out
    assert "waiting for 1 service(s)" in captured.err and "payments" in captured.err
    (watch,) = [r for r in kube.requests if "watch=true" in r.lower()]
    assert "resourceVersion=1000" in watch  # from the list: no synthetic ADDED events to wake on


def test_verify_times_out_naming_the_problem(paved, objects, capsys):
    find(objects, "Deployment", "payments")["status"]["updatedReplicas"] = 0
    start = time.monotonic()
    code, _ = paved(objects, "verify", "--stack", "dev", "--wait", "2s")
    out = capsys.readouterr().out
    assert code == 1 and time.monotonic() - start < 30
    assert "payments: Deployment/payments: RolloutInProgress: 0 of 1 new replicas updated" in out


@pytest.mark.parametrize("case, expect", [
    ("expired", "rejected the credentials (401 Unauthorized)"),
    ("forbidden", "forbidden (403) reading /apis"),
])
def test_api_errors_are_one_line(paved, objects, capsys, case, expect):
    code, _ = paved(objects, "status", "--stack", "dev", token="expired" if case == "expired" else None,
                    prepare=(lambda kube: kube.forbidden.add("/apis")) if case == "forbidden" else None)
    err = capsys.readouterr().err
    assert code == 1 and expect in err and len(err.strip().splitlines()) == 1, err


def test_context_by_alias(paved, objects, capsys, tmp_path, monkeypatch):
    """`aws eks update-kubeconfig --alias dev` names the context, the cluster entry keeps the ARN."""
    with FakeKube(objects) as kube:
        monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", kube.url, context="dev"))
        monkeypatch.setattr(status, "plan_for", lambda *a: planned("dev")[0])
        assert cli.main(["status", "--stack", "dev", "--service", "orders"]) == 0
    assert "(context dev)" in capsys.readouterr().out


def test_failing_credential_plugin_is_one_line(tmp_path, monkeypatch, capsys):
    """`aws eks get-token` with expired AWS credentials: the exec plugin fails."""
    import yaml

    plugin = tmp_path / "aws"
    plugin.write_text("#!/bin/sh\necho 'The SSO session has expired or is invalid' >&2\nexit 255\n")
    plugin.chmod(0o755)
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1")
    doc = yaml.safe_load(open(path))
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin),
                                        "args": ["eks", "get-token", "--cluster-name", "paved-dev"]}}
    (tmp_path / "kc").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("KUBECONFIG", path)
    assert cli.main(["status", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert "credential plugin" in err and "SSO session has expired" in err and len(err.strip().splitlines()) == 1, err


def test_no_matching_context(tmp_path, monkeypatch, capsys):
    path = kubeconfig(tmp_path / "kc", "http://127.0.0.1:1", context="some-other-cluster",
                      cluster="arn:aws:eks:us-east-1:123456789012:cluster/paved-prod")
    monkeypatch.setenv("KUBECONFIG", path)
    assert cli.main(["status", "--stack", "dev"]) == 1
    err = capsys.readouterr().err
    assert "has no context for EKS cluster paved-dev in us-east-1" in err and "aws eks update-kubeconfig" in err
    assert cli.main(["status", "--stack", "dev", "--context", "some-other-cluster"]) == 1  # named: used, unreachable
    assert "cannot reach the Kubernetes API" in capsys.readouterr().err


def _cli(env_extra):
    env = {**os.environ, **env_extra}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "paved", "verify", "--stack", "dev"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    return proc, time.monotonic() - start


def test_verify_without_kubeconfig_exits_1_fast(tmp_path):
    proc, took = _cli({"KUBECONFIG": str(tmp_path / "missing"), "PAVED_ROOT": str(ROOT)})
    assert proc.returncode == 1 and took < 30
    assert proc.stderr.strip().splitlines() == [
        f"paved: error: no kubeconfig at {tmp_path / 'missing'}: run `aws eks update-kubeconfig --name paved-dev "
        "--region us-east-1` (or pass --kubeconfig FILE)"]


def test_verify_unreachable_api_exits_1_fast(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, took = _cli({"KUBECONFIG": kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}"), "PAVED_ROOT": str(ROOT)})
    assert proc.returncode == 1 and took < 30, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Kubernetes API at http://127.0.0.1" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_connect_timeout_is_bounded(tmp_path, monkeypatch, capsys):
    """A server whose accept queue is full never completes the TCP handshake, like an endpoint
    behind a firewall that drops packets: the connect timeout ends the wait."""
    import socket

    from paved.kube import TIMEOUT

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        port = srv.getsockname()[1]
        fillers = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(c)
        time.sleep(0.2)
        monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}"))
        start = time.monotonic()
        code = cli.main(["status", "--stack", "dev"])
        took = time.monotonic() - start
        for c in fillers:
            c.close()
    err = capsys.readouterr().err
    assert code == 1 and took < TIMEOUT[0] + 5, took
    assert f"timed out. (connect timeout={TIMEOUT[0]})" in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("phase, state, needle", [
    ("Healthy", "complete", "rolled out"),
    ("Progressing", "progressing", "more replicas need to be updated"),
    ("Paused", "progressing", "paused at canary step 1"),
    ("Degraded", "failed", "RolloutAborted: metric \"error-ratio\" assessed Failed"),
])
def test_rollout_phases(phase, state, needle):
    """orders is an Argo Rollout: its phase decides, with the controller's message."""
    message = {"Progressing": "more replicas need to be updated", "Paused": "CanaryPauseStep",
               "Degraded": 'RolloutAborted: metric "error-ratio" assessed Failed'}.get(phase, "")
    ro = {"kind": "Rollout", "metadata": {"name": "orders", "generation": 3}, "spec": {"replicas": 2},
          "status": {"phase": phase, "message": message, "currentStepIndex": 1, "observedGeneration": "3",
                     "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}
    got = status.rollout(ro)
    assert got[0] == state and needle in got[1], got


def test_a_degraded_canary_is_a_problem_of_the_rollout(paved, objects, capsys):
    ro = find(objects, "Rollout", "orders")
    ro["status"].update(phase="Degraded", message='RolloutAborted: metric "error-ratio" assessed Failed')
    code, _ = paved(objects, "status", "--stack", "dev", "--format", "json")
    by = {s["service"]: s for s in json.loads(capsys.readouterr().out)["services"]}
    assert code == 1
    assert [(p["object"], p["reason"]) for p in by["orders"]["problems"]] == [("Rollout/orders", "RolloutDegraded")]
    assert by["orders"]["problems"][0]["hint"].startswith("docs/runbooks/rollout.md: the canary")
