"""ObservabilityStack: Prometheus, Alertmanager, Grafana, Jaeger and an OpenTelemetry Collector.

Everything lives in the ``monitoring`` namespace, every chart pinned in components/versions.py:

- kube-prometheus-stack: the Prometheus Operator, Prometheus (retention, volume size and
  replicas per stack), Alertmanager, Grafana and kube-state-metrics. Prometheus picks up every
  ServiceMonitor and PrometheusRule in the cluster (no Helm release label needed), and also
  scrapes the MSK brokers' open-monitoring exporters (JMX on 11001, node on 11002).
- Grafana's admin password is generated in the cluster by an External Secrets ``Password``
  generator and written to a Secret Grafana reads: it never appears in config, in Pulumi state
  or in the repository. Dashboards come from ConfigMaps labelled ``grafana_dashboard: "1"``
  in any namespace, filed in a folder per team.
- Jaeger v2 (memory or Badger on a volume, per stack) behind an OpenTelemetry Collector that
  receives OTLP from the services and exports traces to Jaeger.

Pod Security (a deliberate, recorded exception): the namespace *enforces* ``baseline`` and
*audits and warns* at ``restricted``. Every pod paved configures here runs restricted-compliant
(the values below set it where the charts do not), but these are third-party charts whose pod
specs paved's policy pack cannot see: a chart upgrade that drops, say, a seccomp profile must
produce a warning, not an admission failure that silently takes monitoring down. Baseline
still forbids privileged pods, host namespaces, hostPath and hostPorts. For the same reason
the Kubernetes node-exporter DaemonSet is *not* installed: it needs hostNetwork, hostPID and
hostPath, which even baseline forbids, and a privileged namespace is a larger hole than the
metrics are worth. Node CPU, memory and network come from the kubelet and cAdvisor instead,
node conditions (disk and memory pressure) from kube-state-metrics; MSK broker hosts keep
their own node exporter. The reason is written on the namespace (annotation
``paved.dev/pod-security-exception``) and policy PAVED-SEC-025 admits ``monitoring`` at baseline.

The prometheus-operator admission webhook is off: Pulumi's Helm Chart v4 does not run Helm
hooks, and the webhook's certificate is made by hook Jobs. PrometheusRules are instead checked
with ``promtool`` in CI (tests/test_monitoring.py) before they reach a cluster.

Needs an EBS CSI driver and a StorageClass for the Prometheus and Badger volumes
(``storage_class``; None takes the cluster default).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import (
    NamespaceInitArgs,
    PersistentVolumeClaimInitArgs,
    PersistentVolumeClaimSpecArgs,
    VolumeResourceRequirementsArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyInitArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from components.labels import PART_OF
from components.monitoring import (
    COLLECTOR_ROLE,
    COLLECTOR_SERVICE,
    DASHBOARD_FOLDER_ANNOTATION,
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    JAEGER_DATASOURCE_UID,
    MONITORING_NAMESPACE,
    OTLP_GRPC_PORT,
    OTLP_HTTP_PORT,
    PROMETHEUS_ROLE,
    ROLE_LABEL,
    collector_endpoint,
)
from components.namespace import allow_dns_spec, default_deny_spec
from components.secrets import OPERATOR_RESOURCES, chart
from components.versions import EXTERNAL_SECRETS_API, IMAGES
from paved.stack import StackSettings

# Served by the External Secrets chart pinned in versions.py (2.9.0), like EXTERNAL_SECRETS_API.
GENERATORS_API = "generators.external-secrets.io/v1alpha1"

ENFORCED_LEVEL = "baseline"
AUDITED_LEVEL = "restricted"
EXCEPTION_ANNOTATION = "paved.dev/pod-security-exception"
EXCEPTION_REASON = (
    "enforce baseline, audit and warn restricted: third-party monitoring charts must not be taken down by "
    "admission on an upgrade; node-exporter (needs host access) is not installed"
)

# Short, fixed object names (fullnameOverride), so the Services have names the rest of the
# platform can rely on.
KPS_NAME = "kps"
PROMETHEUS_SERVICE = f"{KPS_NAME}-prometheus"
GRAFANA_SERVICE = "grafana"
JAEGER_SERVICE = "jaeger"
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_PASSWORD_GENERATOR = "grafana-admin-password"
JAEGER_VOLUME_CLAIM = "jaeger-badger"
JAEGER_DATA_DIR = "/badger"
# How long Badger keeps spans; the volume is sized per stack (jaegerStorageGib).
JAEGER_SPAN_TTL = "168h"

PROMETHEUS_PORT = 9090
GRAFANA_PORT = 80  # the chart's Service port
JAEGER_QUERY_PORT = 16686
KUBELET_PORT = 10250
API_SERVER_PORT = 443
MSK_JMX_EXPORTER_PORT = 11001
MSK_NODE_EXPORTER_PORT = 11002

RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                  "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"}}


def _resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> dict:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


PROMETHEUS_RESOURCES = _resources("250m", "1Gi", "2", "4Gi")
SMALL_RESOURCES = _resources("50m", "64Mi", "200m", "256Mi")
GRAFANA_RESOURCES = _resources("100m", "256Mi", "500m", "512Mi")
JAEGER_RESOURCES = _resources("100m", "256Mi", "1", "2Gi")
COLLECTOR_RESOURCES = _resources("100m", "128Mi", "500m", "512Mi")


@dataclass(frozen=True)
class ObservabilityStackArgs:
    """The stack's settings and what the observability stack needs from around it.

    ``secret_store`` is the External Secrets ClusterSecretStore (any resource that waits for
    the ESO CRDs): the Grafana password generator needs them. ``kafka_bootstrap`` is the MSK
    IAM bootstrap string (``host:9098,...``); without it no broker is scraped.
    """

    settings: StackSettings
    secret_store: pulumi.Resource | None
    kafka_bootstrap: pulumi.Input[str] | None = None
    storage_class: str | None = None


# --- pure builders ------------------------------------------------------------------------


def pod_security_labels(settings: StackSettings) -> dict[str, str]:
    """Enforce baseline (the recorded exception), audit and warn restricted, versions pinned."""
    levels = {"enforce": ENFORCED_LEVEL, "audit": AUDITED_LEVEL, "warn": AUDITED_LEVEL}
    labels = {}
    for mode, level in levels.items():
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = settings.pod_security_version
    return labels


def namespace_args(settings: StackSettings) -> NamespaceInitArgs:
    """The ``monitoring`` namespace, with its Pod Security exception written on it."""
    return NamespaceInitArgs(metadata=ObjectMetaArgs(
        name=MONITORING_NAMESPACE,
        labels={**pod_security_labels(settings), "app.kubernetes.io/part-of": PART_OF,
                "paved.dev/environment": settings.environment},
        annotations={EXCEPTION_ANNOTATION: EXCEPTION_REASON},
    ))


def _role(role: str) -> LabelSelectorArgs:
    return LabelSelectorArgs(match_labels={ROLE_LABEL: role})


def _tcp(port: int, end_port: int | None = None) -> NetworkPolicyPortArgs:
    return NetworkPolicyPortArgs(protocol="TCP", port=port, end_port=end_port)


def network_policy_specs(settings: StackSettings) -> dict[str, NetworkPolicySpecArgs]:
    """The namespace's NetworkPolicies by name: default-deny and DNS, then only what each part needs.

    - pods of the stack talk to each other (Grafana → Prometheus and Jaeger, collector → Jaeger,
      Prometheus → Alertmanager and the stack's own metrics);
    - every pod may reach the Kubernetes API (its endpoint network interfaces are in the VPC);
    - Prometheus scrapes pods in any namespace (their policies admit it, see
      components.monitoring), the kubelets, and the MSK brokers' exporters in the VPC;
    - the collector accepts OTLP from paved's namespaces.
    """
    vpc = [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=settings.network.cidr))]
    same_namespace = [NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs())]
    paved_namespaces = [NetworkPolicyPeerArgs(namespace_selector=LabelSelectorArgs(
        match_labels={"app.kubernetes.io/part-of": PART_OF}))]
    every_pod = [NetworkPolicyPeerArgs(namespace_selector=LabelSelectorArgs())]
    return {
        "default-deny": default_deny_spec(),
        "allow-dns": allow_dns_spec(),
        "allow-same-namespace": NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=same_namespace)],
            egress=[NetworkPolicyEgressRuleArgs(to=same_namespace)]),
        "allow-kube-api": NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(), policy_types=["Egress"],
            egress=[NetworkPolicyEgressRuleArgs(to=vpc, ports=[_tcp(API_SERVER_PORT)])]),
        "allow-prometheus-scrape": NetworkPolicySpecArgs(
            pod_selector=_role(PROMETHEUS_ROLE), policy_types=["Egress"],
            egress=[
                NetworkPolicyEgressRuleArgs(to=every_pod),
                NetworkPolicyEgressRuleArgs(to=vpc, ports=[
                    _tcp(KUBELET_PORT), _tcp(MSK_JMX_EXPORTER_PORT, MSK_NODE_EXPORTER_PORT)]),
            ]),
        "allow-otlp": NetworkPolicySpecArgs(
            pod_selector=_role(COLLECTOR_ROLE), policy_types=["Ingress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=paved_namespaces,
                                                  ports=[_tcp(OTLP_GRPC_PORT), _tcp(OTLP_HTTP_PORT)])]),
    }


def broker_hosts(bootstrap: str) -> list[str]:
    """Broker host names from an MSK bootstrap string (``b-1.x:9098,b-2.x:9098``), sorted."""
    hosts = set()
    for entry in bootstrap.split(","):
        entry = entry.strip()
        if entry:
            hosts.add(entry.rsplit(":", 1)[0])
    return sorted(hosts)


def msk_scrape_configs(bootstrap: str | None, cluster: str) -> list[dict]:
    """Prometheus scrape jobs for the brokers' open-monitoring exporters (plain HTTP in the VPC)."""
    hosts = broker_hosts(bootstrap or "")
    if not hosts:
        return []

    def job(name: str, port: int) -> dict:
        return {
            "job_name": name,
            "scrape_interval": "60s",  # JMX exporter output is large and brokers change slowly
            "scrape_timeout": "30s",
            "static_configs": [{"targets": [f"{h}:{port}" for h in hosts], "labels": {"kafka_cluster": cluster}}],
            # instance = broker host, so the JMX and node series of one broker line up.
            "relabel_configs": [{"source_labels": ["__address__"], "regex": "(.+):\\d+",
                                 "target_label": "instance", "replacement": "$1"}],
        }

    return [job("msk-jmx-exporter", MSK_JMX_EXPORTER_PORT), job("msk-node-exporter", MSK_NODE_EXPORTER_PORT)]


def _volume_claim(size_gib: int, storage_class: str | None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{size_gib}Gi"}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"spec": spec}


def kube_prometheus_stack_values(settings: StackSettings, scrape_configs: pulumi.Input[list],
                                 storage_class: str | None = None) -> dict:
    """Values of kube-prometheus-stack: sizes per stack, all ServiceMonitors and rules, EKS-reachable
    targets only, Grafana with an in-cluster generated admin secret and the dashboards sidecar."""
    o = settings.observability
    zone_spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "ScheduleAnyway"}]
    return {
        "fullnameOverride": KPS_NAME,
        "cleanPrometheusOperatorObjectNames": True,
        "crds": {"enabled": True},
        # EKS runs the control plane: its scheduler, controller manager and etcd cannot be
        # scraped, and kube-proxy's metrics listen on localhost only.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "nodeExporter": {"enabled": False},  # see the module docstring: needs host access
        "windowsMonitoring": {"enabled": False},
        "defaultRules": {"create": True, "rules": {
            "etcd": False, "kubeControllerManager": False, "kubeSchedulerAlerting": False,
            "kubeSchedulerRecording": False, "kubeProxy": False, "nodeExporterAlerting": False,
            "nodeExporterRecording": False, "windows": False}},
        "prometheusOperator": {
            "admissionWebhooks": {"enabled": False},  # hooks do not run under Chart v4; promtool in CI instead
            "tls": {"enabled": False},  # its certificate would come from the same hook Jobs
            "podLabels": {ROLE_LABEL: "operator"},
            "resources": OPERATOR_RESOURCES,
        },
        "kube-state-metrics": {
            "fullnameOverride": "kube-state-metrics",
            "podLabels": {ROLE_LABEL: "kube-state-metrics"},
            "resources": OPERATOR_RESOURCES,
        },
        "prometheus": {"prometheusSpec": {
            "retention": o.prometheus_retention,
            # Stop before the volume fills: Prometheus drops the oldest blocks first.
            "retentionSize": f"{int(o.prometheus_storage_gib * 0.85)}GiB",
            "replicas": o.prometheus_replicas,
            "externalLabels": {"environment": settings.environment, "cluster": settings.cluster_name},
            "storageSpec": {"volumeClaimTemplate": _volume_claim(o.prometheus_storage_gib, storage_class)},
            # Select every ServiceMonitor, PodMonitor, Probe and PrometheusRule in the cluster,
            # not only those carrying this release's label.
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "scrapeConfigSelectorNilUsesHelmValues": False,
            "additionalScrapeConfigs": scrape_configs,
            "podMetadata": {"labels": {ROLE_LABEL: PROMETHEUS_ROLE}},
            "podAntiAffinity": "soft",
            "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone",
            "resources": PROMETHEUS_RESOURCES,
        }},
        "alertmanager": {"alertmanagerSpec": {
            "replicas": o.prometheus_replicas,  # the same HA level as Prometheus
            "podMetadata": {"labels": {ROLE_LABEL: "alertmanager"}},
            "topologySpreadConstraints": zone_spread,
            "resources": SMALL_RESOURCES,
        }},
        "grafana": {
            "fullnameOverride": GRAFANA_SERVICE,
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "podLabels": {ROLE_LABEL: "grafana"},
            "resources": GRAFANA_RESOURCES,
            "testFramework": {"enabled": False},  # a Helm test hook: never run by Chart v4
            "grafana.ini": {"analytics": {"check_for_updates": False, "reporting_enabled": False},
                            "users": {"allow_sign_up": False}, "auth.anonymous": {"enabled": False}},
            "sidecar": {
                "resources": SMALL_RESOURCES,
                "dashboards": {
                    "enabled": True, "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE,
                    "searchNamespace": "ALL", "folderAnnotation": DASHBOARD_FOLDER_ANNOTATION,
                    "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
                },
            },
            "additionalDataSources": [{
                "name": "Jaeger", "type": "jaeger", "uid": JAEGER_DATASOURCE_UID, "access": "proxy", "editable": False,
                "url": f"http://{JAEGER_SERVICE}.{MONITORING_NAMESPACE}.svc.cluster.local:{JAEGER_QUERY_PORT}",
            }],
        },
    }


