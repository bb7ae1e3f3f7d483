"""PAVED-DEP-006: a Secrets Manager secret that a pod reads through ESO has a value before the first deploy.

``pulumi up`` creates the Secrets Manager secret *empty* unless something gives it a first
value: a SecretVersion in the plan, or, without the value entering Pulumi state, an External
Secrets ``PushSecret`` that writes a generated value (``selector.generatorRef``) to it
(paved does this for every ``rotation: managed`` secret). Otherwise the ExternalSecret fails to
sync (``SecretSyncedError``: the secret has no AWSCURRENT version), its Kubernetes Secret never
appears, and the pods that mount it never start. Third-party values are set by people with
``paved secrets put``; this rule says which ones a first deploy needs. It is advisory: whether
the value already exists in AWS is a live fact, checked by ``paved secrets status
--require-values`` in the deploy workflow.
"""

from __future__ import annotations

from typing import Any

from paved.naming import ALERTS_SECRET_OWNER, SERVICE_LABEL
from paved.resources import SECRET, UNKNOWN, items, labels_at, lookup
from policies.framework import Rule
from policies.rules.deploy.graph import Graph, environment, kind, shown_name

SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
EXTERNAL_SECRETS_GROUP = "kubernetes:external-secrets.io/"


def remote_keys(external_secret: Any) -> list[str]:
    """Secrets Manager keys an ExternalSecret reads (``data[].remoteRef.key``, ``dataFrom[].extract.key``);
    empty when it generates its value."""
    keys = [lookup(d, "remoteRef.key") for d in items(external_secret.props, "spec.data")]
    for d in items(external_secret.props, "spec.dataFrom"):
        keys.append(lookup(d, "extract.key"))
    return [k for k in keys if isinstance(k, str)]


def generated_keys(graph: Graph) -> set[str]:
    """Secrets Manager keys that a PushSecret fills from a generator (a value made in the cluster)."""
    keys: set[str] = set()
    for r in graph.resources:
        if not r.resource_type.startswith(EXTERNAL_SECRETS_GROUP) or kind(r) != "PushSecret":
            continue
        if not isinstance(lookup(r.props, "spec.selector.generatorRef.name"), str):
            continue
        for d in items(r.props, "spec.data"):
            key = lookup(d, "match.remoteRef.remoteKey")
            if isinstance(key, str):
                keys.add(key)
    return keys


def has_value(graph: Graph, secret: Any, generated: set[str] = frozenset()) -> bool:
    """Whether the plan writes a first version of a Secrets Manager secret."""
    secret_name = lookup(secret.props, "name")
    if isinstance(secret_name, str) and secret_name in generated:
        return True
    for v in graph.of_type(SECRET_VERSION):
        secret_id = lookup(v.props, "secretId")
        if isinstance(secret_id, str) and isinstance(secret_name, str) and secret_name in secret_id:
            return True
        if secret.urn in {d.urn for d in getattr(v, "dependencies", None) or []}:
            return True
        if secret_id is UNKNOWN and v.name.startswith(secret.name):  # paved names it <secret>-version
            return True
    return False


def validate_stack(args, report) -> None:
    graph = Graph(args.resources)
    env = environment(args) or "<env>"
    by_name = {lookup(s.props, "name"): s for s in graph.of_type(SECRET) if isinstance(lookup(s.props, "name"), str)}
    generated = generated_keys(graph)
    for es in graph.resources:
        if not es.resource_type.startswith(EXTERNAL_SECRETS_GROUP) or kind(es) != "ExternalSecret":
            continue
        service = labels_at(es.props, "metadata.labels").get(SERVICE_LABEL) or "<service>"
        for key in remote_keys(es):
            secret = by_name.get(key)
            if secret is None or has_value(graph, secret, generated):
                continue
            short, owner = key.rsplit("/", 1)[-1], service
            parts = key.split("/", 2)
            if len(parts) == 3 and parts[1] == ALERTS_SECRET_OWNER:  # an alert receiver's: `_alerts <team>/<kind>`
                owner, short = ALERTS_SECRET_OWNER, parts[2]
            report(f"ExternalSecret {shown_name(es)} needs a value before first deploy: Secrets Manager secret {key} "
                   f"is created empty (no SecretVersion, no PushSecret from a generator); run `paved secrets put --stack {env} "
                   f"{owner} {short}`.", es.urn)


RULE = Rule(
    id="PAVED-DEP-006",
    name="secret-initial-value",
    description=(
        "Checks whether every Secrets Manager secret in the plan that an ExternalSecret reads (remoteRef.key, "
        "extract.key) gets a first value from the plan (an aws:secretsmanager/secretVersion:SecretVersion) or from a "
        "PushSecret of a generated value (selector.generatorRef, data[].match.remoteRef.remoteKey); otherwise it "
        "names the `paved secrets put` command that gives it one."
    ),
    severity="medium",
    remediation=(
        "Before the first `pulumi up` of the stack, run `paved secrets put --stack <env> <service> <secret>` for each "
        "secret named (or mark it `rotation: managed` in the catalog, so the platform generates it); later deploys "
        "keep the value."
    ),
    anchors=(
        "external-secrets.io provider aws-secrets-manager (reads the AWSCURRENT version; SecretSyncedError when absent)",
        "docs.aws.amazon.com/secretsmanager: CreateSecret without SecretString creates a secret with no version",
        "external-secrets.io PushSecret: selector.generatorRef, updatePolicy IfNotExists",
    ),
    validate_stack=validate_stack,
    config={
        "environment": {"type": "string", "default": "",
                        "description": "The stack's environment, for the command in the message (else the aws "
                                       "provider's environment default tag)."},
    },
    enforcement="advisory",
)
