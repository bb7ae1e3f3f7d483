"""``paved secrets status|put`` against moto's server on 127.0.0.1 — never a real account.

Every test runs with the developer's AWS setup removed (all ``AWS_*`` variables unset, empty
config and credentials files, instance metadata disabled) and ``AWS_ENDPOINT_URL`` pointing
at the local moto server, which is reset before each test.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import socket
import sys
import urllib.request

import boto3
import pytest
from botocore.stub import Stubber

from conftest import ROOT
from paved import cli, secrets_cmd
from paved.errors import PavedError, UsageError

STACK = "dev"
REGION = "us-east-1"  # aws:region of stacks/Pulumi.dev.yaml
CATALOG = ROOT / "services_catalog.yaml"
VALUE = "pa55-W0rd!with spaces and ünïcode"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines in stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        assert host == "127.0.0.1"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _no_proxy_opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No AWS configuration from the developer's machine: no variables, empty files, no IMDS."""
    for var in list(os.environ):
        if var.startswith("AWS_"):
            monkeypatch.delenv(var)
    (tmp_path / "aws-config").write_text("")
    (tmp_path / "aws-credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return monkeypatch


@pytest.fixture
def aws(isolated, moto_url):
    """Fake credentials, the endpoint at moto, and a freshly reset moto."""
    isolated.setenv("AWS_ACCESS_KEY_ID", "testing")
    isolated.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    isolated.setenv("AWS_ENDPOINT_URL", moto_url)
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST", data=b"")
    with _no_proxy_opener().open(request, timeout=10) as resp:
        assert resp.status == 200
    return moto_url


@pytest.fixture
def sm(aws):
    """The test's own Secrets Manager client (plays Pulumi, and reads values back)."""
    client = boto3.client("secretsmanager", region_name=REGION)
    assert client.meta.endpoint_url == aws
    return client


def _declared() -> list[tuple[str, str, str]]:
    from paved.engine import load_inputs
    from paved.naming import every_secret

    settings, catalog = load_inputs(ROOT, STACK, CATALOG)
    return [(svc, sec, name) for svc, sec, name, _ in every_secret(catalog, settings.environment)]


def _name(service: str, secret: str) -> str:
    return next(n for svc, sec, n in _declared() if (svc, sec) == (service, secret))


def _create_like_pulumi(sm, *pairs: tuple[str, str]) -> list[str]:
    """Create secrets the way the platform program does: derived name, KMS key, no value."""
    key = boto3.client("kms", region_name=REGION).create_key(Description="paved secrets")["KeyMetadata"]["KeyId"]
    names = []
    for service, secret in pairs:
        name = _name(service, secret)
        sm.create_secret(Name=name, KmsKeyId=key, Description=f"{secret} of {service}", Tags=[{"Key": "paved:service", "Value": service}])
        names.append(name)
    return names


def _pipe(text: str | bytes) -> io.TextIOWrapper:
    """A non-terminal standard input holding ``text``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


class _MustNotRead(io.RawIOBase):
    """A standard input that fails the test if the command reads it."""

    def isatty(self):
        return False

    def readable(self):
        return True

    def readinto(self, b):
        raise AssertionError("standard input was read")

    @property
    def buffer(self):
        return self


def _wired() -> bool:
    return "secrets" in getattr(cli, "COMMANDS", {})


def run_cli(argv: list[str], monkeypatch, stdin=None) -> int:
    """``paved ARGV`` with ``stdin``: through ``paved.cli.main`` once it has the command,
    otherwise through the same parser and the same error-to-exit-code mapping."""
    monkeypatch.setattr(sys, "stdin", stdin if stdin is not None else _MustNotRead())
    if _wired():
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="paved")
    sub = parser.add_subparsers(dest="command", required=True)
    secrets_cmd.add_parser(sub, cli._stack_arg, cli._catalog_arg)
    args = parser.parse_args(argv)
    try:
        return secrets_cmd.run(args, ROOT, args.catalog or CATALOG)
    except UsageError as exc:
        print(f"paved: error: {exc}", file=sys.stderr)
        return 2
    except PavedError as exc:
        print(f"paved: error: {exc}", file=sys.stderr)
        return 1


def _single_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("paved: error: ") and "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------------- endpoint


def test_boto3_honours_endpoint_variables(aws, isolated):
    """The tests rely on boto3 reading AWS_ENDPOINT_URL[_SECRETS_MANAGER] itself."""
    assert secrets_cmd.make_client(REGION).meta.endpoint_url == aws
    isolated.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    isolated.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws)
    assert secrets_cmd.make_client(REGION).meta.endpoint_url == aws


# ----------------------------------------------------------------------------- status


def test_status_nothing_created(sm, capsys, monkeypatch):
    statuses = secrets_cmd.status(ROOT, STACK, CATALOG)
    assert [(s.service, s.secret, s.name) for s in statuses] == _declared()
    assert len(statuses) == 12  # 7 service secrets, 5 alert receiver secrets
    assert all(not s.exists and not s.has_value and s.region == REGION for s in statuses)

    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "12 declared, 0 exist, 0 with a value" in out
    header = next(line for line in out.splitlines() if line.startswith("SERVICE"))
    assert header.split() == ["SERVICE", "SECRET", "NAME", "EXISTS", "HAS", "VALUE", "LAST", "CHANGED"]
    row = next(line for line in out.splitlines() if "dev/checkout/orders/db-password" in line)
    assert row.split() == ["orders", "db-password", "dev/checkout/orders/db-password", "no", "no", "-"]
    assert "12 missing: `pulumi up --stack dev` creates them" in out


def test_status_created_without_value(sm, capsys, monkeypatch):
    created = _create_like_pulumi(sm, ("orders", "db-password"), ("payments", "provider-api-key"))
    by_name = {s.name: s for s in secrets_cmd.status(ROOT, STACK, CATALOG)}
    for name in created:
        assert by_name[name].exists and not by_name[name].has_value
        assert by_name[name].last_changed is not None
    assert sum(s.exists for s in by_name.values()) == 2

    import json

    assert run_cli(["secrets", "status", "--stack", STACK, "--format", "json"], monkeypatch) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["stack"] == STACK and doc["region"] == REGION
    row = next(r for r in doc["secrets"] if r["name"] == "dev/checkout/payments/provider-api-key")
    assert row["exists"] is True and row["hasValue"] is False and row["lastChanged"]
    assert set(row) == {"service", "secret", "name", "region", "exists", "hasValue", "lastChanged", "deletionDate",
                        "rotation"}
    assert row["rotation"] == "third-party"
    assert next(r for r in doc["secrets"] if r["name"] == "dev/checkout/orders/db-password")["rotation"] == "managed"


def _rotation(service: str, secret: str) -> str:
    from paved.engine import load_inputs
    from paved.naming import every_secret

    settings, catalog = load_inputs(ROOT, STACK, CATALOG)
    return next(rot for svc, sec, _, rot in every_secret(catalog, settings.environment) if (svc, sec) == (service, secret))


def test_require_values_is_the_deploy_gate(sm, capsys, monkeypatch):
    """Pods mount their secrets: a stack whose third-party secrets are missing or empty must not deploy."""
    _create_like_pulumi(sm, ("payments", "provider-api-key"))
    assert run_cli(["secrets", "status", "--stack", STACK, "--require-values"], monkeypatch) == 1
    err = capsys.readouterr().err
    assert ("dev/checkout/payments/provider-api-key has no value; then: paved secrets put --stack dev payments "
            "provider-api-key") in err
    assert "dev/engagement/notifications/smtp-password is not created yet" in err
    for service, secret, name in _declared():
        if name != "dev/checkout/payments/provider-api-key":
            _create_like_pulumi(sm, (service, secret))
        if _rotation(service, secret) == "third-party":
            sm.put_secret_value(SecretId=name, SecretString="x")
    assert run_cli(["secrets", "status", "--stack", STACK, "--require-values"], monkeypatch) == 0
    assert capsys.readouterr().err == ""


def test_require_values_never_waits_for_managed_secrets(sm, capsys, monkeypatch):
    """A managed secret gets its first value from the cluster during the deploy (a PushSecret of a
    generated password): the gate before the deploy must not wait for it, empty or not yet created."""
    managed = [(svc, sec, name) for svc, sec, name in _declared() if _rotation(svc, sec) == "managed"]
    assert managed
    for service, secret, name in _declared():
        if _rotation(service, secret) == "third-party":
            _create_like_pulumi(sm, (service, secret))
            sm.put_secret_value(SecretId=name, SecretString="x")
    _create_like_pulumi(sm, managed[0][:2])  # one created and empty, the others not created yet
    assert run_cli(["secrets", "status", "--stack", STACK, "--require-values"], monkeypatch) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "managed without a value yet: the cluster generates it on deploy" in captured.out


def test_status_never_reads_a_value(aws):
    """status works with no GetSecretValue at all: a stubbed client that only answers DescribeSecret."""
    client = boto3.client("secretsmanager", region_name=REGION)
    stub = Stubber(client)
    for _, _, name in _declared():
        stub.add_response(
            "describe_secret",
            {"Name": name, "ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf", "VersionIdsToStages": {"v" * 32: ["AWSPREVIOUS"]}},
            {"SecretId": name},
        )
    with stub:
        statuses = secrets_cmd.status(ROOT, STACK, CATALOG, client=client)
    stub.assert_no_pending_responses()
    # Only an AWSPREVIOUS version: there is no current value.
    assert all(s.exists and not s.has_value for s in statuses)


def test_stack_region_wins_over_environment(sm, isolated):
    isolated.setenv("AWS_REGION", "eu-west-1")
    isolated.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    name = _name("orders", "db-password")
    sm.create_secret(Name=name)  # in us-east-1, the stack's region
    boto3.client("secretsmanager", region_name="eu-west-1").create_secret(Name=_name("inventory", "db-password"))
    found = {s.name: s for s in secrets_cmd.status(ROOT, STACK, CATALOG)}
    assert found[name].exists and found[name].region == REGION
    assert not found[_name("inventory", "db-password")].exists


def test_status_shows_scheduled_deletion(sm, capsys, monkeypatch):
    (name,) = _create_like_pulumi(sm, ("shipping", "carrier-api-token"))
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    found = {s.name: s for s in secrets_cmd.status(ROOT, STACK, CATALOG)}
    assert found[name].exists and found[name].deletion_date is not None
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if name in line)
    assert row.split()[3] == "deleting"
    assert "1 scheduled for deletion" in out


# ----------------------------------------------------------------------------- put


def test_put_stores_stdin_then_status_has_value(sm, capsys, monkeypatch):
    (name,) = _create_like_pulumi(sm, ("payments", "provider-api-key"))
    code = run_cli(["secrets", "put", "--stack", STACK, "payments", "provider-api-key"], monkeypatch, _pipe(VALUE + "\n"))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"stored a new value for {name} in {REGION} (AWSCURRENT, version " in captured.out
    assert sm.get_secret_value(SecretId=name)["SecretString"] == VALUE
    assert VALUE not in captured.out + captured.err

    by_name = {s.name: s for s in secrets_cmd.status(ROOT, STACK, CATALOG)}
    assert by_name[name].exists and by_name[name].has_value
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "1 exist, 1 with a value" in out and VALUE not in out
    row = next(line for line in out.splitlines() if name in line)
    assert row.split()[3:5] == ["yes", "yes"]


@pytest.mark.parametrize(
    ("stdin", "stored"),
    [
        ("value\n", "value"),
        ("value", "value"),
        ("value\n\n", "value\n"),
        ("  spaced value \t\n", "  spaced value \t"),
        ("-----BEGIN KEY-----\nabc\n-----END KEY-----\n", "-----BEGIN KEY-----\nabc\n-----END KEY-----"),
    ],
)
def test_put_strips_exactly_one_trailing_newline(sm, stdin, stored):
    (name,) = _create_like_pulumi(sm, ("payments", "provider-api-key"))
    secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe(stdin))
    assert sm.get_secret_value(SecretId=name)["SecretString"] == stored


def test_put_replaces_the_current_value(sm):
    (name,) = _create_like_pulumi(sm, ("payments", "provider-api-key"))
    first = secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe("one\n"))
    second = secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe("two\n"))
    assert first.version_id != second.version_id
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_put_refuses_an_empty_value(sm, capsys, monkeypatch, stdin):
    (name,) = _create_like_pulumi(sm, ("payments", "provider-api-key"))
    assert run_cli(["secrets", "put", "--stack", STACK, "payments", "provider-api-key"], monkeypatch, _pipe(stdin)) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "empty value" in line and name in line and "nothing stored" in line
    assert "VersionIdsToStages" not in sm.describe_secret(SecretId=name)


def test_put_refuses_non_utf8_and_oversized_values(sm):
    _create_like_pulumi(sm, ("payments", "provider-api-key"))
    with pytest.raises(PavedError, match="not UTF-8 text"):
        secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe(b"\xff\xfe secret"))
    with pytest.raises(PavedError, match="longer than Secrets Manager's limit of 65536 bytes"):
        secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe("x" * 65537 + "\n"))
    # Exactly at the limit, plus the newline: accepted.
    secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe("x" * 65536 + "\n"))


def test_put_from_a_terminal_uses_getpass(sm, monkeypatch):
    (name,) = _create_like_pulumi(sm, ("notifications", "smtp-password"))
    prompts = []

    class Terminal(io.StringIO):
        def isatty(self):
            return True

        def read(self, *a):
            raise AssertionError("a terminal is read with getpass, not echoed")

    def fake_getpass(prompt="Password: ", stream=None):
        prompts.append(prompt)
        return VALUE

    monkeypatch.setattr(secrets_cmd.getpass, "getpass", fake_getpass)
    secrets_cmd.put(ROOT, STACK, CATALOG, "notifications", "smtp-password", Terminal())
    assert prompts and name in prompts[0] and "hidden" in prompts[0]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == VALUE


def test_put_unknown_service_lists_services(aws, capsys, monkeypatch):
    assert run_cli(["secrets", "put", "--stack", STACK, "billing", "db-password"], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "unknown service 'billing'" in line
    assert "orders, payments, inventory, shipping, notifications, analytics" in line


def test_put_unknown_secret_lists_the_services_secrets(aws, capsys, monkeypatch):
    assert run_cli(["secrets", "put", "--stack", STACK, "payments", "api-key"], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "service 'payments' declares no secret 'api-key'" in line
    assert "provider-api-key, db-password" in line


def test_put_secret_missing_in_aws_says_run_pulumi_up(sm, capsys, monkeypatch):
    assert run_cli(["secrets", "put", "--stack", STACK, "orders", "db-password"], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "dev/checkout/orders/db-password does not exist in us-east-1" in line
    assert "`pulumi up --stack dev`" in line
    # paved never creates the secret itself.
    assert sm.list_secrets()["SecretList"] == []


def test_put_refuses_a_secret_scheduled_for_deletion(sm, capsys, monkeypatch):
    (name,) = _create_like_pulumi(sm, ("orders", "db-password"))
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    assert run_cli(["secrets", "put", "--stack", STACK, "orders", "db-password"], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "scheduled for deletion" in line and "restore-secret" in line


def test_value_as_an_argument_is_refused_without_echo(aws, capsys, monkeypatch):
    argv = ["secrets", "put", "--stack", STACK, "orders", "db-password", VALUE]
    assert run_cli(argv, monkeypatch) == 2
    captured = capsys.readouterr()
    line = _single_error_line(captured.err)
    assert "standard input" in line
    assert VALUE not in captured.out + captured.err


# ----------------------------------------------------------------------------- AWS failures


def test_no_credentials(isolated, moto_url, capsys, monkeypatch):
    isolated.setenv("AWS_ENDPOINT_URL", moto_url)  # even so, nothing is sent without credentials
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "no AWS credentials found" in line and "AWS_PROFILE" in line and "AWS_ACCESS_KEY_ID" in line

    # put refuses before reading the value (_MustNotRead would fail the test).
    assert run_cli(["secrets", "put", "--stack", STACK, "orders", "db-password"], monkeypatch) == 1
    assert "no AWS credentials found" in _single_error_line(capsys.readouterr().err)


def test_unknown_profile(isolated, capsys, monkeypatch):
    isolated.setenv("AWS_PROFILE", "nope")
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "nope" in line and "AWS_PROFILE" in line


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_endpoint_unreachable(aws, isolated, capsys, monkeypatch):
    isolated.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    isolated.setenv("AWS_MAX_ATTEMPTS", "1")
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "cannot reach Secrets Manager at http://127.0.0.1:" in line
    assert "dev/checkout/orders/db-password" in line


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"])
def test_endpoint_that_is_not_a_url_is_one_line(aws, isolated, capsys, monkeypatch, variable):
    isolated.setenv(variable, "notaurl")
    assert run_cli(["secrets", "status", "--stack", STACK], monkeypatch) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert "notaurl" in line and "AWS_ENDPOINT_URL" in line


def test_client_time_is_bounded(aws):
    config = secrets_cmd.make_client(REGION).meta.config
    assert config.connect_timeout <= 5 and config.read_timeout <= 15
    assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] == 2


def test_every_secrets_option_has_help():
    parser = argparse.ArgumentParser(prog="paved")
    sub = parser.add_subparsers(dest="command")
    secrets = secrets_cmd.add_parser(sub, cli._stack_arg, cli._catalog_arg)
    for action in secrets._subparsers._group_actions[0].choices.values():
        for option in action._actions:
            if option.dest not in ("help", "value_args"):
                assert option.help, (action.prog, option.dest)


def _stubbed() -> tuple[object, Stubber]:
    client = boto3.client("secretsmanager", region_name=REGION)
    return client, Stubber(client)


def test_access_denied_names_the_secret(aws):
    client, stub = _stubbed()
    name = _name("orders", "db-password")
    stub.add_client_error(
        "describe_secret",
        service_error_code="AccessDeniedException",
        service_message=f"User: arn:aws:iam::123456789012:user/dev is not authorized to perform:\nsecretsmanager:DescribeSecret on resource: {name}",
        http_status_code=400,
    )
    with stub, pytest.raises(PavedError) as exc:
        secrets_cmd.status(ROOT, STACK, CATALOG, client=client)
    message = str(exc.value)
    assert message.startswith(f"access denied: cannot describe secret {name} (us-east-1): User: arn:aws:iam::")
    assert "\n" not in message


def test_rejected_credentials(aws):
    client, stub = _stubbed()
    stub.add_client_error("describe_secret", service_error_code="UnrecognizedClientException", service_message="The security token included in the request is invalid.", http_status_code=400)
    with stub, pytest.raises(PavedError, match=r"AWS rejected the credentials \(UnrecognizedClientException\)"):
        secrets_cmd.status(ROOT, STACK, CATALOG, client=client)


def test_put_failure_never_carries_the_value(aws, capsys):
    """Even if AWS's message were to quote the input, the error text does not."""
    client, stub = _stubbed()
    name = _name("payments", "provider-api-key")
    stub.add_response("describe_secret", {"Name": name, "ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf"})
    stub.add_client_error(
        "put_secret_value",
        service_error_code="AccessDeniedException",
        service_message=f"Access to KMS is not allowed (input was {VALUE})",
        http_status_code=400,
    )
    with stub, pytest.raises(PavedError) as exc:
        secrets_cmd.put(ROOT, STACK, CATALOG, "payments", "provider-api-key", _pipe(VALUE + "\n"), client=client)
    message = str(exc.value)
    assert message.startswith(f"access denied: cannot store a value in secret {name} (us-east-1): Access to KMS is not allowed")
    assert VALUE not in message and "[value hidden]" in message
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
    captured = capsys.readouterr()
    assert VALUE not in captured.out + captured.err


# ----------------------------------------------------------------------------- put on a managed secret


@pytest.mark.parametrize("stdin", ["plain-password\n", '["password"]', '{"pass": "x"}', '{"password": 12}',
                                   '{"password": ""}', '{"password": "x"'])
def test_put_on_a_managed_secret_needs_json_with_a_password(sm, capsys, monkeypatch, stdin):
    """The rotation Lambda (AWS's templates) parses a managed secret as JSON, and its ExternalSecret
    reads `password`: anything else would break rotation or the service; refused, nothing stored."""
    (name,) = _create_like_pulumi(sm, ("orders", "db-password"))
    assert run_cli(["secrets", "put", "--stack", STACK, "orders", "db-password"], monkeypatch, _pipe(stdin)) == 1
    line = _single_error_line(capsys.readouterr().err)
    assert f"{name} is a platform-managed secret (rotation: managed)" in line
    assert 'JSON object with a non-empty string "password" key' in line and "nothing stored" in line
    assert stdin.strip() not in line  # the input is described, never repeated
    assert not sm.describe_secret(SecretId=name).get("VersionIdsToStages")


def test_put_on_a_managed_secret_stores_its_json(sm, capsys, monkeypatch):
    (name,) = _create_like_pulumi(sm, ("orders", "db-password"))
    value = '{"password": "' + "s3cr3t-" * 4 + '", "username": "orders"}'
    assert run_cli(["secrets", "put", "--stack", STACK, "orders", "db-password"], monkeypatch, _pipe(value + "\n")) == 0
    assert sm.get_secret_value(SecretId=name)["SecretString"] == value


def test_alert_receiver_secrets_are_listed_and_put(sm, capsys, monkeypatch):
    """The alert receivers' credentials (docs/alerting.md) are filled like any third-party secret."""
    created = _create_like_pulumi(sm, ("_alerts", "checkout/slack"))
    assert created == ["dev/_alerts/checkout/slack"]
    by_name = {s.name: s for s in secrets_cmd.status(ROOT, STACK, CATALOG)}
    assert by_name["dev/_alerts/checkout/slack"].rotation == "third-party"
    assert "dev/_alerts/smtp" in by_name
    assert run_cli(["secrets", "put", "--stack", STACK, "_alerts", "checkout/slack"], monkeypatch,
                   stdin=io.StringIO("https://hooks.example.invalid/T0/B0/x\n")) == 0
    stored = sm.get_secret_value(SecretId="dev/_alerts/checkout/slack")["SecretString"]
    assert stored == "https://hooks.example.invalid/T0/B0/x"
    assert "hooks.example.invalid" not in capsys.readouterr().out


def test_unknown_alert_receiver_secret_names_the_choices():
    with pytest.raises(PavedError, match=r"no alert receiver secret 'checkout/email'; they are: .*checkout/slack"):
        secrets_cmd._resolve(ROOT, STACK, CATALOG, "_alerts", "checkout/email")
