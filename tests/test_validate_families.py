"""Issue 17, "every bad input refused cleanly": one parametrized test per family of bad input.

Like tests/test_validate.py, every bad catalog is tests/catalogs/minimal.yaml with one thing
changed; each case must be refused with exit 1, a ``FILE:LINE:COL: FIELD: MESSAGE`` line on
the line of the change, and no traceback, in bounded time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from paved.naming import PLATFORM_NAMESPACES, RESERVED_NAMESPACES
from paved.yamlsrc import MAX_ALIAS_NODES, MAX_DEPTH, MAX_FILE_BYTES
from test_validate import BASE, _repo_root, expect, line_of, mutate, run_cli, validate  # noqa: F401  (fixture)

ORDERS_TEAM = "    costCenter: cc-1\n"
ORDERS_ENV = "      LOG_LEVEL: info"
ORDERS_CALLS = "    calls: [inventory]\n"
SHIPPING_END = "    scaling: {min: 2, max: 2}"


def refused_at(res, line: int, *parts: str) -> str:
    """Exit 1, and a problem on ``line`` whose message holds every part; returns it."""
    assert res.rc == 1, res.err
    on_line = [r.rest for r in res.reported if r.line == line]
    assert on_line, f"nothing reported on line {line}:\n{res.err}"
    for rest in on_line:
        if all(p in rest for p in parts):
            return rest
    raise AssertionError(f"no problem on line {line} mentions {parts}:\n{res.err}")


def with_api(definition: str) -> str:
    return mutate(ORDERS_CALLS, f'{ORDERS_CALLS}    api: {{type: openapi, definition: "{definition}"}}\n')


# --- 1. paths stay inside the repository -------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """tmp_path as a repository with one API definition, and links pointing out of it."""
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "openapi.yaml").write_text("openapi: 3.1.0\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.yaml").write_text("password: x\n")
    (tmp_path / "link.yaml").symlink_to(outside / "secret.yaml")
    (tmp_path / "linked-dir").symlink_to(outside)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    return tmp_path


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ("../../../../etc/passwd", "resolves outside the catalog's folder"),
        ("api/../../../etc/passwd", "resolves outside the catalog's folder"),
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/win.ini", "is an absolute path"),
        ("link.yaml", "resolves outside the catalog's folder"),
        ("linked-dir/secret.yaml", "resolves outside the catalog's folder"),
        ("loop", "not"),
        ("api/missing.yaml", "not found"),
        ("api/\\0.yaml", "has control characters"),
        ("api/\\n", "has control characters"),
    ],
    ids=["dot-dot", "dot-dot-inside", "absolute", "drive-letter", "symlink-file", "symlink-dir", "symlink-loop", "missing", "nul", "newline"],
)
def test_paths_stay_inside_the_repository(repo, capsys, definition, message):
    bad = with_api(definition)
    res = validate(repo, capsys, bad)
    expect(res, "services[orders].api.definition", line_of(bad, "api: {"), message)


@pytest.mark.parametrize("definition", ["api/openapi.yaml", "api/../api/openapi.yaml", "./api/openapi.yaml"])
def test_paths_inside_the_repository_are_accepted(repo, capsys, definition):
    res = validate(repo, capsys, with_api(definition))
    assert res.rc == 0, res.err


@pytest.mark.parametrize("command", [["plan"], ["check"], ["cost"], ["render", "--output", "{tmp}/out"]])
@pytest.mark.parametrize("stack", ["../../../../etc/passwd", "dev/../prod", "dev\n", "Dev", "dev-", "d" * 64])
def test_stack_name_cannot_lead_out_of_the_stack_folders(tmp_path, capsys, command, stack):
    from paved.cli import main

    argv = [part.replace("{tmp}", str(tmp_path)) for part in command]
    assert main([argv[0], "--stack", stack, *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert "is not a stack name" in err and "Traceback" not in err, err


# --- 2. reserved namespaces ---------------------------------------------------------------------


RESERVED = sorted(RESERVED_NAMESPACES) + ["kube-anything"]


@pytest.mark.parametrize("namespace", RESERVED)
def test_reserved_namespace_is_refused(tmp_path, capsys, namespace):
    bad = mutate(ORDERS_TEAM, f"{ORDERS_TEAM}    namespace: {namespace}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].namespace", line_of(bad, f"namespace: {namespace}"),
           f"{namespace!r} is a namespace Kubernetes or the platform keeps for itself")


@pytest.mark.parametrize("name", RESERVED)
def test_reserved_team_name_is_refused(tmp_path, capsys, name):
    team = f"  - name: {name}\n    owner: x@example.com\n    costCenter: cc-3\n    quota: {{cpu: \"1\", memory: 1Gi, pods: 5}}\n" \
           "    alerts: {slack: {channel: \"#x\"}}\n"
    bad = mutate("\nservices:\n", f"{team}\nservices:\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, f"teams[{name}].name", line_of(bad, f"name: {name}"), "keeps for itself")


def test_platform_namespaces_are_the_ones_components_create(planned_stack):
    """The reserved list is what the program really creates outside the teams' namespaces."""
    doc = planned_stack("prod")[0]  # prod has a public service, so the load balancer controller too
    created = {r["inputs"]["metadata"]["name"] for r in doc["resources"]
               if r["type"] == "kubernetes:core/v1:Namespace" and r["team"] is None}
    assert created == set(PLATFORM_NAMESPACES)


