"""PAVED-SEC-033: an internet-facing ALB Ingress is behind a WAF web ACL of the plan.

The AWS Load Balancer Controller associates the web ACL named in
``alb.ingress.kubernetes.io/wafv2-acl-arn`` with the Ingress's ALB. Without it the ALB has no
managed rule groups and no rate limit. The ARN must name a web ACL the plan creates (by the name
in ``.../webacl/<name>/<id>``), so a deleted or misspelled ACL is caught before the controller
fails to associate it. An ARN unknown at preview (computed in the same run) counts as set.
"""

from __future__ import annotations

from typing import Any

from paved.resources import UNKNOWN, lookup, object_name
from policies.framework import Rule

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_ANNOTATION = "alb.ingress.kubernetes.io/wafv2-acl-arn"
SCHEME_ANNOTATION = "alb.ingress.kubernetes.io/scheme"


def annotation(props: Any, key: str) -> Any:
    """An Ingress annotation (None when absent, UNKNOWN when unknown at preview)."""
    return lookup(props, ("metadata", "annotations", key))


def is_public_alb(props: Any) -> bool:
    """An ALB Ingress (class ``alb``) whose scheme is internet-facing (unknown counts as public)."""
    alb = lookup(props, "spec.ingressClassName") in ("alb", UNKNOWN) or \
        annotation(props, "kubernetes.io/ingress.class") == "alb"
    return alb and annotation(props, SCHEME_ANNOTATION) in ("internet-facing", UNKNOWN)


def web_acl_name(arn: str) -> str | None:
    """``arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>`` → ``<name>``."""
    resource = arn.split(":", 5)[-1] if arn.startswith("arn:") and arn.count(":") >= 5 else ""
    parts = resource.split("/")
    return parts[2] if len(parts) == 4 and parts[0] == "regional" and parts[1] == "webacl" else None


def validate_stack(args, report) -> None:
    regional = {lookup(r.props, "name") for r in args.resources
                if r.resource_type == WEB_ACL and lookup(r.props, "scope") in ("REGIONAL", UNKNOWN)}
    for r in args.resources:
        if r.resource_type != INGRESS or not is_public_alb(r.props):
            continue
        who = f"Ingress {object_name(r.props, r.name)}"
        arn = annotation(r.props, WAF_ANNOTATION)
        if arn is UNKNOWN:
            continue
        if not isinstance(arn, str) or not arn.strip():
            report(f"{who} must name a WAFv2 web ACL in the {WAF_ANNOTATION} annotation (it is internet-facing "
                   "and has none).", r.urn)
            continue
        name = web_acl_name(arn.strip())
        if name is None:
            report(f"{who} must name a REGIONAL WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/"
                   f"<name>/<id>) in {WAF_ANNOTATION} (it is {arn!r}).", r.urn)
        elif name not in regional and UNKNOWN not in regional:
            report(f"{who} must name a WAFv2 web ACL the plan creates in {WAF_ANNOTATION} (web ACL {name!r} is not "
                   "in this stack).", r.urn)


RULE = Rule(
    id="PAVED-SEC-033",
    name="public-ingress-waf",
    description=(
        "Checks whether every internet-facing ALB Ingress names, in alb.ingress.kubernetes.io/wafv2-acl-arn, a "
        "REGIONAL WAFv2 web ACL that the plan creates (matched by the name in its ARN; an ARN unknown at preview "
        "counts as set)."
    ),
    severity="high",
    remediation=(
        "Keep the service's public: entry (the platform gives every public Ingress the environment's web ACL, "
        "components/waf.py); for a hand-written Ingress set alb.ingress.kubernetes.io/wafv2-acl-arn to the ARN "
        "of an aws.wafv2.WebAcl with scope REGIONAL in the same stack."
    ),
    anchors=("AWS Well-Architected SEC06-BP03 (protect the network edge)", "CKV_AWS_192 (WAF on ALB)",
             "aws-load-balancer-controller annotation wafv2-acl-arn"),
    validate_stack=validate_stack,
    enforcement="mandatory",
)
