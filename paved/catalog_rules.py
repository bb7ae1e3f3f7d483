"""Catalog checks that stand on their own: credentials in values, egress blocks, repeated names.

Part of catalog validation (paved.catalog), in a module of its own.
"""

from __future__ import annotations

import re
from typing import Any

from paved.cidr import covers_public_internet, ip_network
from paved.model import Service
from paved.yamlsrc import Path

# Segments of an env var name that mean "this is a credential": it belongs in `secrets`.
SECRET_WORDS = {"PASSWORD", "PASSWD", "PWD", "TOKEN", "SECRET", "KEY", "APIKEY", "CREDENTIALS"}
# Values that are credentials whatever the variable is called: a URL with a password, and
# the fixed prefixes of keys that providers issue (and secret scanners look for).
CREDENTIAL_VALUES = (
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:[^/?#@\s]+@")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[A-Za-z0-9_-]{35}")),
    ("an API secret key", re.compile(r"\bsk-(proj-|ant-)?[A-Za-z0-9_-]{20,}")),
    # A signed JWT: base64url header and claims (both JSON objects, so "eyJ"), and a signature.
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")),
    # key=value connection strings (libpq, ADO.NET, Azure storage) with a password in them.
    ("a connection string with a password", re.compile(
        r"(?i)(^|[\s;])(password|pwd|accountkey|sharedaccesskey)\s*=\s*[^\s;]+")),
)

def credential_kind(value: str) -> str | None:
    """What ``value`` looks like if it is a credential (``"a URL with a password"``), else None."""
    for kind, pattern in CREDENTIAL_VALUES:
        if pattern.search(value):
            return kind
    return None


def repeated(where: Path, names: list[str], what: str) -> list[tuple[Path, str]]:
    first: dict[str, int] = {}
    found = []
    for i, name in enumerate(names):
        if name in first:
            found.append((where + (i,), f"{what} {name!r} is listed twice (first at {where[-1]}[{first[name]}])"))
        first.setdefault(name, i)
    return found


# Egress a service may not declare: link-local space holds the node's instance metadata
# (169.254.169.254, the node role's credentials) and the Pod Identity Agent (paved allows the
# agent itself); loopback never leaves the pod.
FORBIDDEN_EGRESS = (("link-local space (instance metadata, the node's credentials)", ip_network("169.254.0.0/16")),
                    ("link-local space (instance metadata, the node's credentials)", ip_network("fe80::/10")),
                    ("loopback", ip_network("127.0.0.0/8")), ("loopback", ip_network("::1/128")))


def egress_rules(svc: Service, settings: Any = None) -> list[tuple[Path, str]]:
    # Compared as networks: 2001:DB8::/32 and 2001:db8::/32 are one block.
    found = repeated(("egress",), [str(ip_network(e.cidr)) for e in svc.egress], "CIDR block")
    for i, rule in enumerate(svc.egress):
        found += [(("egress", i) + loc, msg) for loc, msg in repeated(("ports",), [str(p) for p in rule.ports], "port")]
    vpc = ip_network(settings.network.cidr) if settings is not None else None
    for i, rule in enumerate(svc.egress):
        net = ip_network(rule.cidr)
        for what, block in FORBIDDEN_EGRESS:
            if net.version == block.version and net.overlaps(block):
                found.append((("egress", i, "cidr"), f"{rule.cidr} overlaps {block} ({what}); declare only external "
                              "destinations"))
        if vpc is not None and net.version == vpc.version and net.overlaps(vpc):
            # With the vpc-cni, pods take VPC addresses: such a block would reach every pod
            # of the cluster, past the NetworkPolicies that admit only declared callers.
            found.append((("egress", i, "cidr"), f"{rule.cidr} overlaps the stack's VPC {vpc}, where the cluster's "
                          "pods run; reach other services through `calls`, not `egress`"))
    if len(svc.egress) > 1 and covers_public_internet([ip_network(e.cidr) for e in svc.egress]):
        found.append((("egress",), "these CIDR blocks together cover every public address, which opens egress to "
                      "the whole internet; list the provider's own ranges"))
    return found