# --- 3. environment variables: paved's own names, and credentials as values ------------------------


PLATFORM_VARS = ["PORT", "PAVED_SERVICE", "PAVED_TEAM", "PAVED_ENVIRONMENT", "OTEL_SERVICE_NAME",
                 "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_RESOURCE_ATTRIBUTES", "KAFKA_BOOTSTRAP_SERVERS",
                 "KAFKA_TOPIC_ORDER_PLACED", "KAFKA_CONSUMER_GROUP"]


@pytest.mark.parametrize("var", PLATFORM_VARS)
def test_variable_paved_sets_is_refused(tmp_path, capsys, var):
    bad = mutate(ORDERS_ENV, f'      {var}: "9999"')
    res = validate(tmp_path, capsys, bad)
    expect(res, f"services[orders].env.{var}", line_of(bad, f"{var}:"), "is set by paved itself")


INJECTED_VARS = ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_STS_REGIONAL_ENDPOINTS"]


@pytest.mark.parametrize("var", INJECTED_VARS)
def test_variable_kubernetes_or_eks_sets_is_refused(tmp_path, capsys, var):
    bad = mutate(ORDERS_ENV, f'      {var}: "x"')
    res = validate(tmp_path, capsys, bad)
    expect(res, f"services[orders].env.{var}", line_of(bad, f"{var}:"), "is set in every pod by Kubernetes or EKS")


def test_region_variable_stays_free(tmp_path, capsys):
    assert validate(tmp_path, capsys, mutate(ORDERS_ENV, "      AWS_REGION: eu-west-1")).rc == 0


@pytest.mark.parametrize("var", [*PLATFORM_VARS, *INJECTED_VARS, "AWS_REGION", "LOG_LEVEL", "PORTS", "MY_PORT"])
def test_schema_and_validator_agree_on_variable_names(var):
    import re

    from pydantic import TypeAdapter, ValidationError

    from paved.model import EnvName

    pattern = TypeAdapter(EnvName).json_schema()["pattern"]
    try:
        TypeAdapter(EnvName).validate_python(var)
        valid = True
    except ValidationError:
        valid = False
    assert bool(re.fullmatch(pattern, var)) == valid, (var, pattern)


def test_variable_paved_sets_is_refused_in_an_override(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}", '        scaling: {min: 2, max: 6}\n        env: {PORT: "9999"}')
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.env.PORT", line_of(bad, "PORT"), "is set by paved itself")


def test_secret_file_variable_is_refused(tmp_path, capsys):
    bad = mutate(ORDERS_ENV, "      DB_PASSWORD_FILE: /tmp/pw")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].env.DB_PASSWORD_FILE", line_of(bad, "DB_PASSWORD_FILE"),
           "is set by paved", "'db-password' is mounted")


