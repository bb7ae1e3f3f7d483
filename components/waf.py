"""A protected edge: the environment's AWS WAFv2 web ACL in front of the shared public ALB.

Every public service shares one internet-facing ALB (the Ingress group ``paved-<env>``), and an
ALB takes one web ACL, so there is one REGIONAL web ACL per environment. It runs, in order:

1. AWS managed rule groups: the Amazon IP reputation list, the core rule set (OWASP-style
   common attacks) and known bad inputs (Log4j, exploit paths), each with its own metrics;
2. one rate-based rule per public service with ``public.rateLimit``: requests per client IP in
   5 minutes, counted only for the service's host and path (the scope-down statement), blocked
   above the limit.

Requests no rule blocks are allowed. The Ingress of each public service names the web ACL in
``alb.ingress.kubernetes.io/wafv2-acl-arn``; the AWS Load Balancer Controller associates it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pulumi_aws.wafv2 import (
    WebAclArgs,
    WebAclDefaultActionAllowArgs,
    WebAclDefaultActionArgs,
    WebAclRuleActionArgs,
    WebAclRuleActionBlockArgs,
    WebAclRuleArgs,
    WebAclRuleOverrideActionArgs,
    WebAclRuleOverrideActionNoneArgs,
    WebAclRuleStatementArgs,
    WebAclRuleStatementManagedRuleGroupStatementArgs,
    WebAclRuleStatementRateBasedStatementArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementAndStatementArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchSingleHeaderArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchUriPathArgs,
    WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs,
    WebAclRuleVisibilityConfigArgs,
    WebAclVisibilityConfigArgs,
)

from paved.model import Service
from paved.resources import WAF_REQUESTS_TAG
from paved.stack import StackSettings

# Cheapest first: the IP list drops known-bad sources before the larger rule sets inspect bodies.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
RATE_WINDOW_SECONDS = 300  # public.rateLimit counts requests per 5 minutes
RATE_RULE_PRIORITY = 100  # rate rules after the managed groups, in catalog order


def web_acl_name(settings: StackSettings) -> str:
    """The environment's web ACL (also its CloudWatch metric prefix)."""
    return f"paved-{settings.environment}-edge"


def _visibility(metric: str) -> WebAclRuleVisibilityConfigArgs:
    return WebAclRuleVisibilityConfigArgs(cloudwatch_metrics_enabled=True, metric_name=metric,
                                          sampled_requests_enabled=True)


def managed_rule(name: str, priority: int, prefix: str) -> WebAclRuleArgs:
    """One AWS managed rule group, with its own actions (no override) and metrics."""
    return WebAclRuleArgs(
        name=name, priority=priority,
        override_action=WebAclRuleOverrideActionArgs(none=WebAclRuleOverrideActionNoneArgs()),
        statement=WebAclRuleStatementArgs(managed_rule_group_statement=WebAclRuleStatementManagedRuleGroupStatementArgs(
            name=name, vendor_name="AWS")),
        visibility_config=_visibility(f"{prefix}-{name}"),
    )


def _match(field: WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs,
           value: str, constraint: str) -> WebAclRuleStatementRateBasedStatementScopeDownStatementArgs:
    return WebAclRuleStatementRateBasedStatementScopeDownStatementArgs(
        byte_match_statement=WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementArgs(
            field_to_match=field, positional_constraint=constraint, search_string=value,
            text_transformations=[
                WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementTextTransformationArgs(
                    priority=0, type="LOWERCASE")]))


def rate_scope(service: Service) -> WebAclRuleStatementRateBasedStatementScopeDownStatementArgs:
    """The requests a service's rate limit counts: its host (the Host header, lower-cased) and,
    below ``/``, its path prefix, the way its Ingress rule routes them."""
    assert service.public is not None
    host = _match(WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs(
        single_header=WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchSingleHeaderArgs(
            name="host")), service.public.host, "EXACTLY")
    if service.public.path.rstrip("/") == "":
        return host
    path = _match(WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchArgs(
        uri_path=WebAclRuleStatementRateBasedStatementScopeDownStatementByteMatchStatementFieldToMatchUriPathArgs()),
        service.public.path.lower(), "STARTS_WITH")
    return WebAclRuleStatementRateBasedStatementScopeDownStatementArgs(
        and_statement=WebAclRuleStatementRateBasedStatementScopeDownStatementAndStatementArgs(statements=[host, path]))


def rate_rule(service: Service, priority: int, prefix: str) -> WebAclRuleArgs:
    """Block a client IP that sends more than ``public.rateLimit`` requests in 5 minutes to the service."""
    assert service.public is not None and service.public.rate_limit is not None
    return WebAclRuleArgs(
        name=f"rate-{service.name}", priority=priority,
        action=WebAclRuleActionArgs(block=WebAclRuleActionBlockArgs()),
        statement=WebAclRuleStatementArgs(rate_based_statement=WebAclRuleStatementRateBasedStatementArgs(
            aggregate_key_type="IP", limit=service.public.rate_limit, evaluation_window_sec=RATE_WINDOW_SECONDS,
            scope_down_statement=rate_scope(service))),
        visibility_config=_visibility(f"{prefix}-rate-{service.name}"),
    )


def web_acl_args(settings: StackSettings, services: tuple[Service, ...]) -> WebAclArgs:
    """The environment's web ACL: managed rule groups, then each public service's rate limit."""
    name = web_acl_name(settings)
    rules = [managed_rule(group, i, name) for i, group in enumerate(MANAGED_RULE_GROUPS)]
    limited = [svc for svc in services if svc.public is not None and svc.public.rate_limit is not None]
    rules += [rate_rule(svc, RATE_RULE_PRIORITY + i, name) for i, svc in enumerate(limited)]
    assumed = settings.ingress.waf_requests_millions if settings.ingress is not None else 0
    return WebAclArgs(
        name=name, scope="REGIONAL", description=f"paved {settings.environment}: the public ALB's edge protection",
        default_action=WebAclDefaultActionArgs(allow=WebAclDefaultActionAllowArgs()),
        rules=rules, visibility_config=WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True),
        # The plan carries the request volume `paved cost` prices (paved.resources).
        tags={WAF_REQUESTS_TAG: str(assumed)},
    )


@dataclass(frozen=True)
class EdgeFirewallArgs:
    """The stack and the public services the web ACL protects."""

    settings: StackSettings
    services: tuple[Service, ...]


class EdgeFirewall(pulumi.ComponentResource):
    """The environment's WAFv2 web ACL; public Ingresses name its ARN."""

    web_acl_arn: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:waf:EdgeFirewall", name, None, opts)
        acl = aws.wafv2.WebAcl(f"{name}-web-acl", web_acl_args(args.settings, args.services),
                               opts=pulumi.ResourceOptions(parent=self))
        self.web_acl_arn = acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
