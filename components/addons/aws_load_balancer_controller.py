"""AWS Load Balancer Controller: turns Ingresses into the environment's shared ALB.

It gets its own least-privilege AWS role: every permission is scoped to what the controller
creates (tagged with :data:`CLUSTER_TAG`), except the read-only Describe actions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import chart, resources, zone_spread
from components.identity import role_annotations
from components.namespace import platform_namespace
from components.security import RESTRICTED_CONTAINER
from paved.naming import LOAD_BALANCER_NAMESPACE
from paved.stack import StackSettings

CHART = "aws-load-balancer-controller"
NAMESPACE = LOAD_BALANCER_NAMESPACE
SERVICE_ACCOUNT = "aws-load-balancer-controller"
WEBHOOK_PORT = 9443
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# The controller calls the EC2 and ELB APIs: reached through interface endpoints in the VPC.
ENDPOINTS = ("ec2", "elasticloadbalancing")
CONTROLLER_RESOURCES = resources("50m", "128Mi", "200m", "256Mi")


def controller_statements(partition: str, region: str, account: str, vpc_id: str, cluster_sg: str,
                          certificate_arn: str, web_acl_arn: str | None = None) -> list[dict[str, Any]]:
    """The controller's permissions, scoped to what it creates (tagged with the cluster tag).

    Only the read-only Describe actions, which AWS cannot scope to a resource, use ``*``.
    """
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    balancers = [f"{elb}:loadbalancer/app/*/*", f"{elb}:targetgroup/*/*"]
    owned = {"Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"}}
    statements = [
        {"Sid": "CreateServiceLinkedRole", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
         "Resource": f"arn:{partition}:iam::{account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
                     "AWSServiceRoleForElasticLoadBalancing",
         "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
        {"Sid": "Discover", "Effect": "Allow", "Action": ["ec2:Describe*", "elasticloadbalancing:Describe*"], "Resource": "*"},
        {"Sid": "ReadCertificate", "Effect": "Allow", "Action": "acm:DescribeCertificate", "Resource": certificate_arn},
        {"Sid": "CreateSecurityGroups", "Effect": "Allow",
         "Action": ["ec2:CreateSecurityGroup", "ec2:GetSecurityGroupsForVpc"],
         "Resource": [f"{ec2}:vpc/{vpc_id}", f"{ec2}:security-group/*"]},
        {"Sid": "TagNewSecurityGroups", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": f"{ec2}:security-group/*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
                       "Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}}},
        {"Sid": "ManageOwnSecurityGroups", "Effect": "Allow",
         "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
                    "ec2:CreateTags", "ec2:DeleteTags"],
         "Resource": f"{ec2}:security-group/*", "Condition": owned},
        {"Sid": "OpenNodesToTheBalancer", "Effect": "Allow",
         "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
         "Resource": f"{ec2}:security-group/{cluster_sg}"},
        {"Sid": "CreateBalancers", "Effect": "Allow",
         "Action": ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
         "Resource": balancers, "Condition": {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}}},
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "elasticloadbalancing:AddTags", "Resource": balancers,
         "Condition": {"StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]}}},
        {"Sid": "ManageOwnBalancers", "Effect": "Allow",
         "Action": ["elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
         "Resource": balancers, "Condition": owned},
        {"Sid": "ManageListenersAndRules", "Effect": "Allow",
         "Action": ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteRule", "elasticloadbalancing:ModifyRule",
                    "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
                    # Reordering an Ingress group's rules, and listener attributes (v2.9+ reconciles them).
                    "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:ModifyListenerAttributes",
                    "elasticloadbalancing:AddTags"],
         "Resource": [f"{elb}:loadbalancer/app/*/*", f"{elb}:listener/app/*/*/*", f"{elb}:listener-rule/app/*/*/*/*"]},
        {"Sid": "RegisterTargets", "Effect": "Allow",
         "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
         "Resource": f"{elb}:targetgroup/*/*"},
    ]
    if web_acl_arn is not None:
        # The upstream v3.5.0 policy's WAFv2 actions, scoped to the environment's web ACL and the
        # ALBs (an association is authorised on both).
        statements.append({"Sid": "AssociateWebAcl", "Effect": "Allow",
                           "Action": ["wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL",
                                      "wafv2:DisassociateWebACL"],
                           "Resource": [web_acl_arn, f"{elb}:loadbalancer/app/*/*"]})
        # The association's dependent action on the ALB side; it has no resource-level permissions.
        statements.append({"Sid": "SetWebAclOnBalancers", "Effect": "Allow", "Action": "elasticloadbalancing:SetWebAcl",
                           "Resource": "*"})
    return statements


def values(settings: StackSettings, release: str, cluster_name: pulumi.Input[str], vpc_id: pulumi.Input[str],
           sa_annotations: dict | None = None, wafv2: bool = False) -> dict:
    """Chart values: the cluster and VPC it manages, WAFv2 when the environment has a web ACL (no
    WAF Classic or Shield, so no permissions for them);
    the ServiceAccount annotated with its role in IRSA mode; the chart's two replicas spread over
    zones and kept through a drain by a disruption budget (its webhooks fail closed, so losing
    both stops every Ingress change)."""
    return {
        "clusterName": cluster_name,
        "region": settings.aws_region,
        "podDisruptionBudget": {"maxUnavailable": 1},  # rendered only with replicaCount > 1 (2 by default)
        "topologySpreadConstraints": zone_spread(settings, {
            "app.kubernetes.io/name": CHART, "app.kubernetes.io/instance": release}),
        "vpcId": vpc_id,
        "serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": dict(sa_annotations or {})},
        "webhookBindPort": WEBHOOK_PORT,
        "enableShield": False, "enableWaf": False, "enableWafv2": wafv2,
        # The chart's Service mutator webhook (failurePolicy Fail) intercepts every Service in the
        # cluster to default type LoadBalancer Services to NLBs. paved exposes services through
        # Ingress only, so the webhook would only make every Service wait for this controller.
        "enableServiceMutatorWebhook": False,
        "resources": CONTROLLER_RESOURCES,
        # The chart sets no seccomp profile or capability drop; its namespace enforces restricted.
        "securityContext": RESTRICTED_CONTAINER,
    }


@dataclass(frozen=True)
class AwsLoadBalancerController:
    """The add-on, for the VPC ``vpc_id``; the stack's ingress settings name its certificate."""

    cluster: ClusterAccess
    partition: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    web_acl_arn: pulumi.Input[str] | None = None  # the environment's WAFv2 web ACL (components/waf.py)

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """Its namespace and identity, then the chart."""
        s = ctx.settings
        assert s.ingress is not None
        namespace = platform_namespace(f"{ctx.prefix}-ns", ctx.namespace, s, ctx.options(), webhook_port=WEBHOOK_PORT,
                                       aws_role=True)
        statements = pulumi.Output.all(self.partition, self.cluster.account_id, self.vpc_id,
                                       self.cluster_security_group_id, self.web_acl_arn).apply(
            lambda v: controller_statements(v[0], s.aws_region, v[1], v[2], v[3], s.ingress.certificate_arn, v[4]))
        identity = self.cluster.identity(f"{ctx.prefix}-identity", ctx, SERVICE_ACCOUNT, extra_statements=statements)
        annotations = role_annotations(s.cluster.identity, identity.role_arn)
        release = f"{ctx.prefix}-chart"
        return chart(release, CHART, ctx.namespace,
                     values(s, release, self.cluster.cluster_name, self.vpc_id, annotations,
                            wafv2=self.web_acl_arn is not None), ctx.options(namespace, identity))