def test_every_variable_paved_sets_is_reserved():
    """The variables components/service.py really sets, for a service using every feature."""
    from components.service import AwsWiring, MicroserviceArgs, env_vars
    from paved.catalog import load_catalog
    from paved.naming import platform_env
    from paved.stack import load_stack
    from test_validate import ROOT

    from paved.stack import list_stacks

    catalog = load_catalog(ROOT / "services_catalog.yaml", {env: None for env in list_stacks(ROOT)})
    settings = load_stack(ROOT, "dev")
    svc = next(s for s in catalog.services if s.secrets and s.kafka.produces and s.kafka.consumes)
    args = MicroserviceArgs(service=svc, team=catalog.team(svc.team), settings=settings,
                            aws=AwsWiring(vpc_cidr="10.0.0.0/16", identity_mode="podIdentity", kafka_bootstrap="b:9098"))
    secret_files = {f"{s.env_name}_FILE" for s in svc.secrets}
    set_by_paved = {e.name for e in env_vars(args)} - set(svc.env)
    assert set_by_paved and all(platform_env(n) or n in secret_files for n in set_by_paved), set_by_paved


CREDENTIALS = [
    ("postgres://orders:hunter2@db.internal:5432/orders", "a URL with a password"),
    ("https://user:p%40ss@api.example.com/v1", "a URL with a password"),
    ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
    ("ASIAY34FZKBOKMUTVV7A", "an AWS access key id"),
    ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
    ("ghp_" + "a1B2" * 9, "a GitHub token"),
    ("github_pat_" + "x" * 30, "a GitHub token"),
    ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "a Stripe key"),
    ("glpat-" + "x" * 20, "a GitLab token"),
    ("AIza" + "S" * 35, "a Google API key"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcmRlcnMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ", "a JSON Web Token"),
    ("host=db.internal user=orders password=hunter2", "a connection string with a password"),
    ("Server=db;Database=orders;Pwd=hunter2;", "a connection string with a password"),
    ("DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=abc123==;", "a connection string with a password"),
]


@pytest.mark.parametrize(("value", "kind"), CREDENTIALS, ids=[k for _, k in CREDENTIALS])
def test_credential_looking_value_is_refused(tmp_path, capsys, value, kind):
    bad = mutate(ORDERS_ENV, f'      UPSTREAM: "{value}"')
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].env.UPSTREAM", line_of(bad, "UPSTREAM"), f"looks like {kind}", "`secrets`")


@pytest.mark.parametrize("value", ["https://api.example.com/v2", "postgres://db.internal:5432/orders",
                                   "https://user@example.com/", "AKIA", "sk_test_abc", "time: 12:30@utc",
                                   "host=db.internal user=orders sslmode=require", "eyJ", "password-reset"])
def test_harmless_value_is_not_flagged(tmp_path, capsys, value):
    res = validate(tmp_path, capsys, mutate(ORDERS_ENV, f'      UPSTREAM: "{value}"'))
    assert res.rc == 0, res.err


def test_paved_variables_are_documented():
    from test_validate import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    from paved.naming import INJECTED_ENV_NAMES

    for name in ("`PORT`", "`PAVED_SERVICE`", "`OTEL_*`", "`KAFKA_*`", "`KAFKA_TOPIC_<TOPIC>`", "`<SECRET>_FILE`",
                 *(f"`{n}`" for n in INJECTED_ENV_NAMES)):
        assert name in text


# --- 4. patterns match the whole value: a trailing newline is refused everywhere ------------------


