"""PAVED-SEC-064: an RDS database runs PostgreSQL in a major version RDS supports."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import RDS_INSTANCE, UNKNOWN, lookup
from policies.rules.aws.aws_common import subject

from paved.model import POSTGRES_MAJOR_VERSIONS


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    config = args.get_config()
    engine, version = lookup(args.props, "engine"), lookup(args.props, "engineVersion")
    if engine is UNKNOWN or version is UNKNOWN:
        return
    if engine not in config["engines"]:
        report(f"{who} must run one of the engines {', '.join(config['engines'])} (not {engine}).")
        return
    supported = [str(v) for v in config["supportedMajorVersions"]]
    if version is None or str(version).split(".")[0] not in supported:
        report(f"{who} must pin engineVersion to a major version in RDS standard support ({', '.join(supported)}), "
               f"not {version}.")


RULE = Rule(
    id="PAVED-SEC-064",
    name="rds-supported-engine-version",
    description=(
        "Checks whether an RDS DB instance's engine is in config engines and its engineVersion's major version "
        "in supportedMajorVersions (RDS standard support; an older one moves to paid Extended Support)."
    ),
    severity="medium",
    remediation=(
        "Set data.postgres.engineVersion to a supported major and upgrade one major at a time (a snapshot first; "
        "allowMajorVersionUpgrade for the one update). Refresh the list from the RDS for PostgreSQL release calendar."
    ),
    anchors=("CKV_AWS_226 (minor upgrades)", "AWS Foundational Security Best Practices RDS.35"),
    validate=validate,
    resource_types=frozenset({RDS_INSTANCE}),
    config={
        "engines": {"type": "array", "items": {"type": "string"}, "default": ["postgres"],
                    "description": "RDS engines services may run."},
        "supportedMajorVersions": {"type": "array", "items": {"type": "string"}, "default": list(POSTGRES_MAJOR_VERSIONS),
                                   "description": "Major versions (\"17\") in RDS standard support."},
    },
    enforcement="mandatory",
)
