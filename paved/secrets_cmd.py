"""``paved secrets status|put``: the declared secrets as they are in AWS Secrets Manager.

The secret *resources* (name ``<env>/<team>/<service>/<secret>``, KMS key, policy) are
created by ``pulumi up``; their *values* are set by people, with ``paved secrets put``,
and never pass through the catalog, the stack files or Pulumi state.

* ``status`` calls ``DescribeSecret`` once per declared secret. Whether a value exists is
  read from the version stages (a version labelled ``AWSCURRENT``); the value itself is
  never fetched (no ``GetSecretValue``), so ``status`` needs no decrypt permission.
* ``status --require-values`` is the deploy gate: it fails while a *third-party* secret is
  missing or empty. Platform-managed secrets (``rotation: managed``) are left out: the
  cluster generates their first value (docs/secrets.md), so they have none before the deploy.
* ``put`` reads the value from standard input (hidden prompt when standard input is a
  terminal), removes one trailing newline, and calls ``PutSecretValue`` on the existing
  secret. A managed secret's value must be a JSON object with a string ``password`` (what
  the rotation Lambda and the ExternalSecret read). It never creates a secret: one created here would lack the KMS key, policy and
  tags Pulumi gives it, and Pulumi would then fail to create its own. If the secret is
  missing, the error says to run ``pulumi up`` first.

Region: always the stack's ``aws:region``, because that is where Pulumi created the
secrets; ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile's region are ignored.
Credentials and endpoint come from boto3's usual chain (``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``,
SSO, instance roles; ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` or ``AWS_ENDPOINT_URL``).

Every AWS or botocore failure becomes a one-line :class:`PavedError` naming the secret.
No message, return value or output line ever contains a secret value.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from paved.errors import PavedError, UsageError

# Secrets Manager's limit on SecretString, in bytes.
MAX_VALUE_BYTES = 65536
CURRENT_STAGE = "AWSCURRENT"

_CREDENTIALS_HINT = (
    "set AWS_PROFILE (and run `aws sso login` if it is an SSO profile) "
    "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)
_BAD_CREDENTIALS_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "RequestExpired",
}
_ACCESS_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}


@dataclass(frozen=True)
class SecretStatus:
    """One declared secret as found in AWS. ``has_value``: a version is labelled AWSCURRENT."""

    service: str
    secret: str
    name: str
    region: str
    exists: bool
    has_value: bool
    last_changed: datetime | None = None
    deletion_date: datetime | None = None  # set when the secret is scheduled for deletion
    rotation: str = "third-party"  # the catalog's: "managed" ones get a generated first value

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "secret": self.secret,
            "name": self.name,
            "region": self.region,
            "exists": self.exists,
            "hasValue": self.has_value,
            "lastChanged": _iso(self.last_changed),
            "deletionDate": _iso(self.deletion_date),
            "rotation": self.rotation,
        }


@dataclass(frozen=True)
class PutResult:
    """What ``put`` stored: where, and the new version's id (never the value)."""

    service: str
    secret: str
    name: str
    region: str
    version_id: str | None


# ----------------------------------------------------------------------------- AWS access