NEWLINE_CASES = [
    ("  - name: shipping\n", '  - name: "shipping\\n"\n'),
    ("    team: checkout\n", '    team: "checkout\\n"\n'),
    (ORDERS_TEAM, f'{ORDERS_TEAM}    namespace: "checkout\\n"\n'),
    ("    costCenter: cc-1\n", '    costCenter: "cc-1\\n"\n'),
    ("    owner: checkout@example.com\n", '    owner: "checkout@example.com\\n"\n'),
    ("    secrets: [db-password]", '    secrets: ["db-password\\n"]'),
    ("    image: registry.example.com/shop/orders:1.0.0", '    image: "registry.example.com/shop/orders:1.0.0\\n"'),
    (ORDERS_ENV, '      "LOG_LEVEL\\n": info'),
    ("        - {name: order-placed}", '        - {name: "order-placed\\n"}'),
    ("      consumes: [stock-reserved]", '      consumes: ["stock-reserved\\n"]'),
    ("    calls: [inventory]", '    calls: ["inventory\\n"]'),
    ("      requests: {cpu: 250m, memory: 256Mi}", '      requests: {cpu: "250m\\n", memory: 256Mi}'),
    ("      requests: {cpu: 250m, memory: 256Mi}", '      requests: {cpu: 250m, memory: "256Mi\\n"}'),
    ('    quota: {cpu: "4", memory: 8Gi, pods: 20}\n  - name: fulfillment',
     '    quota: {cpu: "4\\n", memory: 8Gi, pods: 20}\n  - name: fulfillment'),
    (ORDERS_CALLS, ORDERS_CALLS + '    public: {host: "api.example.com\\n"}\n'),
    (ORDERS_CALLS, ORDERS_CALLS + '    public: {host: api.example.com, path: "/orders\\n"}\n'),
    (ORDERS_CALLS, ORDERS_CALLS + '    probes: {liveness: {path: "/healthz\\n"}}\n'),
    (ORDERS_CALLS, ORDERS_CALLS + '    metrics: {path: "/metrics\\n"}\n'),
    (ORDERS_CALLS, ORDERS_CALLS + '    formerNames: ["order-taker\\n"]\n'),
    (ORDERS_CALLS, ORDERS_CALLS + '    api: {type: openapi, definition: "x.yaml\\n"}\n'),
]


@pytest.mark.parametrize(("old", "new"), NEWLINE_CASES, ids=[
    "service-name", "team-ref", "namespace", "cost-center", "owner", "secret", "image", "env-name", "topic",
    "consumed-topic", "call", "cpu", "memory", "quota-cpu", "host", "public-path", "probe-path", "metrics-path",
    "former-name", "api-definition"])
def test_trailing_newline_is_refused(tmp_path, capsys, old, new):
    bad = mutate(old, new)
    res = validate(tmp_path, capsys, bad)
    refused_at(res, line_of(bad, "\\n"))


def test_patterns_are_checked_by_the_rust_engine():
    """pydantic-core's Rust regex ends ``$`` at the end of the text; its Python fallback (used
    for look-arounds) would let a trailing newline through, so no model pattern needs it."""
    from pydantic import BaseModel

    import paved.model as model
    import paved.stack as stack

    for module in (model, stack):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                assert obj.model_config.get("regex_engine", "rust-regex") == "rust-regex", obj


# --- 5. Kubernetes and AWS naming rules ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [("cc 1", "not a label value"), ("cc-1-", "not a label value"), ("c" * 64, "at most 63"),
     ("<cc>", "not a label value"), ("-cc", "not a label value")],
)
def test_cost_center_must_be_a_label_value(tmp_path, capsys, value, message):
    bad = mutate("    costCenter: cc-1\n", f'    costCenter: "{value}"\n')
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].costCenter", line_of(bad, 'costCenter: "'), message)


@pytest.mark.parametrize(
    ("value", "message"),
    [("<checkout@example.com>", "AWS tags do not allow"), ("team;drop", "AWS tags do not allow"),
     ("o" * 257, "at most 256"), ("a\\tb@example.com", "AWS tags do not allow")],
)
def test_owner_must_be_an_aws_tag_value(tmp_path, capsys, value, message):
    bad = mutate("    owner: checkout@example.com\n", f'    owner: "{value}"\n')
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].owner", line_of(bad, 'owner: "'), message)


def test_owner_in_any_script_is_an_aws_tag_value(tmp_path, capsys):
    res = validate(tmp_path, capsys, mutate("    owner: checkout@example.com\n", "    owner: Équipe Caisse (paiements)\n"))
    assert "AWS tags do not allow ('()')" in res.err
    res = validate(tmp_path, capsys, mutate("    owner: checkout@example.com\n", "    owner: Équipe Caisse @ Zürich\n"))
    assert res.rc == 0, res.err


@pytest.mark.parametrize(
    ("tag", "message"),
    [("1." + "0" * 70, "at most 63"), ("_build1", "not a label value"), ("1.0-", "not a label value")],
)
def test_image_tag_must_be_a_label_value(tmp_path, capsys, tag, message):
    bad = mutate("    image: registry.example.com/shop/orders:1.0.0", f"    image: registry.example.com/shop/orders:{tag}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].image", line_of(bad, "orders:"), message, "app.kubernetes.io/version")


