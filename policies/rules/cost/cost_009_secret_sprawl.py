"""PAVED-COST-009: Secrets Manager entries grow with services, not with keys ($0.40 each)."""

from __future__ import annotations

from paved.resources import SECRET
from policies.framework import Rule

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def validate_stack(args, report) -> None:
    config = args.get_config()
    secrets = [r for r in args.resources if r.resource_type == SECRET]
    services = sum(1 for r in args.resources if r.resource_type == DEPLOYMENT)
    cap = services * int(config["maxSecretsPerService"]) + int(config["platformSecrets"])
    if len(secrets) > cap:
        report(f"Stack must keep Secrets Manager secrets at or below {cap} ({services} services x "
               f"{config['maxSecretsPerService']} + {config['platformSecrets']} for the platform); it has "
               f"{len(secrets)}. Group a service's keys in one secret (a JSON document).")


RULE = Rule(
    id="PAVED-COST-009",
    name="secret-sprawl",
    description=(
        "Checks whether the number of aws:secretsmanager/secret:Secret resources is at most the number of "
        "services (Deployments) times maxSecretsPerService plus platformSecrets."
    ),
    severity="low",
    remediation=(
        "Keep one Secrets Manager secret per service holding its keys as JSON, instead of one secret per key; "
        "raise maxSecretsPerService in policies/config/<env>.json only for a real need."
    ),
    anchors=("COST-SM-001",),
    validate_stack=validate_stack,
    config={
        "maxSecretsPerService": {"type": "integer", "minimum": 0, "default": 3,
                                 "description": "Secrets allowed per service (Deployment)."},
        "platformSecrets": {"type": "integer", "minimum": 0, "default": 5,
                            "description": "Secrets allowed for the platform itself on top of the services'."},
    },
    enforcement="advisory",
)