def make_client(region: str) -> Any:
    """A Secrets Manager client for ``region``; PavedError when no credentials can be found.

    Checking credentials here, before any call, lets ``put`` refuse before it asks for the
    value. The endpoint follows ``AWS_ENDPOINT_URL_SECRETS_MANAGER`` / ``AWS_ENDPOINT_URL``.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        session = boto3.session.Session(region_name=region)
        if session.get_credentials() is None:
            raise PavedError(f"no AWS credentials found: {_CREDENTIALS_HINT}")
        return session.client(
            "secretsmanager",
            region_name=region,
            # Bounded: botocore's legacy mode retries 5 times with a 60 s read timeout, so an
            # endpoint that accepts and never answers would hold a deploy gate for minutes.
            # Two attempts of at most 5 s to connect and 15 s to read: under 45 s in all.
            config=Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 2},
                          user_agent_extra="paved"),
        )
    except BotoCoreError as exc:
        raise _aws_error(exc, "connect to Secrets Manager for", None, region) from None
    except ValueError as exc:  # botocore: "Invalid endpoint: <url>" from AWS_ENDPOINT_URL*
        raise PavedError(f"{_one_line(str(exc))}: check AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL "
                         f"(an http(s) URL such as https://secretsmanager.{region}.amazonaws.com)") from None


def _aws_error(exc: Exception, action: str, name: str | None, region: str) -> PavedError:
    """A one-line PavedError for a botocore/boto3 failure while ``action``-ing secret ``name``."""
    from botocore import exceptions as bce

    what = f"secret {name} ({region})" if name else f"region {region}"
    if isinstance(exc, bce.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "")) or "error"
        message = _one_line(str(err.get("Message", "")))
        if code in _ACCESS_DENIED_CODES:
            return PavedError(f"access denied: cannot {action} {what}: {message}")
        if code in _BAD_CREDENTIALS_CODES:
            return PavedError(f"AWS rejected the credentials ({code}) while trying to {action} {what}: {message}; {_CREDENTIALS_HINT}")
        return PavedError(f"cannot {action} {what}: {code}: {message}")
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError, bce.CredentialRetrievalError)):
        return PavedError(f"no usable AWS credentials to {action} {what}: {_one_line(str(exc))}; {_CREDENTIALS_HINT}")
    sso_errors = tuple(getattr(bce, n) for n in ("SSOTokenLoadError", "TokenRetrievalError", "UnauthorizedSSOTokenError") if hasattr(bce, n))
    if isinstance(exc, sso_errors):
        return PavedError(f"AWS SSO credentials are missing or expired ({_one_line(str(exc))}): run `aws sso login`")
    if isinstance(exc, bce.ProfileNotFound):
        return PavedError(f"{_one_line(str(exc))}: check AWS_PROFILE")
    if isinstance(exc, bce.NoRegionError):
        return PavedError(f"no AWS region to {action} {what}: set aws:region in the stack file")
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError, bce.ConnectionClosedError)):
        endpoint = getattr(exc, "kwargs", {}).get("endpoint_url", "the Secrets Manager endpoint")
        return PavedError(f"cannot reach Secrets Manager at {endpoint} to {action} {what}: {_one_line(str(exc))}")
    return PavedError(f"cannot {action} {what}: {_one_line(str(exc))}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(client: Any, name: str, region: str) -> dict[str, Any] | None:
    """DescribeSecret's answer, or None when there is no secret of exactly that name."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        found = client.describe_secret(SecretId=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise _aws_error(exc, "describe", name, region) from None
    except BotoCoreError as exc:
        raise _aws_error(exc, "describe", name, region) from None
    # A SecretId can also match as a partial ARN; only the exact name is ours.
    return found if found.get("Name") == name else None


def _has_current_version(described: dict[str, Any]) -> bool:
    return any(CURRENT_STAGE in stages for stages in (described.get("VersionIdsToStages") or {}).values())


# ----------------------------------------------------------------------------- catalog look-ups


def _load(root: Path, stack: str, catalog_path: str | Path) -> tuple[str, str, list[tuple[str, str, str, str]]]:
    """(region, environment, secrets as (service, secret, name, rotation)) for a stack: the
    services' declared secrets and the alert receivers' (service ``_alerts``)."""
    from paved.engine import load_inputs
    from paved.naming import every_secret

    settings, catalog = load_inputs(root, stack, catalog_path)
    return settings.aws_region, settings.environment, every_secret(catalog, settings.environment)