@pytest.mark.parametrize("topic", [".", "..", "t" * 250, "order placed", "ordér", "a/b"])
def test_topic_name_must_be_legal_in_kafka(tmp_path, capsys, topic):
    bad = mutate("        - {name: order-placed}", f'        - {{name: "{topic}"}}')
    res = validate(tmp_path, capsys, bad)
    refused_at(res, line_of(bad, '- {name: "'), "not a valid Kafka topic name")


@pytest.mark.parametrize(("description", "message"), [("x" * 2049, "at most 2048"), ("", "at least 1")])
def test_secret_description_fits_secrets_manager(tmp_path, capsys, description, message):
    bad = mutate("    secrets: [db-password]", f'    secrets: [{{name: db-password, description: "{description}"}}]')
    refused_at(validate(tmp_path, capsys, bad), line_of(bad, "    secrets:"), message)


@pytest.mark.parametrize("topic", ["__consumer_offsets", "__transaction_state", "__amazon_msk_canary", "__mine"])
@pytest.mark.parametrize("where", ["produces", "consumes"])
def test_internal_topic_names_are_refused(tmp_path, capsys, topic, where):
    old, new = (("        - {name: order-placed}", f'        - {{name: "{topic}"}}') if where == "produces" else
                ("      consumes: [stock-reserved]", f'      consumes: ["{topic}"]'))
    bad = mutate(old, new)
    refused_at(validate(tmp_path, capsys, bad), line_of(bad, topic), "keep for their internal topics")


@pytest.mark.parametrize("topic", ["order_placed", "order.placed", "ORDER-PLACED", "Order_Placed"])
def test_topics_that_differ_only_by_separator_or_case_collide(tmp_path, capsys, topic):
    bad = mutate(SHIPPING_END, f"{SHIPPING_END}\n    kafka:\n      produces: [{{name: {topic}}}]")
    res = validate(tmp_path, capsys, bad)
    expect(res, f"services[shipping].kafka.produces[{topic}].name", line_of(bad, f"name: {topic}"),
           "collides with topic 'order-placed'", "KAFKA_TOPIC_ORDER_PLACED")


@pytest.mark.parametrize(
    "host",
    ["a..example.com", "-a.example.com", "a-.example.com", f"{'a' * 64}.example.com",
     ".".join(["a" * 60] * 5) + ".com", "localhost", "API.example.com", "*.example.com", "api.example.com."],
    ids=["empty-label", "leading-dash", "trailing-dash", "label-too-long", "host-too-long", "single-label",
         "uppercase", "wildcard", "trailing-dot"],
)
def test_public_host_must_be_a_valid_name(tmp_path, capsys, host):
    bad = mutate(ORDERS_CALLS, f'{ORDERS_CALLS}    public: {{host: "{host}"}}\n')
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].public.host", line_of(bad, "public:"), "not a fully qualified host name")


@pytest.mark.parametrize(("first", "second"), [("/orders", "/orders"), ("/orders", "/orders/"), ("/", "/")])
def test_public_route_is_unique(tmp_path, capsys, first, second):
    bad = mutate(ORDERS_CALLS, f"{ORDERS_CALLS}    public: {{host: api.example.com, path: {first}}}\n")
    bad = mutate(SHIPPING_END, f"{SHIPPING_END}\n    public: {{host: api.example.com, path: {second}}}", bad)
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[shipping].public", line_of(bad, f"path: {second}}}", last=True),
           "is already the public route of service 'orders'")


def test_public_route_is_unique_in_each_environment(tmp_path, capsys):
    bad = mutate(ORDERS_CALLS, f"{ORDERS_CALLS}    public: {{host: api.example.com, path: /orders}}\n")
    bad = mutate(SHIPPING_END, f"{SHIPPING_END}\n    public: {{host: api.example.com, path: /ship}}\n"
                 "    overrides:\n      staging:\n        public: {host: api.example.com, path: /orders}", bad)
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[shipping].overrides.staging.public", line_of(bad, "path: /orders}", last=True),
           "is already the public route of service 'orders' (in environment staging)")


# --- 6. quantities, with Kubernetes' grammar ----------------------------------------------------


