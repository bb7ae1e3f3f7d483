"""PAVED-SEC-035: only a service's migration Job mounts its database's master user secret.

paved delivers the RDS-managed master user secret (``<service>-db-master``, from an
ExternalSecret labelled ``paved.dev/secret-kind: database-master``) to the service's migration
Job alone, which creates the service's own login role with it (docs/data.md). A Deployment,
Rollout, StatefulSet, other Job or any pod template that mounts that Secret, or reads it through
``env``/``envFrom``, holds a credential that can do anything in the database: the finding.
A migration Job is one whose pod template carries ``app.kubernetes.io/component: migration`` and
the same ``app.kubernetes.io/name`` (service) as the ExternalSecret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from paved.naming import (
    COMPONENT_LABEL,
    DATABASE_MASTER_SECRET_KIND,
    MIGRATION_COMPONENT,
    SECRET_KIND_LABEL,
    SERVICE_LABEL,
)
from paved.resources import POD_SPEC_PATHS, containers, items, kind_of, lookup, object_name
from policies.framework import Rule

EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
JOB = "kubernetes:batch/v1:Job"


def _labels(props: Any, path: tuple[str, ...]) -> Mapping[str, Any]:
    labels = lookup(props, path)
    return labels if isinstance(labels, Mapping) else {}


def master_secrets(resources) -> dict[tuple[Any, str], Any]:
    """(namespace, Secret name) → the service each database master secret belongs to."""
    found: dict[tuple[Any, str], Any] = {}
    for r in resources:
        if r.resource_type != EXTERNAL_SECRET:
            continue
        labels = _labels(r.props, ("metadata", "labels"))
        if labels.get(SECRET_KIND_LABEL) != DATABASE_MASTER_SECRET_KIND:
            continue
        target = lookup(r.props, "spec.target.name")
        name = target if isinstance(target, str) else object_name(r.props, r.name)
        found[(lookup(r.props, "metadata.namespace"), name)] = labels.get(SERVICE_LABEL)
    return found


def secrets_used(pod: Mapping[str, Any]) -> Iterator[str]:
    """Names of the Secrets a pod spec mounts or reads into its environment."""
    for volume in items(pod, "volumes"):
        name = lookup(volume, "secret.secretName")
        if isinstance(name, str):
            yield name
        for source in items(volume, ("projected", "sources")):
            name = lookup(source, "secret.name")
            if isinstance(name, str):
                yield name
    for c in containers(pod):
        for env in items(c, "env"):
            name = lookup(env, ("valueFrom", "secretKeyRef", "name"))
            if isinstance(name, str):
                yield name
        for source in items(c, "envFrom"):
            name = lookup(source, "secretRef.name")
            if isinstance(name, str):
                yield name


def _template_labels(resource_type: str, props: Any) -> Mapping[str, Any]:
    path = POD_SPEC_PATHS[resource_type]
    return _labels(props, (*path[:-1], "metadata", "labels")) if len(path) > 1 else _labels(props, ("metadata", "labels"))


def validate_stack(args, report) -> None:
    masters = master_secrets(args.resources)
    if not masters:
        return
    for r in args.resources:
        path = POD_SPEC_PATHS.get(r.resource_type)
        if path is None:
            continue
        pod = lookup(r.props, path)
        if not isinstance(pod, Mapping):
            continue
        namespace = lookup(r.props, "metadata.namespace")
        labels = _template_labels(r.resource_type, r.props)
        for secret in sorted(set(secrets_used(pod))):
            if (namespace, secret) not in masters:
                continue
            service = masters[(namespace, secret)]
            if (r.resource_type == JOB and labels.get(COMPONENT_LABEL) == MIGRATION_COMPONENT
                    and labels.get(SERVICE_LABEL) == service):
                continue
            report(f"{kind_of(r.resource_type)} {object_name(r.props, r.name)} must not use the database master user "
                   f"secret {secret} (only the migration Job of {service} may).", r.urn)


RULE = Rule(
    id="PAVED-SEC-035",
    name="database-master-secret-migration-only",
    description=(
        "Checks whether the Kubernetes Secret holding a database's RDS-managed master user credentials (the "
        "ExternalSecret labelled paved.dev/secret-kind: database-master) is used, as a volume, env or envFrom, by "
        "no pod template except its own service's migration Job."
    ),
    severity="high",
    remediation=(
        "Remove the volume or variable: the service's pods connect as the service's own user with an IAM token "
        "(PAVED_DB_AUTH=iam, docs/data-contract.md); only the migration Job paved builds (components/migration.py) "
        "gets PAVED_DB_MASTER_SECRET_FILE, to create that user."
    ),
    anchors=("CIS EKS 4.4.1 (secrets as files, least exposure)", "AWS Well-Architected SEC03-BP02 (least privilege)",
             "CKV_K8S_35"),
    validate_stack=validate_stack,
)