def _split_image(ref: str) -> tuple[str, str]:
    repository, _, tag = ref.rpartition(":")
    return repository, tag


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
    repository, tag = _split_image(IMAGES["jaeger"])
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if settings.observability.jaeger_storage == "badger":
        volumes.append({"name": "badger", "persistentVolumeClaim": {"claimName": JAEGER_VOLUME_CLAIM}})
        mounts.append({"name": "badger", "mountPath": JAEGER_DATA_DIR})
    return {
        "fullnameOverride": JAEGER_SERVICE,
        "userconfig": jaeger_config(settings),
        "jaeger": {
            "replicas": 1,  # Badger is single-writer; memory storage is per pod
            "image": {"repository": repository, "tag": tag},
            "podLabels": {ROLE_LABEL: "jaeger"},
            "podSecurityContext": RESTRICTED_POD,
            "securityContext": RESTRICTED_CONTAINER,
            "resources": JAEGER_RESOURCES,
            "serviceAccount": {"automountServiceAccountToken": False},
            "extraVolumes": volumes,
            "extraVolumeMounts": mounts,
        },
    }


def collector_config() -> dict:
    """The collector's whole configuration (``alternateConfig``: nothing merged from the chart's
    defaults): OTLP in, memory limiter and batching, OTLP gRPC out to Jaeger."""
    return {
        "extensions": {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}},
        "receivers": {"otlp": {"protocols": {
            "grpc": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_GRPC_PORT}"},
            "http": {"endpoint": f"${{env:MY_POD_IP}}:{OTLP_HTTP_PORT}"}}}},
        "processors": {
            "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
        },
        "exporters": {"otlp_grpc/jaeger": {
            # Inside the namespace, behind its NetworkPolicies; Jaeger serves no TLS here.
            "endpoint": f"{JAEGER_SERVICE}.{MONITORING_NAMESPACE}.svc.cluster.local:{OTLP_GRPC_PORT}",
            "tls": {"insecure": True}}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"readers": [
                {"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": 8888}}}}]}},
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                                     "exporters": ["otlp_grpc/jaeger"]}},
        },
    }


