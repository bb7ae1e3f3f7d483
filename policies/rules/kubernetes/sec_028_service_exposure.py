"""PAVED-SEC-028: LoadBalancer and NodePort Services only where allowed (advisory; mandatory in prod)."""

from __future__ import annotations

from policies.framework import Rule
from paved.resources import UNKNOWN, lookup, object_name

SERVICE = "kubernetes:core/v1:Service"
EXPOSED = ("LoadBalancer", "NodePort")


def _validate(args, report):
    kind = lookup(args.props, "spec.type")
    if kind not in (*EXPOSED, UNKNOWN):
        return
    name = object_name(args.props, args.name)
    namespace = lookup(args.props, "metadata.namespace")
    allowed = set(args.get_config().get("allowedServices", []))
    if name in allowed or (isinstance(namespace, str) and f"{namespace}/{name}" in allowed):
        return
    found = "it is unknown at preview" if kind is UNKNOWN else f"it is {kind}"
    report(f"Service {name} must be of type ClusterIP and reach the outside through the ingress ({found}; only "
           f"allowedServices may be LoadBalancer or NodePort).")


RULE = Rule(
    id="PAVED-SEC-028",
    name="service-exposure-allow-list",
    description="Checks whether a Service of type LoadBalancer or NodePort is on the allowedServices list, so only "
    "reviewed entry points get a cloud load balancer or a port on every node.",
    severity="medium",
    remediation="Use type ClusterIP and publish through the ingress (catalog public:); add the Service to "
    "allowedServices (name or namespace/name) in policies/config/<env>.json only for a reviewed entry point.",
    anchors=("ks:service-type", "PCRP kubernetes-core-v1-service-disallow-load-balancer"),
    validate=_validate,
    resource_types=frozenset({SERVICE}),
    config={
        "allowedServices": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "Services (name or namespace/name) that may be LoadBalancer or NodePort.",
        }
    },
    enforcement="advisory",
)
