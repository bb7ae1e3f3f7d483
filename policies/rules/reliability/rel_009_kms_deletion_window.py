"""PAVED-REL-009: a deleted KMS key can be restored for long enough to notice the mistake."""

from __future__ import annotations

from decimal import Decimal

from paved.resources import KMS_KEY, lookup, number
from policies.framework import Rule
from policies.rules.aws.aws_common import subject


def validate(args, report) -> None:
    floor = int(args.get_config()["minDeletionWindowDays"])
    days = number(lookup(args.props, "deletionWindowInDays"))
    if isinstance(days, Decimal) and days < floor:
        report(f"{subject(args.resource_type, args.name)} must keep a deletion window of at least {floor} days "
               f"(deletionWindowInDays is {days:f}).")


RULE = Rule(
    id="PAVED-REL-009",
    name="kms-deletion-window",
    description=(
        "Checks whether a KMS key's deletionWindowInDays (30 when unset) is at least minDeletionWindowDays. A value "
        "unknown at preview passes."
    ),
    severity="high",
    remediation=(
        "Set paved:kmsDeletionWindowDays in the stack file to at least minDeletionWindowDays (30 in prod): data "
        "encrypted under a deleted key is lost for good once the window ends."
    ),
    anchors=("REL-AWS-002",),
    validate=validate,
    resource_types=frozenset({KMS_KEY}),
    config={
        "minDeletionWindowDays": {"type": "integer", "minimum": 7, "maximum": 30, "default": 30,
                                  "description": "Shortest deletionWindowInDays allowed (AWS allows 7 to 30)."},
    },
    enforcement="mandatory",
)
