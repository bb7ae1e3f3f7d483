"""PAVED-DEP-013: the Kubernetes half of ``pulumi up`` can reach the cluster, as someone other than its creator.

With ``endpointPublicAccess: false`` the EKS API answers only inside the VPC: a ``pulumi up``
from a laptop or a hosted CI runner creates the cluster and then times out on every
Kubernetes resource. The stack must say where its Kubernetes changes run from: an in-VPC
runner in the plan (a CodeBuild project with ``vpcConfig``) or the rule's ``deployRunner``.
And with access entries (authentication mode API), only the creator's bootstrap entry exists
unless the plan adds AccessEntries for the operators and the runner.
"""

from __future__ import annotations

from paved.resources import EKS_CLUSTER, lookup
from policies.framework import Rule

CODEBUILD = "aws:codebuild/project:Project"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"


def validate_stack(args, report) -> None:
    config = args.get_config()
    clusters = [r for r in args.resources if r.resource_type == EKS_CLUSTER]
    runners = [r for r in args.resources if r.resource_type == CODEBUILD and lookup(r.props, "vpcConfig") is not None]
    entries = [r for r in args.resources if r.resource_type == ACCESS_ENTRY]
    for c in clusters:
        name = lookup(c.props, "name", c.name)
        if lookup(c.props, "vpcConfig.endpointPublicAccess", True) is False and not runners and not config["deployRunner"]:
            report(f"Cluster {name} must name where its Kubernetes changes run from: its endpoint is private, and the "
                   f"plan has no in-VPC runner (a CodeBuild project with vpcConfig) and deployRunner is not set.",
                   c.urn)
        if lookup(c.props, "accessConfig.authenticationMode", "CONFIG_MAP") == "CONFIG_MAP":
            continue
        own = [e for e in entries if lookup(e.props, "clusterName") in (name, None) or not isinstance(
            lookup(e.props, "clusterName"), str)]
        if not own:
            report(f"Cluster {name} must grant operators access with AccessEntries (aws:eks/accessEntry) beyond the "
                   f"cluster creator's bootstrap entry.", c.urn)


RULE = Rule(
    id="PAVED-DEP-013",
    name="cluster-reachability",
    description=(
        "Checks whether an EKS cluster with a private-only endpoint (vpcConfig.endpointPublicAccess false) has an "
        "in-VPC runner for its Kubernetes changes (a CodeBuild project with vpcConfig in the plan, or deployRunner "
        "set), and whether a cluster using access entries grants AccessEntries beyond its creator."
    ),
    severity="high",
    remediation=(
        "Add the runner (a CodeBuild project in the cluster's private subnets that runs `pulumi up`) or set "
        "deployRunner to the one you use, and declare AccessEntries (with AccessPolicyAssociations) for the platform "
        "operators' role and the runner's role."
    ),
    anchors=(
        "docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html (private endpoint: access from within the VPC "
        "or connected network only)",
        "docs.aws.amazon.com/eks/latest/userguide/access-entries.html (bootstrapClusterCreatorAdminPermissions covers "
        "only the creator)",
        "CIS EKS 5.4.2",
    ),
    validate_stack=validate_stack,
    config={
        "deployRunner": {"type": "string", "default": "",
                         "description": "Where this stack's `pulumi up` runs when the plan holds no runner (e.g. "
                                        "'codebuild:paved-prod-deploy', a self-hosted runner in the VPC)."},
    },
    enforcement="mandatory",
)