def collector_values(settings: StackSettings) -> dict:
    """Values of the OpenTelemetry Collector chart: a Deployment receiving OTLP only."""
    repository, tag = _split_image(IMAGES["opentelemetry-collector"])
    return {
        "fullnameOverride": COLLECTOR_SERVICE,
        "mode": "deployment",
        "replicaCount": settings.observability.prometheus_replicas,
        "image": {"repository": repository, "tag": tag},
        "command": {"name": "otelcol-k8s"},
        "alternateConfig": collector_config(),
        "ports": {
            "otlp": {"enabled": True}, "otlp-http": {"enabled": True}, "metrics": {"enabled": True},
            "jaeger-compact": {"enabled": False}, "jaeger-thrift": {"enabled": False},
            "jaeger-grpc": {"enabled": False}, "zipkin": {"enabled": False},
        },
        "serviceMonitor": {"enabled": True},
        "podLabels": {ROLE_LABEL: COLLECTOR_ROLE},
        "podSecurityContext": RESTRICTED_POD,
        "securityContext": RESTRICTED_CONTAINER,
        "resources": COLLECTOR_RESOURCES,
        "serviceAccount": {"automountServiceAccountToken": False},  # no k8s API use
    }


def grafana_password_spec() -> dict:
    """The ESO Password generator: 32 characters, letters and digits (no symbols to escape)."""
    return {"length": 32, "digits": 8, "symbols": 0, "noUpper": False, "allowRepeat": True}


