"""Customer-managed KMS keys and IAM documents shared by the AWS components."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from paved.layers import split_stack


def customer_key(name: str, purpose: str, deletion_window_days: int, parent: pulumi.Resource,
                 tags: dict[str, str] | None = None, aliases: Any = None) -> aws.kms.Key:
    """A symmetric CMK with yearly rotation; named ``<name>-key``, aliased ``alias/paved/<environment>/<name>``
    (a team stack ``prod.checkout`` names its keys under ``prod``, as the single-stack layout did).

    Aliases are unique per account and region, and every environment's stack creates the
    same component names: the stack in the alias keeps dev and prod in one account apart.
    ``aliases`` (role → Pulumi aliases) keeps the key of a renamed owner.
    """
    def opts(role: str) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, aliases=aliases(role) if aliases else None)

    key = aws.kms.Key(
        f"{name}-key",
        aws.kms.KeyArgs(
            description=f"paved: {purpose}",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=deletion_window_days,
            tags=tags,
        ),
        opts=opts("key"),
    )
    aws.kms.Alias(f"{name}-key-alias", aws.kms.AliasArgs(name=f"alias/paved/{split_stack(pulumi.get_stack())[0]}/{name}", target_key_id=key.key_id),
                  opts=opts("key-alias"))
    return key


def document(*statements: dict[str, Any]) -> str:
    """An IAM policy document as the JSON text AWS expects."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=False)


def service_trust(service: str) -> str:
    """Trust policy letting an AWS service (``eks.amazonaws.com``) assume the role."""
    return document({"Sid": "AssumeByService", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def managed_policy(partition: pulumi.Input[str], name: str) -> pulumi.Output[str]:
    """ARN of an AWS-managed policy in the stack's partition."""
    return pulumi.Output.concat("arn:", partition, ":iam::aws:policy/", name)
