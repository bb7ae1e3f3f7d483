"""Public exposure: the AWS Load Balancer Controller and one shared, HTTPS-only ALB per
environment, with an Ingress per public service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.identity import ServiceIdentity, ServiceIdentityArgs
from components.secrets import OPERATOR_CONTAINER_SECURITY, chart, platform_namespace
from paved.model import Service, Team
from paved.stack import StackSettings

NAMESPACE = "aws-load-balancer"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
WEBHOOK_PORT = 9443
INGRESS_CLASS = "alb"
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# The controller calls the EC2 and ELB APIs: reached through interface endpoints in the VPC.
ENDPOINTS = ("ec2", "elasticloadbalancing")


def controller_statements(partition: str, region: str, account: str, vpc_id: str, cluster_sg: str,
                          certificate_arn: str) -> list[dict[str, Any]]:
    """The controller's permissions, scoped to what it creates (tagged with the cluster tag).

    Only the read-only Describe actions, which AWS cannot scope to a resource, use ``*``.
    """
    ec2 = f"arn:{partition}:ec2:{region}:{account}"
    elb = f"arn:{partition}:elasticloadbalancing:{region}:{account}"
    balancers = [f"{elb}:loadbalancer/app/*/*", f"{elb}:targetgroup/*/*"]
    owned = {"Null": {f"aws:ResourceTag/{CLUSTER_TAG}": "false"}}
    return [
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
                    "elasticloadbalancing:AddTags"],
         "Resource": [f"{elb}:loadbalancer/app/*/*", f"{elb}:listener/app/*/*/*", f"{elb}:listener-rule/app/*/*/*/*"]},
        {"Sid": "RegisterTargets", "Effect": "Allow",
         "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
         "Resource": f"{elb}:targetgroup/*/*"},
    ]


def ingress_args(service: Service, team: Team, settings: StackSettings) -> k8s.networking.v1.IngressInitArgs:
    """An Ingress on the environment's shared ALB: HTTPS only, TLS 1.2+, pods as targets."""
    assert service.public is not None and settings.ingress is not None
    annotations = {
        "alb.ingress.kubernetes.io/group.name": f"paved-{settings.environment}",
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTPS": 443}]),
        "alb.ingress.kubernetes.io/certificate-arn": settings.ingress.certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": settings.ingress.ssl_policy,
        "alb.ingress.kubernetes.io/healthcheck-path": service.probes.readiness.path,
    }
    return k8s.networking.v1.IngressInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=service.name, namespace=team.namespace_name, annotations=annotations,
                                            labels={"app.kubernetes.io/name": service.name}),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=INGRESS_CLASS,
            rules=[k8s.networking.v1.IngressRuleArgs(
                host=service.public.host,
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[k8s.networking.v1.HTTPIngressPathArgs(
                    path=service.public.path, path_type="Prefix",
                    backend=k8s.networking.v1.IngressBackendArgs(service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=service.name, port=k8s.networking.v1.ServiceBackendPortArgs(name="http"))),
                )]),
            )],
        ),
    )


@dataclass(frozen=True)
class LoadBalancerControllerArgs:
    """Where the controller runs and what it may touch."""

    settings: StackSettings
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    partition: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    cluster_security_group_id: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str] | None = None
    oidc_issuer: pulumi.Input[str] | None = None


class LoadBalancerController(pulumi.ComponentResource):
    """The AWS Load Balancer Controller (pinned chart) with its own least-privilege identity."""

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:ingress:LoadBalancerController", name, None, opts)
        s = args.settings
        assert s.ingress is not None
        child = pulumi.ResourceOptions(parent=self)
        namespace = platform_namespace(f"{name}-ns", NAMESPACE, s, child, webhook_port=WEBHOOK_PORT)
        statements = pulumi.Output.all(args.partition, args.account_id, args.vpc_id, args.cluster_security_group_id).apply(
            lambda v: controller_statements(v[0], s.aws_region, v[1], v[2], v[3], s.ingress.certificate_arn))
        identity = ServiceIdentity(f"{name}-identity", ServiceIdentityArgs(
            service=SERVICE_ACCOUNT, namespace=NAMESPACE, mode=s.cluster.identity, cluster_name=args.cluster_name,
            cluster_arn=args.cluster_arn, account_id=args.account_id, region=s.aws_region,
            tags={"owner": s.platform_owner, "cost-center": s.platform_cost_center, "service": "aws-load-balancer-controller"},
            extra_statements=statements, oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer), opts=child)
        chart(f"{name}-chart", "aws-load-balancer-controller", NAMESPACE, {
            "clusterName": args.cluster_name,
            "region": s.aws_region,
            "vpcId": args.vpc_id,
            "serviceAccount": {"name": SERVICE_ACCOUNT},
            "webhookBindPort": WEBHOOK_PORT,
            # No WAF or Shield integration: the controller then needs no permissions for them.
            "enableShield": False, "enableWaf": False, "enableWafv2": False,
            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
            "securityContext": OPERATOR_CONTAINER_SECURITY,
        }, pulumi.ResourceOptions(parent=self, depends_on=[namespace, identity]))
        self.ingress_class = pulumi.Output.from_input(INGRESS_CLASS)
        self.register_outputs({"ingress_class": self.ingress_class})
