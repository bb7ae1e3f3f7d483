"""PAVED-REL-010: a deleted secret can be restored for long enough to notice the mistake."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import SECRET, lookup, number
from policies.framework import Rule
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    config = args.get_config()
    floor = int(config["minRecoveryWindowDays"])
    who = subject(args.resource_type, args.name)
    days = number(lookup(args.props, "recoveryWindowInDays"))
    if not isinstance(days, Decimal):
        return  # unset means 30 days; unknown at preview passes
    if days == 0:
        if not config["allowForceDelete"]:
            report(f"{who} must not be force-deleted (recoveryWindowInDays is 0); keep a recovery window of at "
                   f"least {floor} days.")
    elif days < floor:
        report(f"{who} must keep a recovery window of at least {floor} days (recoveryWindowInDays is {days:f}).")


RULE = Rule(
    id="PAVED-REL-010",
    name="secret-recovery-window",
    description=(
        "Checks whether a Secrets Manager secret's recoveryWindowInDays (30 when unset) is at least "
        "minRecoveryWindowDays, and is not 0 (delete without recovery) unless allowForceDelete. A value unknown "
        "at preview passes."
    ),
    severity="high",
    remediation=(
        "Set paved:secrets.recoveryWindowDays in the stack file to at least minRecoveryWindowDays (30 in prod). "
        "Deleting a secret by mistake then stays reversible with `aws secretsmanager restore-secret`."
    ),
    anchors=("REL-AWS-002",),
    validate=validate,
    resource_types=frozenset({SECRET}),
    config={
        "minRecoveryWindowDays": {
            "type": "integer", "minimum": 7, "maximum": 30, "default": 30,
            "description": "Shortest non-zero recoveryWindowInDays allowed (AWS allows 7 to 30).",
        },
        "allowForceDelete": {"type": "boolean", "default": False,
                             "description": "Whether recoveryWindowInDays 0 (delete at once) is allowed."},
    },
    enforcement="mandatory",
)
