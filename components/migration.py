"""The migration Job: a service's ``data.postgres.migrate`` command, run before its rollout.

One Job per image version (its name carries a short hash of the image), in the service's
namespace, with the service's ServiceAccount (so its IAM role), environment and volumes,
and the same restricted security context. The Deployment depends on the Job, and
pulumi-kubernetes waits for a Job to complete (unless ``pulumi.com/skipAwait``): a failed
migration fails ``pulumi up`` before any pod of the new version starts.

No ``ttlSecondsAfterFinished``: a Job Kubernetes deletes on its own would show as drift on
``pulumi refresh`` (the nightly drift check) and be created, so run, again on the next
``pulumi up``. A finished Job costs nothing; the next image version replaces it (Pulumi
creates the new Job, then deletes the old one).

Pure builders, tested without Pulumi (tests/test_data_component.py).
"""

from __future__ import annotations

import hashlib

from pulumi_kubernetes.batch.v1 import JobInitArgs, JobSpecArgs
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    EnvVarArgs,
    KeyToPathArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    SecretVolumeSourceArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from paved.model import Migrate, Service
from paved.naming import (
    COMPONENT_LABEL,
    DATABASE_MASTER_SECRET_KIND,
    INSTANCE_LABEL,
    MIGRATION_COMPONENT,
    SECRET_KIND_LABEL,
    SERVICE_LABEL,
)

# The database's RDS-managed master user secret, in the migration Job only (docs/data-contract.md):
# a file holding the secret's JSON ({"username": ..., "password": ...}).
MASTER_SECRET_VOLUME = "db-master"
MASTER_SECRET_DIR = "/var/run/secrets/paved-db-master"
MASTER_SECRET_KEY = "master.json"
MASTER_SECRET_ENV = "PAVED_DB_MASTER_SECRET_FILE"
# A failed migration is looked at, not retried: one pod, whose logs stay (docs/data.md).
BACKOFF_LIMIT = 0


def image_hash(image: str) -> str:
    """Eight hex digits of the image reference: the Job of each version has its own name."""
    return hashlib.sha256(image.encode()).hexdigest()[:8]


def job_name(service: Service) -> str:
    """``<service>-migrate-<hash of the image>``, at most 63 characters."""
    return f"{service.name[:46].rstrip('-')}-migrate-{image_hash(service.image)}"


def migration_labels(service: Service, labels: dict[str, str]) -> dict[str, str]:
    """The service's labels with another instance and component: the Deployment's, the Service's and
    the PodDisruptionBudget's selectors (name and instance) never match a migration pod."""
    return {**labels, SERVICE_LABEL: service.name, INSTANCE_LABEL: f"{service.name}-migrate",
            COMPONENT_LABEL: MIGRATION_COMPONENT}


def migration_selector(service: Service) -> dict[str, str]:
    """What the migration's NetworkPolicy selects."""
    return {SERVICE_LABEL: service.name, INSTANCE_LABEL: f"{service.name}-migrate"}


def master_secret_name(service: Service) -> str:
    """The Kubernetes Secret holding the database's master user secret, for the migration Job."""
    return f"{service.name}-db-master"


def master_external_secret_spec(service: Service, store_name: str, secret_arn: str) -> dict:
    """The ExternalSecret copying the RDS-managed master user secret (by ARN: RDS names it) whole,
    as one JSON file, into ``<service>-db-master``, through the team's SecretStore."""
    return {
        "refreshInterval": "1h",  # RDS rotates the password; the next Job reads the current one
        "secretStoreRef": {"kind": "SecretStore", "name": store_name},
        "target": {"name": master_secret_name(service), "creationPolicy": "Owner", "deletionPolicy": "Delete"},
        "data": [{"secretKey": MASTER_SECRET_KEY, "remoteRef": {"key": secret_arn}}],
    }


def master_secret_labels(service: Service, labels: dict[str, str]) -> dict[str, str]:
    """The ExternalSecret's labels: the migration's, and the kind policy PAVED-SEC-035 looks for."""
    return {**migration_labels(service, labels), SECRET_KIND_LABEL: DATABASE_MASTER_SECRET_KIND}


def migration_job_args(service: Service, migrate: Migrate, namespace: str, labels: dict[str, str],
                       pod: PodSpecArgs, container: ContainerArgs, master_secret: str | None = None) -> JobInitArgs:
    """The Job: the service pod's container with the migration command and without ports and probes;
    with ``master_secret`` (a Secret's name), that Secret as a read-only file named in
    ``PAVED_DB_MASTER_SECRET_FILE``. The service's own pods never mount it."""
    env, mounts, volumes = list(container.env or []), list(container.volume_mounts or []), list(pod.volumes or [])
    if master_secret is not None:
        env.append(EnvVarArgs(name=MASTER_SECRET_ENV, value=f"{MASTER_SECRET_DIR}/{MASTER_SECRET_KEY}"))
        mounts.append(VolumeMountArgs(name=MASTER_SECRET_VOLUME, mount_path=MASTER_SECRET_DIR, read_only=True))
        volumes.append(VolumeArgs(name=MASTER_SECRET_VOLUME, secret=SecretVolumeSourceArgs(
            secret_name=master_secret, default_mode=0o400,
            items=[KeyToPathArgs(key=MASTER_SECRET_KEY, path=MASTER_SECRET_KEY)])))
    step = ContainerArgs(
        name="migrate", image=container.image, image_pull_policy=container.image_pull_policy,
        command=list(migrate.command), env=env, resources=container.resources,
        security_context=container.security_context, volume_mounts=mounts,
    )
    meta_labels = migration_labels(service, labels)
    return JobInitArgs(
        metadata=ObjectMetaArgs(name=job_name(service), namespace=namespace, labels=meta_labels),
        spec=JobSpecArgs(
            backoff_limit=BACKOFF_LIMIT,
            active_deadline_seconds=migrate.timeout_seconds,
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=meta_labels),
                spec=PodSpecArgs(
                    restart_policy="Never",
                    service_account_name=pod.service_account_name,
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=pod.security_context,
                    containers=[step],
                    volumes=volumes,
                    termination_grace_period_seconds=30,
                ),
            ),
        ),
    )


def migration_network_policy_args(service: Service, namespace: str, labels: dict[str, str],
                                  aws_egress: list[NetworkPolicyEgressRuleArgs], vpc_cidr: str,
                                  ports: tuple[int, ...]) -> NetworkPolicyInitArgs:
    """Migration pods take no traffic and reach only their credentials and their database."""
    egress = list(aws_egress)
    if ports:
        egress.append(NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=vpc_cidr))],
                                                  ports=[NetworkPolicyPortArgs(protocol="TCP", port=p) for p in ports]))
    return NetworkPolicyInitArgs(
        metadata=ObjectMetaArgs(name=f"{service.name}-migrate", namespace=namespace,
                                labels=migration_labels(service, labels)),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=migration_selector(service)),
            policy_types=["Ingress", "Egress"],
            ingress=[],
            egress=egress,
        ),
    )
