"""Alerts reach the owning team: the catalog's receivers, validation, and the Alertmanager
routing tree (components/alerting.py).

Routing is proven twice: by a small evaluator of Alertmanager's routing semantics over the
generated tree (runs everywhere), and by the real ``amtool config routes test`` (Debian
package ``prometheus-alertmanager``), which skips locally without amtool and fails in CI
(the ``CI`` variable set) without it, like the promtool tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.alerting import (
    PLATFORM_RECEIVER,
    RECEIVER_SECRET,
    SECRETS_DIR,
    alertmanager_config,
    receiver_name,
    receiver_secret_data,
    secret_file,
)
from components.slo import alerting_rules
from paved.catalog import load_catalog
from paved.cli import main
from paved.model import Team
from paved.naming import alert_secret_name, alert_secrets, smtp_secret_name
from paved.stack import list_stacks, load_stack

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "services_catalog.yaml"
MINIMAL = (ROOT / "tests" / "catalogs" / "minimal.yaml").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))


def stacks() -> dict:
    return {env: load_stack(ROOT, env) for env in list_stacks(ROOT)}


def sample():
    return load_catalog(CATALOG, stacks())


def config_for(env: str = "prod") -> dict:
    return alertmanager_config(sample().teams, stacks()[env].observability.smtp)


# --- a reading of Alertmanager's routing tree -------------------------------------------------

MATCHER = re.compile(r'^([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"$')


def _matches(route: dict, labels: dict[str, str]) -> bool:
    for m in route.get("matchers", []):
        parsed = MATCHER.match(m)
        assert parsed, f"this evaluator reads equality matchers only, got {m!r}"
        if labels.get(parsed[1], "") != parsed[2]:
            return False
    return True


def receivers_for(route: dict, labels: dict[str, str]) -> list[str]:
    """Receivers an alert with ``labels`` is sent to (Alertmanager's depth-first walk: the first
    matching child wins unless it sets ``continue``; a node no child matches takes the alert)."""
    found: list[str] = []
    for child in route.get("routes", []):
        if _matches(child, labels):
            found += receivers_for({**child, "receiver": child.get("receiver", route["receiver"])}, labels)
            if not child.get("continue", False):
                break
    return found or [route["receiver"]]


# --- routing ------------------------------------------------------------------------------


def test_every_team_of_the_sample_catalog_has_a_receiver():
    assert all(t.alerts is not None and t.alerts.kinds for t in sample().teams)


@pytest.mark.parametrize("team", [t.name for t in sample().teams] if CATALOG.exists() else [])
def test_an_alert_of_team_x_reaches_x_only(team):
    config = config_for()
    got = receivers_for(config["route"], {"team": team, "alertname": "ServiceErrorBudgetBurnFast",
                                          "service": "any", "severity": "critical"})
    assert got == [receiver_name(team)]


def test_alerts_without_a_team_go_to_the_platform_receiver():
    route = config_for()["route"]
    assert receivers_for(route, {"alertname": "KubePodCrashLooping", "namespace": "kube-system"}) == [PLATFORM_RECEIVER]
    # A team nobody declared is not silently somebody else's.
    assert receivers_for(route, {"alertname": "X", "team": "nobody"}) == [PLATFORM_RECEIVER]


def test_routing_tree_shape():
    config = config_for()
    route = config["route"]
    assert route["receiver"] == PLATFORM_RECEIVER
    assert route["group_by"] == ["alertname", "service"]
    assert all(child["continue"] is False for child in route["routes"])
    names = [r["name"] for r in config["receivers"]]
    assert len(names) == len(set(names))
    # Every route names a receiver that exists (Alertmanager refuses the config otherwise).
    assert {child["receiver"] for child in route["routes"]} | {route["receiver"]} <= set(names)


def test_every_generated_alert_carries_its_team():
    catalog = sample()
    for svc in catalog.services:
        team = catalog.team(svc.team)
        for rule in alerting_rules(svc, team):
            assert rule["labels"]["team"] == team.name, f"{svc.name}: {rule['alert']}"
            config = config_for()
            assert receivers_for(config["route"], rule["labels"] | {"alertname": rule["alert"]}) == \
                [receiver_name(team.name)], f"{svc.name}: {rule['alert']}"


# --- receivers: credentials are files, never values ------------------------------------------


def test_receivers_read_credentials_from_mounted_files_only():
    config = config_for()
    text = yaml.safe_dump(config)
    assert "hooks.slack.com" not in text and "routing_key:" not in text and "auth_password:" not in text
    by_name = {r["name"]: r for r in config["receivers"]}
    checkout = by_name["team-checkout"]
    assert checkout["slack_configs"][0]["api_url_file"] == f"{SECRETS_DIR}/{RECEIVER_SECRET}/checkout-slack"
    assert checkout["slack_configs"][0]["channel"] == "#checkout-alerts"
    assert checkout["pagerduty_configs"][0]["routing_key_file"] == secret_file("checkout-pagerduty")
    engagement = by_name["team-engagement"]
    email = engagement["email_configs"][0]
    assert email["to"] == "engagement-oncall@shop.example.com"
    assert email["auth_password_file"] == secret_file("smtp-password")
    assert email["smarthost"] == stacks()["prod"].observability.smtp.smarthost


def test_secret_names_follow_the_env_naming_and_cannot_clash_with_service_secrets():
    assert alert_secret_name("prod", "checkout", "slack") == "prod/_alerts/checkout/slack"
    assert smtp_secret_name("prod") == "prod/_alerts/smtp"
    with pytest.raises(ValueError, match="no per-team secret"):
        alert_secret_name("prod", "checkout", "email")
    names = [n for _, _, n in alert_secrets(sample(), "prod")]
    assert "prod/_alerts/checkout/pagerduty" in names and names.count("prod/_alerts/smtp") == 1


def test_external_secret_data_maps_each_secret_to_its_file_key():
    data = receiver_secret_data(sample().teams, "prod")
    keys = {d["secretKey"]: d["remoteRef"]["key"] for d in data}
    assert keys["checkout-slack"] == "prod/_alerts/checkout/slack"
    assert keys["checkout-pagerduty"] == "prod/_alerts/checkout/pagerduty"
    assert keys["smtp-password"] == "prod/_alerts/smtp"
    assert "engagement-email" not in keys  # e-mail uses the relay's one password


def test_email_receiver_without_a_relay_is_refused_by_the_builder():
    team = Team.model_validate({"name": "t", "owner": "t@example.com", "costCenter": "cc", "quota":
                                {"cpu": "1", "memory": "1Gi", "pods": 1}, "alerts": {"email": {"to": "t@example.com"}}})
    with pytest.raises(ValueError, match="no paved:observability.smtp"):
        alertmanager_config([team], None)


# --- validation ---------------------------------------------------------------------------


def _validate(tmp_path: Path, capsys, text: str) -> tuple[int, str]:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    rc = main(["validate", "--catalog", str(path)])
    return rc, capsys.readouterr().err


def test_team_without_receiver_is_an_error_in_the_protected_stack(tmp_path, capsys):
    bad = MINIMAL.replace('    alerts:\n      slack: {channel: "#checkout-alerts"}\n', "", 1)
    assert bad != MINIMAL
    rc, err = _validate(tmp_path, capsys, bad)
    assert rc == 1
    line = bad.splitlines().index("  - name: checkout") + 1
    assert f"catalog.yaml:{line}:5: teams[checkout].alerts: team has no alert receiver" in err, err
    assert "required in stack prod" in err and "dev" not in err.split("required in stack")[1].split(",")[0]


def test_empty_alerts_is_an_error(tmp_path, capsys):
    bad = MINIMAL.replace('    alerts:\n      slack: {channel: "#checkout-alerts"}\n', "    alerts: {}\n", 1)
    rc, err = _validate(tmp_path, capsys, bad)
    assert rc == 1
    line = bad.splitlines().index("    alerts: {}") + 1
    assert f":{line}:" in err and "teams[checkout].alerts: declares no receiver" in err, err


def test_bad_slack_channel_is_located(tmp_path, capsys):
    bad = MINIMAL.replace('{channel: "#checkout-alerts"}', '{channel: "checkout alerts"}', 1)
    rc, err = _validate(tmp_path, capsys, bad)
    assert rc == 1 and "teams[checkout].alerts.slack.channel" in err, err


def test_secret_material_is_not_a_catalog_field(tmp_path, capsys):
    bad = MINIMAL.replace('{channel: "#checkout-alerts"}',
                          '{channel: "#checkout-alerts", webhookUrl: "https://hooks.slack.com/x"}', 1)
    rc, err = _validate(tmp_path, capsys, bad)
    assert rc == 1 and "unknown field 'webhookUrl'" in err, err


# --- the real amtool ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def amtool() -> str:
    """Path of amtool (``PAVED_AMTOOL`` or on PATH); CI must have it (Debian package `prometheus-alertmanager`)."""
    path = os.environ.get("PAVED_AMTOOL") or shutil.which("amtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("amtool is required in CI: apt-get install -y prometheus-alertmanager (provides /usr/bin/amtool)")
        pytest.skip("amtool not installed (apt-get install prometheus-alertmanager); CI runs these tests")
    return path


def _config_file(tmp_path: Path) -> Path:
    """The prod config with the mounted secret files pointed at real (dummy) files under tmp_path."""
    config = config_for()
    secrets = tmp_path / "secrets"
    text = yaml.safe_dump(config, sort_keys=False).replace(SECRETS_DIR, str(secrets))
    for path in re.findall(rf"{re.escape(str(secrets))}/[^\s'\"]+", text):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("https://example.invalid/dummy\n", encoding="utf-8")
    file = tmp_path / "alertmanager.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def run_amtool(amtool: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([amtool, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"amtool {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_amtool_accepts_the_config(amtool, tmp_path):
    run_amtool(amtool, "check-config", str(_config_file(tmp_path)))


@pytest.mark.parametrize("team", [t.name for t in sample().teams] if CATALOG.exists() else [])
def test_amtool_routes_team_x_to_x_only(amtool, tmp_path, team):
    out = run_amtool(amtool, "config", "routes", "test", f"--config.file={_config_file(tmp_path)}",
                     f"team={team}", "alertname=ServiceErrorBudgetBurnFast", "service=any").stdout
    assert out.split() == [receiver_name(team)], out


def test_amtool_routes_alerts_without_team_to_platform(amtool, tmp_path):
    out = run_amtool(amtool, "config", "routes", "test", f"--config.file={_config_file(tmp_path)}",
                     "alertname=KubePodCrashLooping", "namespace=kube-system").stdout
    assert out.split() == [PLATFORM_RECEIVER], out


def test_email_receiver_needs_the_stacks_smtp_relay():
    from paved.catalog import validate_document
    from paved.yamlsrc import load_located

    envs = stacks()
    dev = envs["dev"]
    envs["dev"] = dev.model_copy(update={"observability": dev.observability.model_copy(update={"smtp": None})})
    issues, _ = validate_document(load_located(MINIMAL, "c.yaml"), envs)
    text = "\n".join(str(i) for i in issues)
    line = MINIMAL.splitlines().index("      email: {to: fulfillment@example.com}") + 1
    assert f"c.yaml:{line}:" in text and "teams[fulfillment].alerts.email" in text, text
    assert "stack dev has no paved:observability.smtp" in text, text


# --- the program: secrets through ESO into the monitoring namespace, mounted into Alertmanager ---


def test_chart_values_carry_the_routing_and_mount_the_receivers_secret():
    from components.addons.prometheus import kube_prometheus_stack_values

    settings = stacks()["prod"]
    values = kube_prometheus_stack_values(settings, [], None, sample().teams)["alertmanager"]
    assert values["config"] == alertmanager_config(sample().teams, settings.observability.smtp)
    assert values["alertmanagerSpec"]["secrets"] == [RECEIVER_SECRET]
    # No receivers, nothing to mount (the operator would wait for a Secret nobody writes).
    assert kube_prometheus_stack_values(settings, [], None, ())["alertmanager"]["alertmanagerSpec"]["secrets"] == []


def test_plan_delivers_receiver_credentials_to_alertmanager(planned_stack):
    doc = planned_stack("prod")[0]

    def one(type_token: str, name: str, namespace: str = "monitoring") -> dict:
        found = [r for r in doc["resources"] if r["type"] == type_token
                 and (r["inputs"].get("metadata") or {}).get("name") == name
                 and (r["inputs"].get("metadata") or {}).get("namespace") == namespace]
        assert len(found) == 1, f"{type_token} {name}: {[r['urn'] for r in found]}"
        return found[0]

    es = one("kubernetes:external-secrets.io/v1:ExternalSecret", RECEIVER_SECRET)
    assert es["inputs"]["metadata"]["namespace"] == "monitoring", es["urn"]
    assert es["inputs"]["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "aws-secrets-manager"}, es["urn"]
    remote = {d["remoteRef"]["key"] for d in es["inputs"]["spec"]["data"]}
    assert remote == {n for _, _, n in alert_secrets(sample(), "prod")}, es["urn"]
    store = one("kubernetes:external-secrets.io/v1:SecretStore", "aws-secrets-manager")
    assert store["urn"] in es["options"]["dependsOn"], es["urn"]

    secrets = {r["inputs"]["name"]: r for r in doc["resources"] if r["type"] == "aws:secretsmanager/secret:Secret"}
    for name in remote:
        assert name in secrets, f"no Secrets Manager secret {name}"
        assert secrets[name]["inputs"]["tags"]["paved.dev/rotation"] == "third-party", secrets[name]["urn"]

    am = [r for r in doc["resources"] if r["type"] == "kubernetes:monitoring.coreos.com/v1:Alertmanager"]
    assert len(am) == 1 and am[0]["inputs"]["spec"]["secrets"] == [RECEIVER_SECRET], [r["urn"] for r in am]
    # The chart (so the Alertmanager pods that mount the Secret) waits for the ExternalSecret.
    chart = next(r for r in doc["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"
                 and r["name"].endswith("kube-prometheus-stack"))
    assert es["urn"] in chart["options"]["dependsOn"], chart["urn"]
    # The store's role reads exactly the alert secrets: no service secret of any team.
    policy = next(r for r in doc["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy"
                  and r["name"].endswith("-alerts-policy"))
    read = json.loads(policy["inputs"]["policy"])["Statement"][0]["Resource"]
    assert len(read) == len(remote), policy["urn"]
    assert all("/_alerts/" in arn for arn in read), (policy["urn"], read)


def test_docs_name_the_secrets_the_program_creates():
    doc = (ROOT / "docs" / "alerting.md").read_text(encoding="utf-8")
    for kind in ("slack", "pagerduty"):
        assert alert_secret_name("<env>", "<team>", kind) in doc
    assert smtp_secret_name("<env>") in doc and RECEIVER_SECRET in doc and secret_file("<key>") in doc
    assert "alerting.md" in (ROOT / "docs" / "runbooks" / "README.md").read_text(encoding="utf-8")
