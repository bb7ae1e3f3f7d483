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
from pulumi_kubernetes.core.v1 import ContainerArgs, PodSpecArgs, PodTemplateSpecArgs
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
from paved.naming import COMPONENT_LABEL, INSTANCE_LABEL, SERVICE_LABEL

MIGRATION_COMPONENT = "migration"
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


def migration_job_args(service: Service, migrate: Migrate, namespace: str, labels: dict[str, str],
                       pod: PodSpecArgs, container: ContainerArgs) -> JobInitArgs:
    """The Job: the service pod's container with the migration command and without ports and probes."""
    step = ContainerArgs(
        name="migrate", image=container.image, image_pull_policy=container.image_pull_policy,
        command=list(migrate.command), env=container.env, resources=container.resources,
        security_context=container.security_context, volume_mounts=container.volume_mounts,
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
                    volumes=pod.volumes,
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
