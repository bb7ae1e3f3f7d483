"""PAVED-DEP-012: account-unique physical names carry the stack's environment.

dev, staging and prod may share one AWS account and region. KMS aliases, IAM role names,
Secrets Manager names, log groups and cluster names are unique per account (and region), so
a name that does not carry the environment makes the second stack's ``pulumi up`` fail with
``AlreadyExists``, or worse, adopt the first stack's resource.
"""

from __future__ import annotations

import re

from paved.resources import lookup
from policies.framework import Rule
from policies.rules.deploy.graph import environment

# type token: the property holding the physical name. Unset means Pulumi auto-names it with a
# random suffix, which is unique already.
NAMED = {
    "aws:kms/alias:Alias": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/policy:Policy": "name",
    "aws:secretsmanager/secret:Secret": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:eks/cluster:Cluster": "name",
    "aws:msk/cluster:Cluster": "clusterName",
    "aws:msk/configuration:Configuration": "name",
}


def carries(physical: str, env: str) -> bool:
    """Whether ``env`` is one of the name's words (``paved-prod``, ``prod/orders``; not ``production``)."""
    return env.lower() in re.split(r"[^a-z0-9]+", physical.lower())


def validate_stack(args, report) -> None:
    env = environment(args)
    if not env:
        return
    for r in args.resources:
        prop = NAMED.get(r.resource_type)
        physical = lookup(r.props, prop) if prop else None
        if isinstance(physical, str) and not carries(physical, env):
            report(f"{r.resource_type.rsplit(':', 1)[-1]} {r.name} must carry the environment {env} in its {prop} "
                   f"({physical}): stacks sharing an account and region would collide on it.", r.urn)


RULE = Rule(
    id="PAVED-DEP-012",
    name="environment-in-physical-names",
    description=(
        "Checks whether every explicitly named KMS alias, IAM role and policy, Secrets Manager secret, CloudWatch log "
        "group, EKS cluster and MSK cluster or configuration has the stack's environment (config environment, else "
        "the aws provider's environment default tag) as a word of its physical name."
    ),
    severity="medium",
    remediation=(
        "Build the name with the environment (paved.naming), e.g. alias/paved/<env>/<key>, or leave it unset for "
        "Pulumi's auto-naming."
    ),
    anchors=(
        "docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html (alias names are unique per account and Region)",
        "IAM quotas and names: role names are unique per account",
        "Pulumi docs: auto-naming",
    ),
    validate_stack=validate_stack,
    config={
        "environment": {"type": "string", "default": "",
                        "description": "The stack's environment (else read from the aws provider's default tags)."},
    },
    enforcement="mandatory",
)