def grafana_admin_secret_spec() -> dict:
    """The ExternalSecret writing the generated password into the Secret Grafana reads.

    ``refreshInterval: "0"`` generates it once: a generator yields a new value on every refresh.
    """
    return {
        "refreshInterval": "0",
        "target": {
            "name": GRAFANA_ADMIN_SECRET,
            "creationPolicy": "Owner",
            "template": {"engineVersion": "v2", "data": {"admin-user": "admin", "admin-password": "{{ .password }}"}},
        },
        "dataFrom": [{"sourceRef": {"generatorRef": {
            "apiVersion": GENERATORS_API, "kind": "Password", "name": GRAFANA_PASSWORD_GENERATOR}}}],
    }


def volume_claim_args(settings: StackSettings, storage_class: str | None) -> PersistentVolumeClaimInitArgs:
    """Jaeger's Badger volume, sized per stack."""
    return PersistentVolumeClaimInitArgs(
        metadata=ObjectMetaArgs(name=JAEGER_VOLUME_CLAIM, namespace=MONITORING_NAMESPACE,
                                labels={"app.kubernetes.io/part-of": PART_OF, ROLE_LABEL: "jaeger"}),
        spec=PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=storage_class,
            resources=VolumeResourceRequirementsArgs(
                requests={"storage": f"{settings.observability.jaeger_storage_gib}Gi"}),
        ),
    )


