"""PAVED-SEC-034: an internet-facing ALB Ingress listens on HTTPS with a modern TLS policy.

The AWS Load Balancer Controller reads the listeners from ``alb.ingress.kubernetes.io/listen-ports``
(HTTP:80 when unset) and the HTTPS listeners' TLS policy from ``.../ssl-policy``: unset, the
controller's default is the legacy ``ELBSecurityPolicy-2016-08``, which still negotiates TLS 1.0
and 1.1. An HTTP listener is allowed only as a redirect to HTTPS (``.../ssl-redirect``).
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from paved.resources import UNKNOWN, object_name
from policies.framework import Rule
from policies.rules.kubernetes.sec_033_public_ingress_waf import INGRESS, annotation, is_public_alb

PREFIX = "alb.ingress.kubernetes.io/"
# ELB's TLS 1.2-and-up policies (TLS 1.3 ones first); everything else still offers TLS 1.0/1.1.
MODERN_TLS_POLICIES = [
    "ELBSecurityPolicy-TLS13-1-2-*",
    "ELBSecurityPolicy-TLS13-1-3-*",
    "ELBSecurityPolicy-TLS-1-2-*",
    "ELBSecurityPolicy-FS-1-2-*",
]


def listeners(raw: Any) -> list[tuple[str, int]] | None:
    """(protocol, port) pairs of a listen-ports annotation; None when it is not valid JSON of that shape."""
    if raw is None:
        return [("HTTP", 80)]  # the controller's default
    try:
        value = json.loads(raw)
        return [(proto.upper(), int(port)) for entry in value for proto, port in entry.items()]
    except (TypeError, ValueError, AttributeError):
        return None


def problems(props: Any, allowed: list[str]) -> list[str]:
    """What keeps one public Ingress from HTTPS-only with a modern policy."""
    raw = annotation(props, PREFIX + "listen-ports")
    if raw is UNKNOWN:
        return []
    found = listeners(raw)
    if found is None:
        return [f"set {PREFIX}listen-ports to a JSON list such as [{{\"HTTPS\": 443}}] (it is {raw!r})"]
    out = []
    https = [port for proto, port in found if proto == "HTTPS"]
    if not https:
        out.append(f"listen on HTTPS ({PREFIX}listen-ports is {raw or 'unset, which means HTTP:80'})")
    plain = [port for proto, port in found if proto == "HTTP"]
    redirect = annotation(props, PREFIX + "ssl-redirect")
    if plain and redirect is not UNKNOWN and (redirect is None or str(redirect) not in {str(p) for p in https}):
        out.append(f"redirect its HTTP listener {plain} to an HTTPS port with {PREFIX}ssl-redirect "
                   f"(it is {'unset' if redirect is None else repr(redirect)})")
    if https:
        policy = annotation(props, PREFIX + "ssl-policy")
        if policy is not UNKNOWN and not (isinstance(policy, str) and any(fnmatchcase(policy, p) for p in allowed)):
            shown = "unset, so the controller's ELBSecurityPolicy-2016-08 (TLS 1.0+)" if policy is None else repr(policy)
            out.append(f"use a TLS 1.2+ policy in {PREFIX}ssl-policy such as ELBSecurityPolicy-TLS13-1-2-2021-06 "
                       f"(it is {shown})")
        if annotation(props, PREFIX + "certificate-arn") is None and not (props.get("spec") or {}).get("tls"):
            out.append(f"name its certificate in {PREFIX}certificate-arn (an HTTPS listener needs one)")
    return out


def _validate(args, report) -> None:
    if not is_public_alb(args.props):
        return
    allowed = [str(p) for p in args.get_config()["allowedSslPolicies"]]
    found = problems(args.props, allowed)
    if found:
        report(f"Ingress {object_name(args.props, args.name)} must " + "; and ".join(found) + ".")


RULE = Rule(
    id="PAVED-SEC-034",
    name="public-ingress-tls",
    description=(
        "Checks whether every internet-facing ALB Ingress listens on HTTPS (listen-ports), sends plain HTTP only "
        "as a redirect to it (ssl-redirect), names a certificate, and sets an ssl-policy matching "
        "allowedSslPolicies (TLS 1.2 and up)."
    ),
    severity="high",
    remediation=(
        "Set alb.ingress.kubernetes.io/listen-ports to [{\"HTTP\": 80}, {\"HTTPS\": 443}] with ssl-redirect "
        "\"443\" (or HTTPS only), certificate-arn, and ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06 "
        "(paved:ingress.sslPolicy in the stack; the platform's Ingresses do this)."
    ),
    anchors=("CKV_AWS_103 (ALB listener TLS 1.2)", "CKV_AWS_2 (ALB listener HTTPS)",
             "AWS ELB docs: security policies for Application Load Balancers"),
    validate=_validate,
    resource_types=frozenset({INGRESS}),
    config={
        "allowedSslPolicies": {
            "type": "array", "items": {"type": "string"}, "default": MODERN_TLS_POLICIES,
            "description": "ELB TLS policy name patterns (fnmatch) an internet-facing Ingress may use.",
        }
    },
    enforcement="mandatory",
)
