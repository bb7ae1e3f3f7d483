"""Public exposure: the AWS Load Balancer Controller and one shared, HTTPS-only ALB per
environment, with an Ingress per public service."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.addons import AddOnContext, ClusterAccess
from components.addons import aws_load_balancer_controller as controller
from components.edge_auth import auth_annotations
from components.labels import name_labels
from paved.model import Service, Team
from paved.naming import HTTP_PORT_NAME
from paved.stack import StackSettings

INGRESS_CLASS = "alb"


WAF_ANNOTATION = "alb.ingress.kubernetes.io/wafv2-acl-arn"


def ingress_args(service: Service, team: Team, settings: StackSettings,
                 web_acl_arn: pulumi.Input[str] | None = None) -> k8s.networking.v1.IngressInitArgs:
    """An Ingress on the environment's shared ALB: HTTPS with a TLS 1.2+ policy, port 80 only
    redirecting to 443, pods as targets, behind the environment's WAF web ACL."""
    assert service.public is not None and settings.ingress is not None
    annotations: dict[str, pulumi.Input[str]] = {
        "alb.ingress.kubernetes.io/group.name": f"paved-{settings.environment}",
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        "alb.ingress.kubernetes.io/ssl-redirect": "443",
        "alb.ingress.kubernetes.io/certificate-arn": settings.ingress.certificate_arn,
        "alb.ingress.kubernetes.io/ssl-policy": settings.ingress.ssl_policy,
        "alb.ingress.kubernetes.io/healthcheck-path": service.probes.readiness.path,
    }
    if web_acl_arn is not None:
        annotations[WAF_ANNOTATION] = web_acl_arn
    annotations.update(auth_annotations(service))
    return k8s.networking.v1.IngressInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=service.name, namespace=team.namespace_name, annotations=annotations,
                                            labels=name_labels(service.name)),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=INGRESS_CLASS,
            rules=[k8s.networking.v1.IngressRuleArgs(
                host=service.public.host,
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[k8s.networking.v1.HTTPIngressPathArgs(
                    path=service.public.path, path_type="Prefix",
                    backend=k8s.networking.v1.IngressBackendArgs(service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=service.name, port=k8s.networking.v1.ServiceBackendPortArgs(name=HTTP_PORT_NAME))),
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
    web_acl_arn: pulumi.Input[str] | None = None


class LoadBalancerController(pulumi.ComponentResource):
    """The AWS Load Balancer Controller (pinned chart) with its own least-privilege identity."""

    def __init__(self, name: str, args: LoadBalancerControllerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:ingress:LoadBalancerController", name, None, opts)
        s = args.settings
        assert s.ingress is not None
        cluster = ClusterAccess(cluster_name=args.cluster_name, cluster_arn=args.cluster_arn, account_id=args.account_id,
                                oidc_provider_arn=args.oidc_provider_arn, oidc_issuer=args.oidc_issuer)
        controller.AwsLoadBalancerController(
            cluster=cluster, partition=args.partition, vpc_id=args.vpc_id,
            cluster_security_group_id=args.cluster_security_group_id, web_acl_arn=args.web_acl_arn,
        ).deploy(AddOnContext(prefix=name, namespace=controller.NAMESPACE, settings=s, parent=self))
        self.ingress_class = pulumi.Output.from_input(INGRESS_CLASS)
        self.register_outputs({"ingress_class": self.ingress_class})