def _service_url(name: str, port: int) -> str:
    return f"http://{name}.{MONITORING_NAMESPACE}.svc.cluster.local:{port}"


# --- the component ------------------------------------------------------------------------


class ObservabilityStack(pulumi.ComponentResource):
    """The monitoring namespace with kube-prometheus-stack, Jaeger and an OpenTelemetry Collector."""

    namespace_name: pulumi.Output[str]
    collector_endpoint: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    jaeger_url: pulumi.Output[str]

    def __init__(self, name: str, args: ObservabilityStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:observability:ObservabilityStack", name, None, opts)
        if args.secret_store is None:
            raise ValueError("ObservabilityStackArgs.secret_store is required: Grafana's admin password is generated "
                             "by External Secrets, so the SecretStore (and its CRDs) must exist")
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(f"{name}-ns", namespace_args(s), opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        for role, spec in network_policy_specs(s).items():
            k8s.networking.v1.NetworkPolicy(f"{name}-{role}", NetworkPolicyInitArgs(
                metadata=ObjectMetaArgs(name=role, namespace=MONITORING_NAMESPACE), spec=spec), opts=in_ns)

        with_eso = pulumi.ResourceOptions(parent=self, depends_on=[ns, args.secret_store])
        generator = k8s.apiextensions.CustomResource(
            f"{name}-grafana-password", api_version=GENERATORS_API, kind="Password",
            metadata=ObjectMetaArgs(name=GRAFANA_PASSWORD_GENERATOR, namespace=MONITORING_NAMESPACE),
            spec=grafana_password_spec(), opts=with_eso)
        admin = k8s.apiextensions.CustomResource(
            f"{name}-grafana-admin", api_version=EXTERNAL_SECRETS_API, kind="ExternalSecret",
            metadata=ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=MONITORING_NAMESPACE),
            spec=grafana_admin_secret_spec(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ns, args.secret_store, generator]))

        scrape = pulumi.Output.from_input(args.kafka_bootstrap if args.kafka_bootstrap is not None else "").apply(
            lambda b: msk_scrape_configs(b, f"paved-{s.environment}"))
        kps = chart(f"{name}-kube-prometheus-stack", "kube-prometheus-stack", MONITORING_NAMESPACE,
              kube_prometheus_stack_values(s, scrape, args.storage_class),
              pulumi.ResourceOptions(parent=self, depends_on=[ns, admin]))

        jaeger_deps: list[pulumi.Resource] = [ns]
        if s.observability.jaeger_storage == "badger":
            jaeger_deps.append(k8s.core.v1.PersistentVolumeClaim(
                f"{name}-jaeger-data", volume_claim_args(s, args.storage_class), opts=in_ns))
        jaeger = chart(f"{name}-jaeger", "jaeger", MONITORING_NAMESPACE, jaeger_values(s),
                       pulumi.ResourceOptions(parent=self, depends_on=jaeger_deps))
        chart(f"{name}-otel-collector", "opentelemetry-collector", MONITORING_NAMESPACE, collector_values(s),
              # its ServiceMonitor needs the operator's CRDs
              pulumi.ResourceOptions(parent=self, depends_on=[ns, jaeger, kps]))

        self.namespace_name = ns.metadata.apply(lambda m: m.name)
        self.collector_endpoint = pulumi.Output.from_input(collector_endpoint())
        self.prometheus_url = pulumi.Output.from_input(_service_url(PROMETHEUS_SERVICE, PROMETHEUS_PORT))
        self.grafana_url = pulumi.Output.from_input(_service_url(GRAFANA_SERVICE, GRAFANA_PORT))
        self.jaeger_url = pulumi.Output.from_input(_service_url(JAEGER_SERVICE, JAEGER_QUERY_PORT))
        self.register_outputs({"namespace_name": self.namespace_name, "collector_endpoint": self.collector_endpoint,
                               "prometheus_url": self.prometheus_url, "grafana_url": self.grafana_url,
                               "jaeger_url": self.jaeger_url})