@pytest.mark.parametrize(
    ("requests", "field", "message"),
    [
        ('{cpu: "0", memory: 256Mi}', "cpu", "must be positive"),
        ("{cpu: 0m, memory: 256Mi}", "cpu", "must be positive"),
        ("{cpu: 250m, memory: 0Gi}", "memory", "must be positive"),
        ('{cpu: " 100m", memory: 256Mi}', "cpu", "not a CPU quantity"),
        ('{cpu: "100m ", memory: 256Mi}', "cpu", "not a CPU quantity"),
        ('{cpu: "١", memory: 256Mi}', "cpu", "not a CPU quantity"),
        ('{cpu: 250m, memory: "１Gi"}', "memory", "not a memory quantity"),
        ("{cpu: -1, memory: 256Mi}", "cpu", "must be positive"),
        ("{cpu: 250m, memory: 1K}", "memory", "not a memory quantity"),
        ("{cpu: 250m, memory: 1e999}", "memory", "not a memory quantity"),
        ("{cpu: .inf, memory: 256Mi}", "cpu", "not a CPU quantity"),
    ],
    ids=["cpu-zero", "cpu-zero-milli", "memory-zero", "leading-space", "trailing-space", "arabic-digit",
         "fullwidth-digit", "negative", "upper-k", "huge", "infinity"],
)
def test_bad_quantity_is_refused(tmp_path, capsys, requests, field, message):
    bad = mutate("      requests: {cpu: 250m, memory: 256Mi}", f"      requests: {requests}")
    res = validate(tmp_path, capsys, bad)
    refused_at(res, line_of(bad, requests), field, message)


@pytest.mark.parametrize("limits", ['{cpu: ".5", memory: 5e8}', "{cpu: .5, memory: 512Mi}", "{cpu: 5e-1, memory: 0.5Gi}",
                                    '{cpu: "500m", memory: "536870912"}', "{cpu: 1, memory: 400M}"])
def test_kubernetes_quantity_forms_are_accepted(tmp_path, capsys, limits):
    res = validate(tmp_path, capsys, mutate("      limits: {cpu: 500m, memory: 512Mi}", f"      limits: {limits}"))
    assert res.rc == 0, res.err


def test_zero_quota_is_refused(tmp_path, capsys):
    bad = mutate('    quota: {cpu: "4", memory: 8Gi, pods: 20}\n  - name: fulfillment',
                 '    quota: {cpu: "0", memory: 8Gi, pods: 20}\n  - name: fulfillment')
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].quota.cpu", line_of(bad, 'cpu: "0"'), "must be positive")


# --- 7. duplicates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("    secrets: [db-password]", "    secrets: [db-password, {name: db-password, rotation: third-party}]",
         "services[orders].secrets[db-password]", "secret 'db-password' is listed twice"),
        ("      consumes: [stock-reserved]", "      consumes: [stock-reserved, stock-reserved]",
         "services[orders].kafka.consumes[1]", "topic 'stock-reserved' is listed twice"),
        ("        - {name: order-placed}", "        - {name: order-placed}\n        - {name: order-placed, partitions: 6}",
         "services[orders].kafka.produces[order-placed].name", "topic 'order-placed' is listed twice"),
        ("    calls: [inventory]", "    calls: [inventory, inventory]", "services[orders].calls[1]", "service 'inventory' is listed twice"),
        (ORDERS_CALLS, ORDERS_CALLS + "    formerNames: [taker, taker]\n", "services[orders].formerNames[1]",
         "name 'taker' is listed twice"),
    ],
    ids=["secret", "consumed-topic", "produced-topic", "call", "former-name"],
)
def test_duplicate_entries_are_refused(tmp_path, capsys, old, new, field, message):
    bad = mutate(old, new)
    res = validate(tmp_path, capsys, bad)
    needle = new.strip().splitlines()[-1]
    expect(res, field, line_of(bad, needle), message)


# --- 9. hostile YAML -----------------------------------------------------------------------------


def laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (laughs(), 1, f"aliases expand to more than {MAX_ALIAS_NODES} extra values"),
        ("teams: " + "[" * 5000 + "]" * 5000 + "\n", 1, f"nesting deeper than {MAX_DEPTH} levels"),
        ("teams: " + "[" * 200 + "]" * 200 + "\n", 1, f"nesting deeper than {MAX_DEPTH} levels"),
        ("teams:\n" + "".join(" " * (2 * i + 2) + "-\n" for i in range(2000)), MAX_DEPTH + 1, "nesting deeper"),
        ("teams: &a [*a]\n", 1, "recursive alias"),
        ("teams:\n  - quota: {pods: " + "9" * 5000 + "}\n", 2, "cannot read value"),
        ("teams:\n  - name: x\n    since: 2024-13-45\n", 3, "cannot read value"),
        ("teams:\n  - name: \x07\n", 2, "unacceptable character #x0007"),
    ],
    ids=["billion-laughs", "deep-flow", "deep-flow-200", "deep-block", "recursive-alias", "huge-int", "bad-date", "control-char"],
)
def test_hostile_yaml_is_refused_quickly(tmp_path, capsys, text, line, message):
    start = time.monotonic()
    res = validate(tmp_path, capsys, text)
    assert time.monotonic() - start < 20
    assert res.rc == 1
    assert [(r.line, message in r.rest) for r in res.reported] == [(line, True)], res.err


def test_file_larger_than_the_cap_is_refused_without_parsing(tmp_path, capsys):
    path = tmp_path / "catalog.yaml"
    with path.open("wb") as fh:
        fh.write(b"teams: []\nservices: []\n")
        fh.write(b"#" * MAX_FILE_BYTES)
    start = time.monotonic()
    res = run_cli(capsys, path)
    assert time.monotonic() - start < 5
    assert [r.rest for r in res.reported] == [f"file is larger than {MAX_FILE_BYTES // 2**20} MB; split it or remove generated content"]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_is_refused(capsys):
    res = run_cli(capsys, "/dev/zero")
    assert res.rc == 1 and "larger than" in res.err


RESOURCES = "    resources:\n      requests: {cpu: 100m, memory: 64Mi}\n      limits: {cpu: 100m, memory: 64Mi}\n"


def test_merge_keys_are_supported(tmp_path, capsys):
    bad = mutate("    resources:\n      requests: {cpu: 100m, memory: 128Mi}", "    resources: &small\n      requests: {cpu: 100m, memory: 128Mi}")
    good = mutate(RESOURCES, "    resources:\n      <<: *small\n", bad)
    res = validate(tmp_path, capsys, good)
    assert res.rc == 0, res.err
    from paved.catalog import load_catalog
    from paved.stack import list_stacks
    from test_validate import ROOT

    catalog = load_catalog(tmp_path / "catalog.yaml", {env: None for env in list_stacks(ROOT)})
    assert catalog.service("shipping").resources == catalog.service("inventory").resources


def test_merge_key_explicit_keys_win_and_errors_point_at_the_merged_lines(tmp_path, capsys):
    anchored = mutate("    resources:\n      requests: {cpu: 100m, memory: 128Mi}", "    resources: &small\n      requests: {cpu: 100m, memory: 128Mi}")
    bad = mutate(RESOURCES, "    resources:\n      <<: *small\n      limits: {cpu: 50m, memory: 128Mi}\n", anchored)
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[shipping].resources.limits.cpu", line_of(bad, "limits: {cpu: 50m"), "limit 50m is below the request 100m")


def test_merge_key_of_a_scalar_is_refused_with_its_line(tmp_path, capsys):
    bad = mutate(RESOURCES, "    resources:\n      <<: small\n")
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 1
    assert [r.line for r in res.reported if "merge key" in r.rest] == [line_of(bad, "<<: small")]


# --- 10. encoding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "col"),
    [(b"teams:\n  - name: caf\xe9\n", 2, 14), (b"\xff\xfet\x00e\x00a\x00m\x00", 1, 1), (b"services: []\nteams: [\x80]\n", 2, 9)],
    ids=["latin-1", "utf-16", "stray-continuation-byte"],
)
def test_non_utf8_catalog_is_one_located_line(tmp_path, capsys, data, line, col):
    path = tmp_path / "catalog.yaml"
    path.write_bytes(data)
    res = run_cli(capsys, path)
    assert res.rc == 1
    assert [(r.line, r.col) for r in res.reported] == [(line, col)]
    assert "not UTF-8 text" in res.reported[0].rest and "save the file as UTF-8" in res.reported[0].rest
