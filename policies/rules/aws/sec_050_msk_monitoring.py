"""PAVED-SEC-050: MSK clusters are observable: enhanced metrics, broker logs, Prometheus exporters."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import MSK_CLUSTER, UNKNOWN, lookup
from policies.rules.aws.aws_common import subject

LEVELS = ["DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION"]


def _off(value: object) -> bool:
    """A flag that must be on and is known not to be."""
    return value is not UNKNOWN and value is not True


def validate(args, report) -> None:
    who = subject(args.resource_type, args.name)
    minimum = args.get_config()["minimumEnhancedMonitoring"]
    level = lookup(args.props, "enhancedMonitoring", "DEFAULT")
    if level is not UNKNOWN and minimum in LEVELS:
        rank = LEVELS.index(level) if level in LEVELS else -1
        if rank < LEVELS.index(minimum):
            report(f"{who} must set enhancedMonitoring to {minimum} or finer, not {level}.")
    if _off(lookup(args.props, "loggingInfo.brokerLogs.cloudwatchLogs.enabled")):
        report(f"{who} must send broker logs to CloudWatch (loggingInfo.brokerLogs.cloudwatchLogs.enabled: true).")
    for exporter in ("jmxExporter", "nodeExporter"):
        if _off(lookup(args.props, ("openMonitoring", "prometheus", exporter, "enabledInBroker"))):
            report(f"{who} must enable the Prometheus {exporter} "
                   f"(openMonitoring.prometheus.{exporter}.enabledInBroker: true).")


RULE = Rule(
    id="PAVED-SEC-050",
    name="msk-monitoring",
    description=(
        "Checks whether an MSK cluster sets enhancedMonitoring at least to config minimumEnhancedMonitoring "
        "(DEFAULT < PER_BROKER < PER_TOPIC_PER_BROKER < PER_TOPIC_PER_PARTITION), sends broker logs to "
        "CloudWatch, and enables the Prometheus JMX and node exporters."
    ),
    severity="medium",
    remediation=(
        'Set enhancedMonitoring: "PER_BROKER" (PER_TOPIC_PER_PARTITION adds CloudWatch cost), '
        "loggingInfo.brokerLogs.cloudwatchLogs: {enabled: true, logGroup: <group with retention>} and "
        "openMonitoring.prometheus: {jmxExporter: {enabledInBroker: true}, nodeExporter: {enabledInBroker: true}}."
    ),
    anchors=("CKV_AWS_80", "AWS Security Hub MSK enhanced monitoring (control id not verified)"),
    validate=validate,
    resource_types=frozenset({MSK_CLUSTER}),
    config={
        "minimumEnhancedMonitoring": {
            "type": "string", "enum": LEVELS, "default": "PER_BROKER",
            "description": "The coarsest enhancedMonitoring level accepted.",
        },
    },
    enforcement="advisory",
)
