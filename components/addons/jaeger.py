"""Jaeger v2: all-in-one on the OpenTelemetry Collector core, storing spans in memory or in
Badger on a volume (per stack), behind the OpenTelemetry Collector add-on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    PersistentVolumeClaimInitArgs,
    PersistentVolumeClaimSpecArgs,
    VolumeResourceRequirementsArgs,
)
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.addons import AddOnContext
from components.addons.chart import chart, pinned_image, resources
from components.labels import part_of_labels
from components.security import RESTRICTED_CONTAINER, RESTRICTED_POD
from components.telemetry import (
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    ROLE_LABEL,
    monitoring_url,
)
from paved.stack import StackSettings

CHART = "jaeger"
JAEGER_ROLE = "jaeger"
JAEGER_SERVICE = "jaeger"
JAEGER_QUERY_PORT = 16686
JAEGER_VOLUME_CLAIM = "jaeger-badger"
JAEGER_DATA_DIR = "/badger"
# How long Badger keeps spans; the volume is sized per stack (jaegerStorageGib).
JAEGER_SPAN_TTL = "168h"
JAEGER_RESOURCES = resources("250m", "1Gi", "1", "2Gi")


def jaeger_config(settings: StackSettings) -> dict:
    """Jaeger v2's own configuration: OTLP in, memory or Badger storage, UI and health on all
    interfaces (the built-in default listens on localhost only)."""
    o = settings.observability
    if o.jaeger_storage == "badger":
        backend = {"badger": {
            "directories": {"keys": f"{JAEGER_DATA_DIR}/keys", "values": f"{JAEGER_DATA_DIR}/values"},
            "ephemeral": False, "ttl": {"spans": JAEGER_SPAN_TTL}}}
    else:
        backend = {"memory": {"max_traces": 100000}}
    return {
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["batch"],
                                     "exporters": ["jaeger_storage_exporter"]}},
            "telemetry": {"resource": {"service.name": "jaeger"},
                          "metrics": {"level": "detailed", "readers": [
                              {"pull": {"exporter": {"prometheus": {"host": "0.0.0.0", "port": 8888}}}}]}},
        },
        "extensions": {
            "healthcheckv2": {"use_v2": True, "http": {"endpoint": "0.0.0.0:13133"}},
            "jaeger_query": {"storage": {"traces": "primary"},
                             "http": {"endpoint": f"0.0.0.0:{JAEGER_QUERY_PORT}"},
                             "grpc": {"endpoint": "0.0.0.0:16685"}},
            "jaeger_storage": {"backends": {"primary": backend}},
        },
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"0.0.0.0:{OTLP_GRPC_PORT}"},
                                             "http": {"endpoint": f"0.0.0.0:{OTLP_HTTP_PORT}"}}}},
        "processors": {"batch": {}},
        "exporters": {"jaeger_storage_exporter": {"trace_storage": "primary"}},
    }


def jaeger_values(settings: StackSettings) -> dict:
    """Values of the Jaeger chart: one all-in-one pod, restricted, Badger on a claim when the stack says so."""
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    # The chart's default strategy is Recreate. Badger needs it: its ReadWriteOnce volume
    # attaches to one node, so a surge pod elsewhere would never start. In memory, a rolling
    # update keeps the UI up while the new pod starts (the spans are lost either way).
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    if settings.observability.jaeger_storage == "badger":
        volumes.append({"name": "badger", "persistentVolumeClaim": {"claimName": JAEGER_VOLUME_CLAIM}})
        mounts.append({"name": "badger", "mountPath": JAEGER_DATA_DIR})
        strategy = {"type": "Recreate"}
    return {
        "fullnameOverride": JAEGER_SERVICE,
        "userconfig": jaeger_config(settings),
        "jaeger": {
            "replicas": 1,  # Badger is single-writer; memory storage is per pod
            "strategy": strategy,
            "image": pinned_image(CHART),
            "podLabels": {ROLE_LABEL: JAEGER_ROLE},
            "podSecurityContext": RESTRICTED_POD,
            "securityContext": RESTRICTED_CONTAINER,
            "resources": JAEGER_RESOURCES,
            "serviceAccount": {"automountServiceAccountToken": False},
            "extraVolumes": volumes,
            "extraVolumeMounts": mounts,
        },
    }


def volume_claim_args(settings: StackSettings, storage_class: str | None) -> PersistentVolumeClaimInitArgs:
    """Jaeger's Badger volume, sized per stack."""
    return PersistentVolumeClaimInitArgs(
        metadata=ObjectMetaArgs(name=JAEGER_VOLUME_CLAIM, namespace=MONITORING_NAMESPACE,
                                labels={**part_of_labels(), ROLE_LABEL: JAEGER_ROLE}),
        spec=PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=storage_class,
            resources=VolumeResourceRequirementsArgs(
                requests={"storage": f"{settings.observability.jaeger_storage_gib}Gi"}),
        ),
    )


def jaeger_url() -> str:
    """The Jaeger UI's in-cluster URL."""
    return monitoring_url(JAEGER_SERVICE, JAEGER_QUERY_PORT)


@dataclass(frozen=True)
class Jaeger:
    """The add-on; ``storage_class`` holds the Badger volume (None: the cluster default), and the
    claim waits for ``storage_class_resource`` when the stack creates that class."""

    storage_class: str | None = None
    storage_class_resource: pulumi.Resource | None = None

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """The Badger volume claim when the stack stores spans there, then the chart."""
        volumes: list[pulumi.Resource] = []
        if ctx.settings.observability.jaeger_storage == "badger":
            volumes.append(k8s.core.v1.PersistentVolumeClaim(
                f"{ctx.prefix}-jaeger-data", volume_claim_args(ctx.settings, self.storage_class),
                opts=ctx.options(*[r for r in (self.storage_class_resource,) if r is not None])))
        return chart(f"{ctx.prefix}-{CHART}", CHART, ctx.namespace, jaeger_values(ctx.settings), ctx.options(*volumes))