def _resolve(root: Path, stack: str, catalog_path: str | Path, service: str, secret: str) -> tuple[str, str, str]:
    """(Secrets Manager name, region, rotation) of a declared secret; PavedError naming the choices.
    The catalog and stack are read once."""
    from paved.engine import load_inputs
    from paved.naming import ALERTS_SECRET_OWNER, every_secret

    settings, catalog = load_inputs(root, stack, catalog_path)
    region, found = settings.aws_region, every_secret(catalog, settings.environment)
    if service == ALERTS_SECRET_OWNER:
        alerts = [(sec, name, rot) for svc, sec, name, rot in found if svc == ALERTS_SECRET_OWNER]
        for sec, name, rot in alerts:
            if sec == secret:
                return name, region, rot
        choices = ", ".join(sec for sec, _, _ in alerts) or "(no team declares a Slack, PagerDuty or e-mail receiver)"
        raise PavedError(f"no alert receiver secret {secret!r}; they are: {choices}")
    try:
        svc = catalog.service(service)
    except KeyError:
        names = ", ".join([s.name for s in catalog.services] + [ALERTS_SECRET_OWNER]) or "(none)"
        raise PavedError(f"unknown service {service!r}; services are: {names}") from None
    declared = [s.name for s in svc.secrets]
    if secret not in declared:
        choices = ", ".join(declared) if declared else "(none declared)"
        raise PavedError(f"service {service!r} declares no secret {secret!r}; its secrets are: {choices}")
    for svc_name, sec_name, name, rot in found:
        if (svc_name, sec_name) == (service, secret):
            return name, region, rot
    raise AssertionError("every_secret disagrees with the catalog")  # pragma: no cover


# ----------------------------------------------------------------------------- status


def status(root: Path, stack: str, catalog_path: str | Path, client: Any = None) -> list[SecretStatus]:
    """Every secret the catalog declares for ``stack``: exists? has a value? Never reads a value."""
    region, _, declared = _load(root, stack, catalog_path)
    if not declared:
        return []
    client = client if client is not None else make_client(region)
    out = []
    for service, secret, name, rotation in declared:
        found = _describe(client, name, region)
        if found is None:
            out.append(SecretStatus(service, secret, name, region, exists=False, has_value=False, rotation=rotation))
            continue
        out.append(
            SecretStatus(
                service,
                secret,
                name,
                region,
                exists=True,
                has_value=_has_current_version(found),
                last_changed=_as_datetime(found.get("LastChangedDate")),
                deletion_date=_as_datetime(found.get("DeletedDate")),
                rotation=rotation,
            )
        )
    return out


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat() if value else None


