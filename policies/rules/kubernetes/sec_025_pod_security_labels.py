"""PAVED-SEC-025: every Namespace enforces, audits and warns at Pod Security ``restricted``.

The in-cluster backstop for PAVED-SEC-001..017: Pod Security Admission rejects what these
rules missed (objects applied outside Pulumi, Helm charts). ``baselineNamespaces`` records the
namespaces allowed at ``baseline`` instead (monitoring, for node-level exporters);
``privilegedNamespaces`` those allowed to *enforce* ``privileged`` (logging, whose Fluent Bit
reads the nodes' log files), still auditing and warning at ``restricted``.
"""

from __future__ import annotations

import re

from policies.framework import Rule
from paved.resources import UNKNOWN, lookup, object_name

NAMESPACE = "kubernetes:core/v1:Namespace"
PREFIX = "pod-security.kubernetes.io/"
VERSION = re.compile(r"^v1\.\d+$")


def _validate(args, report):
    config = args.get_config()
    name = lookup(args.props, "metadata.name")
    exception = isinstance(name, str) and name in config.get("baselineNamespaces", [])
    privileged = isinstance(name, str) and name in config.get("privilegedNamespaces", [])
    who = f"Namespace {object_name(args.props, args.name)}"
    labels = lookup(args.props, "metadata.labels", {})
    for mode in ("enforce", "audit", "warn"):
        levels = ("restricted", "baseline") if exception else ("restricted",)
        if privileged and mode == "enforce":  # audit and warn stay restricted: every deviation stays visible
            levels = ("restricted", "privileged")
        wanted = " or ".join(levels)
        key = PREFIX + mode
        value = UNKNOWN if labels is UNKNOWN else lookup(labels, (key,))
        if value is UNKNOWN:
            report(f"{who} must label {key}: {wanted} (it is unknown at preview).")
        elif value not in levels:
            found = "it is missing" if value is None else f"found {value}"
            report(f"{who} must label {key}: {wanted} ({found}).")
    key = PREFIX + "enforce-version"
    version = UNKNOWN if labels is UNKNOWN else lookup(labels, (key,))
    if version is not UNKNOWN and not (isinstance(version, str) and VERSION.fullmatch(version)):
        found = "it is missing" if version is None else f"found {version}"
        report(f"{who} must pin {key} to the cluster's minor version, e.g. v1.31 ({found}).")


RULE = Rule(
    id="PAVED-SEC-025",
    name="namespace-pod-security-labels",
    description="Checks whether every Namespace carries Pod Security Admission labels enforce, audit and warn at "
    "restricted (baseline only for baselineNamespaces; enforce privileged only for privilegedNamespaces, whose audit "
    "and warn stay restricted) and a pinned enforce-version.",
    severity="high",
    remediation="Label the namespace pod-security.kubernetes.io/{enforce,audit,warn}: restricted and "
    "pod-security.kubernetes.io/enforce-version: v1.<cluster minor> (paved's TeamNamespace does).",
    anchors=("PSS: Pod Security Admission labels", "CIS EKS 4.2", "NSA: Pod security enforcement"),
    validate=_validate,
    resource_types=frozenset({NAMESPACE}),
    config={
        "baselineNamespaces": {
            "type": "array", "items": {"type": "string"}, "default": ["monitoring"],
            "description": "Namespaces allowed to enforce baseline instead of restricted; each entry is a recorded "
            "exception (monitoring runs node-level exporters).",
        },
        "privilegedNamespaces": {
            "type": "array", "items": {"type": "string"}, "default": ["logging"],
            "description": "Namespaces allowed to enforce privileged (audit and warn stay restricted); each entry is a "
            "recorded exception (logging runs the node log reader; the pod rules admit only its recorded workload, "
            "policies/rules/kubernetes/node_access.py).",
        },
    },
)
