"""Alertmanager's routing: every alert that carries ``team: <name>`` goes to that team's
receivers, everything else to the platform's.

The catalog declares each team's receivers (``teams[].alerts``: Slack, e-mail, PagerDuty);
their credentials never pass through the catalog, the stack files or Pulumi state. Each lives
in Secrets Manager (paved/naming.py: ``<env>/_alerts/<team>/slack``,
``<env>/_alerts/<team>/pagerduty``, ``<env>/_alerts/smtp``); External Secrets copies them
into one Secret in the monitoring namespace (:data:`RECEIVER_SECRET`), which the Alertmanager
pods mount (kube-prometheus-stack ``alertmanagerSpec.secrets``, at
``/etc/alertmanager/secrets/<secret>/<key>``), and the config names only the files
(``api_url_file``, ``routing_key_file``, ``auth_password_file``).

Every alert paved generates carries the ``team`` label (components/slo.py); the chart's own
rules (Kubernetes, Prometheus, Alertmanager health) do not, and go to :data:`PLATFORM_RECEIVER`.
"""

from __future__ import annotations

from collections.abc import Iterable

from paved.catalog import Catalog
from paved.model import Team
from paved.naming import alert_secrets
from paved.stack import SmtpSettings

RECEIVER_SECRET = "alertmanager-receivers"  # the Kubernetes Secret in the monitoring namespace
SECRETS_DIR = "/etc/alertmanager/secrets"  # where the operator mounts alertmanagerSpec.secrets
PLATFORM_RECEIVER = "platform"
# The chart's always-firing dead man's switch: for an external watchdog, never for a person.
WATCHDOG_RECEIVER = "null"
TEAM_LABEL = "team"
GROUP_BY = ("alertname", "service")
SMTP_KEY = "smtp-password"


def receiver_name(team: str) -> str:
    """The Alertmanager receiver of one team: ``team-<name>``."""
    return f"team-{team}"


def secret_key(team: str | None, kind: str) -> str:
    """Key of one receiver credential in :data:`RECEIVER_SECRET` (team names are DNS labels, so
    ``<team>-<kind>`` is a valid Secret key and unique)."""
    return SMTP_KEY if team is None else f"{team}-{kind}"


def secret_file(key: str) -> str:
    """Where Alertmanager reads one key of :data:`RECEIVER_SECRET`."""
    return f"{SECRETS_DIR}/{RECEIVER_SECRET}/{key}"


def team_receiver(team: Team, smtp: SmtpSettings | None) -> dict:
    """The receiver of one team: one config per declared kind, credentials as files."""
    alerts = team.alerts
    receiver: dict = {"name": receiver_name(team.name)}
    if alerts is None:
        return receiver
    if alerts.slack is not None:
        receiver["slack_configs"] = [{
            "api_url_file": secret_file(secret_key(team.name, "slack")),
            "channel": alerts.slack.channel,
            "send_resolved": True,
        }]
    if alerts.email is not None:
        if smtp is None:  # catalog validation refuses this per stack; a direct caller gets a clear error
            raise ValueError(f"team {team.name!r} has an e-mail receiver but the stack has no "
                             "paved:observability.smtp")
        receiver["email_configs"] = [{
            "to": alerts.email.to,
            "from": smtp.from_address,
            "smarthost": smtp.smarthost,
            "auth_username": smtp.username,
            "auth_password_file": secret_file(SMTP_KEY),
            "require_tls": True,
            "send_resolved": True,
        }]
    if alerts.pagerduty is not None:
        receiver["pagerduty_configs"] = [{
            "routing_key_file": secret_file(secret_key(team.name, "pagerduty")),
            "send_resolved": True,
        }]
    return receiver


def alertmanager_config(teams: Iterable[Team], smtp: SmtpSettings | None = None) -> dict:
    """kube-prometheus-stack's ``alertmanager.config``: the routing tree and the receivers.

    One child route per team with receivers, matching ``team="<name>"`` exactly, with
    ``continue: false``: an alert reaches its own team only. Alerts without a team (the
    chart's own rules) fall through to the platform receiver. The chart's inhibition rules
    and templates are kept (Helm merges maps; the lists set here replace the chart's).
    """
    routed = [t for t in teams if t.alerts is not None and t.alerts.kinds]
    routes = [{"receiver": WATCHDOG_RECEIVER, "matchers": ['alertname="Watchdog"'], "continue": False}]
    routes += [{"receiver": receiver_name(t.name), "matchers": [f'{TEAM_LABEL}="{t.name}"'], "continue": False}
               for t in routed]
    return {
        "route": {
            "receiver": PLATFORM_RECEIVER,
            "group_by": list(GROUP_BY),
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": [{"name": PLATFORM_RECEIVER}, {"name": WATCHDOG_RECEIVER},
                      *(team_receiver(t, smtp) for t in routed)],
    }


def receiver_secret_data(teams: Iterable[Team], environment: str) -> list[dict]:
    """The ExternalSecret's ``data``: each receiver credential, by its Secrets Manager name, to
    its key in :data:`RECEIVER_SECRET`. The whole secret value is the file (a webhook URL, a
    routing key, a password), as Alertmanager reads it."""
    catalog = Catalog(file="", teams=tuple(teams), services=())
    return [{"secretKey": secret_key(team, kind), "remoteRef": {"key": name}}
            for team, kind, name in alert_secrets(catalog, environment)]


ALERTS_STORE = "aws-secrets-manager"  # the SecretStore in the monitoring namespace, as in team namespaces


def receiver_external_secret_spec(teams: Iterable[Team], environment: str) -> dict:
    """The ExternalSecret writing :data:`RECEIVER_SECRET` from Secrets Manager, through the
    monitoring namespace's own SecretStore (a role that reads only the alert secrets)."""
    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "SecretStore", "name": ALERTS_STORE},
        "target": {"name": RECEIVER_SECRET, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
        "data": receiver_secret_data(teams, environment),
    }
