"""PAVED-DEP-011: a resource that changes by replacement has no fixed physical name.

Pulumi replaces create-before-delete by default: the new resource is created while the old
one still exists. A fixed name then collides (``ResourceInUseException``, ``ConflictException``,
``EntityAlreadyExists``) and the update fails half way. Auto-naming (a random suffix) or the
``*Prefix`` property avoids it; so does ``deleteBeforeReplace``, at the price of downtime.
"""

from __future__ import annotations

from paved.resources import is_set
from policies.framework import Rule

# type token: (name property, prefix property or None when Pulumi auto-names, properties that
# force replacement). From the pulumi-aws schema (replaceOnChanges / the bridged provider's
# ForceNew attributes) and its auto-naming of ``name``. Left out on purpose: LaunchTemplate
# and Secrets Manager Secret, whose only replacing properties are the name itself (a new name
# cannot collide); LaunchTemplate changes create a new version in place.
REPLACEABLE: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "aws:eks/nodeGroup:NodeGroup": ("nodeGroupName", "nodeGroupNamePrefix", (
        "amiType", "capacityType", "diskSize", "instanceTypes", "launchTemplate.id", "nodeRoleArn", "remoteAccess",
        "subnetIds")),
    "aws:msk/configuration:Configuration": ("name", None, ("kafkaVersions",)),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", ("description", "vpcId")),
    "aws:iam/policy:Policy": ("name", "namePrefix", ("description", "path")),
    "aws:iam/role:Role": ("name", "namePrefix", ("path",)),
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", ("port", "protocol", "vpcId", "targetType")),
}


def _validate(args, report):
    name_prop, prefix, forcing = REPLACEABLE[args.resource_type]
    if not is_set(args.props, name_prop) or args.opts.delete_before_replace:
        return
    instead = f"{prefix} or auto-naming" if prefix else "auto-naming"
    report(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name} must leave {name_prop} unset (use {instead}): a "
           f"change to {', '.join(forcing)} replaces it, and the replacement, created before the old one is deleted, "
           f"collides with the fixed name.")


RULE = Rule(
    id="PAVED-DEP-011",
    name="replaceable-physical-names",
    description=(
        "Checks whether a resource whose changes force replacement (EKS node groups, MSK configurations, security "
        "groups, IAM policies and roles, target groups) sets a fixed physical name, which collides when Pulumi "
        "creates the replacement before deleting the original."
    ),
    severity="medium",
    remediation=(
        "Drop the name input and let Pulumi auto-name the resource (or set the *Prefix property, e.g. "
        "nodeGroupNamePrefix); use the resource's output name where other resources need it."
    ),
    anchors=(
        "Pulumi docs: resource names and auto-naming (create-before-delete replacement needs unique names)",
        "Pulumi docs: resource option deleteBeforeReplace",
        "pulumi-aws schema: ForceNew properties of aws_eks_node_group, aws_msk_configuration, aws_security_group, "
        "aws_iam_policy, aws_iam_role, aws_lb_target_group",
    ),
    validate=_validate,
    resource_types=frozenset(REPLACEABLE),
    enforcement="mandatory",
)
