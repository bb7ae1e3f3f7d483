"""PAVED-SEC-027: secret-looking environment variables take their value from a Secret, never a literal.

A variable that names a file (``DB_PASSWORD_FILE=/var/run/secrets/paved/db-password``, the
``*_FILE`` convention) holds a path into a mounted Secret volume, not the secret: an absolute
path in a variable whose name ends with one of ``fileReferenceSuffixes`` passes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from policies.framework import Rule, container_check
from paved.resources import WORKLOAD_TYPES, is_set, items, lookup

# The words pass, secret, token, key and credential, at name-segment boundaries, as
# `paved validate` reads them (paved/catalog.py): DB_PASSWORD, APITOKEN, SIGNING_KEY and
# CLIENT_SECRET match; KEYBOARD_LAYOUT, TOKENIZER_MODEL, SECRETARY_EMAIL, TURKEY_MODE,
# PASSWORDLESS_LOGIN and BYPASS_CACHE do not.
NAME_PATTERN = r"(?i)(^|_)(pass|pwd|key|secret|token)(_|$)|(password|passwd|secret|token|credentials?|apikey)(_|$)"
FILE_SUFFIXES = ["_FILE", "_PATH"]


def _file_reference(name: str, value, suffixes) -> bool:
    return isinstance(value, str) and value.startswith("/") and name.upper().endswith(tuple(s.upper() for s in suffixes))


def _check(container, pod, config):
    pattern = re.compile(config.get("namePattern", NAME_PATTERN))
    exempt = set(config.get("allowedNames", []))
    suffixes = list(config.get("fileReferenceSuffixes", FILE_SUFFIXES))
    literal = []
    for env in items(container, "env"):
        if not isinstance(env, Mapping):
            continue
        name = lookup(env, "name")
        if not isinstance(name, str) or name in exempt or not pattern.search(name):
            continue
        # A computed value (a generated password's output) is still a literal in the pod spec.
        value = lookup(env, "value")
        if is_set(env, "value") and not _file_reference(name, value, suffixes):
            literal.append(name)
    if literal:
        return f"take {', '.join(literal)} from a Secret (a mounted secret file or valueFrom.secretKeyRef), not a literal value"
    return None


RULE = Rule(
    id="PAVED-SEC-027",
    name="no-literal-secret-env",
    description="Checks whether any container sets an environment variable whose name looks secret (password, "
    "secret, token, key, credential) to a literal value, which lands in the pod spec, the Pulumi state and kubectl output.",
    severity="high",
    remediation="Declare the secret in the catalog's secrets: list (stored in Secrets Manager) and read it from the "
    "mounted secret file (NAME_FILE=/path) or env[].valueFrom.secretKeyRef; list a harmless name in allowedNames only "
    "after review.",
    anchors=("CKV_K8S_35", "pol:sensitiveContainerEnvVar", "CIS EKS 4.4.1"),
    validate=container_check(_check),
    resource_types=WORKLOAD_TYPES,
    config={
        "namePattern": {
            "type": "string", "default": NAME_PATTERN,
            "description": "Regular expression (searched, re.search) for environment variable names that hold secrets.",
        },
        "allowedNames": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "Variable names that match namePattern but hold no secret (e.g. KEY_ALGORITHM); recorded exceptions.",
        },
        "fileReferenceSuffixes": {
            "type": "array", "items": {"type": "string"}, "default": FILE_SUFFIXES,
            "description": "Name endings of variables that carry the absolute path of a mounted secret file, not the secret.",
        },
    },
)