def text(statuses: list[SecretStatus], stack: str) -> str:
    """The status table, with a summary line and what to do next."""
    if not statuses:
        return f"stack {stack}: the catalog declares no secrets\n"
    region = statuses[0].region
    head = ["SERVICE", "SECRET", "NAME", "EXISTS", "HAS VALUE", "LAST CHANGED"]
    rows = []
    for s in statuses:
        exists = "deleting" if s.deletion_date else ("yes" if s.exists else "no")
        changed = s.last_changed.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if s.last_changed else "-"
        rows.append([s.service, s.secret, s.name, exists, "yes" if s.has_value else "no", changed])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = [
        f"Secrets of stack {stack} in {region}: {len(statuses)} declared, "
        f"{sum(s.exists for s in statuses)} exist, {sum(s.has_value for s in statuses)} with a value",
        "",
        *("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [head, *rows]),
    ]
    missing = sum(not s.exists for s in statuses)
    empty = sum(s.exists and not s.has_value and not s.deletion_date and s.rotation != "managed" for s in statuses)
    generated = sum(s.exists and not s.has_value and not s.deletion_date and s.rotation == "managed" for s in statuses)
    deleting = sum(bool(s.deletion_date) for s in statuses)
    if missing or empty or generated or deleting:
        lines.append("")
    if missing:
        lines.append(f"{missing} missing: `pulumi up --stack {stack}` creates them")
    if empty:
        lines.append(f"{empty} without a value: `paved secrets put --stack {stack} SERVICE SECRET < FILE` sets one")
    if generated:
        lines.append(f"{generated} managed without a value yet: the cluster generates it on deploy (PushSecret)")
    if deleting:
        lines.append(f"{deleting} scheduled for deletion: `aws secretsmanager restore-secret --secret-id NAME` cancels it")
    return "\n".join(lines) + "\n"


def as_json(statuses: list[SecretStatus], stack: str) -> str:
    """``--format json`` (docs/schemas/secrets.schema.json): ``{"version", "stack", "region", "secrets": [...]}``."""
    doc = {
        "version": 1,
        "stack": stack,
        "region": statuses[0].region if statuses else None,
        "secrets": [s.as_json() for s in statuses],
    }
    return json.dumps(doc, indent=2) + "\n"


# ----------------------------------------------------------------------------- put


def read_value(stdin: IO[Any] | None, name: str) -> str:
    """The value from ``stdin``: one trailing newline removed, UTF-8, not empty, within size.

    From a terminal it is read with :func:`getpass.getpass`, so it is not echoed. Error
    messages describe the input, never repeat it.
    """
    stdin = stdin if stdin is not None else sys.stdin
    if stdin is None:
        raise PavedError(f"no standard input to read the value of {name} from")
    if _isatty(stdin):
        try:
            value = getpass.getpass(f"Value for {name} (input hidden, Enter to finish): ")
        except (EOFError, KeyboardInterrupt):
            raise PavedError(f"no value entered for {name}; nothing stored") from None
    else:
        source = getattr(stdin, "buffer", stdin)
        data = source.read(MAX_VALUE_BYTES + 2)  # the limit, a newline, and one byte to tell "too long"
        if isinstance(data, bytes):
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PavedError(
                    f"standard input is not UTF-8 text (invalid byte at offset {exc.start}); "
                    f"{name} stores a text value; nothing stored"
                ) from None
        else:
            value = data
    value = value[:-1] if value.endswith("\n") else value
    if not value:
        raise PavedError(f"empty value on standard input for {name}; nothing stored")
    size = len(value.encode("utf-8"))
    if size > MAX_VALUE_BYTES:
        raise PavedError(f"the value for {name} is longer than Secrets Manager's limit of {MAX_VALUE_BYTES} bytes; nothing stored")
    return value


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def put(
    root: Path,
    stack: str,
    catalog_path: str | Path,
    service: str,
    secret: str,
    stdin: IO[Any] | None = None,
    client: Any = None,
) -> PutResult:
    """Store the value read from ``stdin`` as the new AWSCURRENT version of an existing secret.

    Checks, before reading the value: the service and secret are declared, credentials
    exist, and the secret exists in AWS and is not scheduled for deletion.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    name, region, rotation = _resolve(root, stack, catalog_path, service, secret)
    client = client if client is not None else make_client(region)
    found = _describe(client, name, region)
    if found is None:
        raise PavedError(
            f"secret {name} does not exist in {region}: run `pulumi up --stack {stack}` first "
            "(Pulumi creates it with its KMS key; paved only sets values)"
        )
    if found.get("DeletedDate"):
        raise PavedError(
            f"secret {name} ({region}) is scheduled for deletion: "
            f"`aws secretsmanager restore-secret --secret-id {name}` cancels it; nothing stored"
        )
    value = read_value(stdin, name)
    if rotation == "managed":
        check_managed_value(value, name)
    try:
        answer = client.put_secret_value(SecretId=name, SecretString=value)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise PavedError(f"secret {name} does not exist in {region}: run `pulumi up --stack {stack}` first") from None
        raise _scrub(_aws_error(exc, "store a value in", name, region), value) from None
    except BotoCoreError as exc:
        raise _scrub(_aws_error(exc, "store a value in", name, region), value) from None
    return PutResult(service, secret, name, region, answer.get("VersionId"))


def check_managed_value(value: str, name: str) -> None:
    """A managed secret holds ``{"password": "<text>", ...}``: the rotation Lambda (AWS's templates)
    parses it as JSON and the ExternalSecret reads its ``password``. PavedError otherwise, never
    quoting the value."""
    from paved.naming import MANAGED_SECRET_KEY

    try:
        doc = json.loads(value)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get(MANAGED_SECRET_KEY), str) or not doc[MANAGED_SECRET_KEY]:
        raise PavedError(
            f"{name} is a platform-managed secret (rotation: managed): its value must be a JSON object with a "
            f'non-empty string "{MANAGED_SECRET_KEY}" key, e.g. {{"{MANAGED_SECRET_KEY}": "..."}}, as its rotation '
            "function and the service read it; nothing stored")


def _scrub(error: PavedError, value: str) -> PavedError:
    """Belt and braces: an error text never carries the value, whatever AWS answered."""
    message = str(error)
    return PavedError(message.replace(value, "[value hidden]")) if value in message else error


# ----------------------------------------------------------------------------- command line


def add_parser(
    sub: Any,
    stack_arg: Callable[[argparse.ArgumentParser], None],
    catalog_arg: Callable[[argparse.ArgumentParser], None],
) -> argparse.ArgumentParser:
    """Register ``secrets status`` and ``secrets put`` on the CLI's subparsers."""
    p = sub.add_parser("secrets", help="declared secrets in AWS Secrets Manager: status, or set a value")
    actions = p.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")

    s = actions.add_parser(
        "status",
        help="whether each declared secret exists and has a value (never reads a value)",
        description="Whether each declared secret exists in the stack's region (aws:region) and has a value. "
        "Values are never read.",
    )
    stack_arg(s)
    catalog_arg(s)
    s.add_argument("--format", choices=["text", "json"], default="text",
                   help="text for people (default), or a JSON document for scripts")
    s.add_argument("--require-values", action="store_true",
                   help="exit 1 unless every third-party secret exists and has a value (the deploy gate: pods "
                        "mount their secrets, and a secret without a value keeps them from starting); managed "
                        "secrets are left out, the cluster generates their first value")

    u = actions.add_parser(
        "put",
        help="store a secret's value, read from standard input",
        description="Store a new value for a declared secret. The value is read from standard input "
        "(hidden prompt on a terminal), never from the command line; one trailing newline is removed. "
        "The secret must exist: `pulumi up` creates it.",
    )
    stack_arg(u)
    catalog_arg(u)
    u.add_argument("service", metavar="SERVICE", help="the catalog service that declares the secret")
    u.add_argument("secret", metavar="SECRET", help="the secret's name under the service's secrets in the catalog")
    # Catches a value typed as an argument, so it is refused without being echoed back.
    u.add_argument("value_args", nargs="*", help=argparse.SUPPRESS)
    return p


def _gate(statuses: list[SecretStatus], stack: str) -> int:
    """1, with the command that fixes each, when a third-party secret is missing or empty.

    Managed secrets are not waited for: their first value is generated in the cluster by the
    deploy itself (a PushSecret), so before it they have none by design."""
    missing = [s for s in statuses
               if s.rotation != "managed" and not (s.exists and s.has_value and s.deletion_date is None)]
    for s in missing:
        why = "is not created yet (the secrets bootstrap creates it: docs/deploying.md)" if not s.exists else (
            "is scheduled for deletion" if s.deletion_date else "has no value")
        print(f"paved secrets: {s.name} {why}; then: paved secrets put --stack {stack} {s.service} {s.secret}",
              file=sys.stderr)
    return 1 if missing else 0


def run(args: argparse.Namespace, root: Path, catalog_path: str | Path, stdin: IO[Any] | None = None) -> int:
    """The ``secrets`` command: PavedError/UsageError propagate to the CLI's handler."""
    if args.secrets_command == "status":
        statuses = status(root, args.stack, catalog_path)
        sys.stdout.write(as_json(statuses, args.stack) if args.format == "json" else text(statuses, args.stack))
        if getattr(args, "require_values", False):
            return _gate(statuses, args.stack)
        return 0
    if args.secrets_command == "put":
        if getattr(args, "value_args", None):
            raise UsageError(
                "secrets put takes no value argument: the value is read from standard input "
                "(a command line ends up in shell history and process listings), e.g. "
                "`paved secrets put --stack ENV SERVICE SECRET < FILE`"
            )
        result = put(root, args.stack, catalog_path, args.service, args.secret, stdin)
        version = f", version {result.version_id}" if result.version_id else ""
        print(f"stored a new value for {result.name} in {result.region} ({CURRENT_STAGE}{version})")
        return 0
    raise UsageError(f"unknown secrets action {args.secrets_command!r}")  # pragma: no cover
