"""kube-prometheus-stack: the Prometheus Operator, Prometheus, Alertmanager, Grafana and
kube-state-metrics.

Prometheus (retention, volume size and replicas per stack) picks up every ServiceMonitor and
PrometheusRule in the cluster (no Helm release label needed), and also scrapes the MSK
brokers' open-monitoring exporters (JMX on 11001, node on 11002).

Grafana's admin password is generated in the cluster by an External Secrets ``Password``
generator and written to a Secret Grafana reads: it never appears in config, in Pulumi state
or in the repository. Dashboards come from ConfigMaps labelled ``grafana_dashboard: "1"`` in
any namespace (components/dashboards.py), filed in a folder per team.

The prometheus-operator admission webhook is off: Pulumi's Helm Chart v4 does not run Helm
hooks, and the webhook's certificate is made by hook Jobs. PrometheusRules are instead checked
with ``promtool`` in CI (tests/test_monitoring.py) before they reach a cluster. The Kubernetes
node-exporter is not installed (see components/observability.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import ObjectMetaArgs

from components.addons import AddOnContext, ClusterAccess
from components.addons.chart import SMALL_RESOURCES, chart, resources, zone_spread
from components.addons import external_secrets
from components.addons.external_secrets import password_generator
from components.addons.jaeger import JAEGER_QUERY_PORT, JAEGER_SERVICE
from components.alerting import (
    ALERTS_STORE,
    RECEIVER_SECRET,
    alertmanager_config,
    receiver_external_secret_spec,
    receiver_secret_data,
)
from components.security import RESTRICTED_CONTAINER
from components.dashboards import (
    CLOUDWATCH_DATASOURCE_UID,
    DASHBOARD_FOLDER_ANNOTATION,
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    JAEGER_DATASOURCE_UID,
)
from components.identity import role_annotations
from components.kafka import JMX_EXPORTER_PORT, NODE_EXPORTER_PORT
from components.telemetry import ALERTMANAGER_ROLE, PROMETHEUS_ROLE, ROLE_LABEL, monitoring_url
from components.versions import EXTERNAL_SECRETS_API, GENERATORS_API
from paved.model import Team
from paved.stack import StackSettings

CHART = "kube-prometheus-stack"
# Short, fixed object names (fullnameOverride), so the Services have names the rest of the
# platform can rely on.
KPS_NAME = "kps"
PROMETHEUS_SERVICE = f"{KPS_NAME}-prometheus"
GRAFANA_SERVICE = "grafana"
GRAFANA_ADMIN_SECRET = "grafana-admin"
# Grafana's ServiceAccount (named here, not left to the chart's default), which its own IAM
# role for the CloudWatch data source is bound to.
GRAFANA_SERVICE_ACCOUNT = "grafana"
GRAFANA_ROLE = "grafana"  # its pods' paved.dev/observability label (NetworkPolicies select it)
GRAFANA_PASSWORD_GENERATOR = "grafana-admin-password"
# The chart's own ClusterRole lets Grafana's sidecars read every Secret in the cluster
# (checkov CKV2_K8S_5): it always lists configmaps and secrets. paved binds this one instead,
# ConfigMaps only, and the sidecars look for dashboards and data sources in ConfigMaps only.
GRAFANA_SIDECAR_ROLE = "paved-grafana-sidecar"

PROMETHEUS_PORT = 9090
GRAFANA_PORT = 80  # the chart's Service port
KUBELET_PORT = 10250

PROMETHEUS_RESOURCES = resources("500m", "2Gi", "2", "4Gi")
GRAFANA_RESOURCES = resources("125m", "256Mi", "500m", "512Mi")


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

    return [job("msk-jmx-exporter", JMX_EXPORTER_PORT), job("msk-node-exporter", NODE_EXPORTER_PORT)]


def grafana_cloudwatch_statements(partition: str, region: str, account_id: str, environment: str) -> list[dict]:
    """Grafana's CloudWatch data source reads metrics and paved's alarms, nothing else and no write.

    GetMetricData, GetMetricStatistics, ListMetrics and DescribeAlarmsForMetric take no resource
    (AWS offers no resource-level permission for them), so ``*``; DescribeAlarms and
    DescribeAlarmHistory are scoped to this environment's alarms (``paved-<env>-*``,
    components/data.py). Not the logs, EC2 and tag reads Grafana's documented policy adds: the
    dashboards query metrics only.
    """
    return [
        {"Sid": "ReadCloudWatchMetrics", "Effect": "Allow", "Action": [
            "cloudwatch:DescribeAlarmsForMetric", "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics",
            "cloudwatch:ListMetrics"], "Resource": "*"},
        {"Sid": "ReadPavedAlarms", "Effect": "Allow",
         "Action": ["cloudwatch:DescribeAlarmHistory", "cloudwatch:DescribeAlarms"],
         "Resource": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:paved-{environment}-*"},
    ]


def cloudwatch_datasource(region: str) -> dict:
    """Grafana's CloudWatch data source: the AWS SDK's default credentials (the pod's IRSA or Pod
    Identity role), the stack's region."""
    return {"name": "CloudWatch", "type": "cloudwatch", "uid": CLOUDWATCH_DATASOURCE_UID, "access": "proxy",
            "editable": False, "jsonData": {"authType": "default", "defaultRegion": region}}


def _volume_claim(size_gib: int, storage_class: str | None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{size_gib}Gi"}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"spec": spec}


def kube_prometheus_stack_values(settings: StackSettings, scrape_configs: pulumi.Input[list],
                                 storage_class: str | None = None, teams: tuple[Team, ...] = (),
                                 grafana_annotations: dict[str, pulumi.Input[str]] | None = None) -> dict:
    """Values of kube-prometheus-stack: sizes per stack, all ServiceMonitors and rules, EKS-reachable
    targets only, Grafana with an in-cluster generated admin secret and the dashboards sidecar, and
    Alertmanager routing each team's alerts to its receivers (components/alerting.py).

    ``grafana_annotations`` (not None: some service has data) adds the CloudWatch data source,
    with those annotations on Grafana's ServiceAccount (its IRSA role; none with Pod Identity)."""
    o = settings.observability
    mounted = [RECEIVER_SECRET] if receiver_secret_data(teams, settings.environment) else []
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
            "resources": SMALL_RESOURCES,
        },
        "kube-state-metrics": {
            "fullnameOverride": "kube-state-metrics",
            "podLabels": {ROLE_LABEL: "kube-state-metrics"},
            "resources": SMALL_RESOURCES,
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
        "alertmanager": {
            "config": alertmanager_config(teams, o.smtp),
            # Alertmanager never calls the Kubernetes API: no token for its account or its pods.
            "serviceAccount": {"automountServiceAccountToken": False},
            "alertmanagerSpec": {
                # The receivers' credentials, at /etc/alertmanager/secrets/<secret>/<key>.
                "secrets": mounted,
                "replicas": o.prometheus_replicas,  # the same HA level as Prometheus
                "podMetadata": {"labels": {ROLE_LABEL: ALERTMANAGER_ROLE}},
                "topologySpreadConstraints": zone_spread(settings, {ROLE_LABEL: ALERTMANAGER_ROLE}),
                "automountServiceAccountToken": False,
                "resources": SMALL_RESOURCES,
            }},
        "grafana": {
            "fullnameOverride": GRAFANA_SERVICE,
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "podLabels": {ROLE_LABEL: GRAFANA_ROLE},
            "resources": GRAFANA_RESOURCES,
            # Read-only root: Grafana writes only to its data volume (/var/lib/grafana, an emptyDir
            # in the chart) and /tmp; the sidecars write only to their mounted folders.
            "containerSecurityContext": RESTRICTED_CONTAINER,
            "extraEmptyDirMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            "rbac": {"useExistingClusterRole": GRAFANA_SIDECAR_ROLE},
            "testFramework": {"enabled": False},  # a Helm test hook: never run by Chart v4
            "grafana.ini": {"analytics": {"check_for_updates": False, "reporting_enabled": False},
                            "users": {"allow_sign_up": False}, "auth.anonymous": {"enabled": False}},
            "sidecar": {
                "resources": SMALL_RESOURCES,
                "securityContext": RESTRICTED_CONTAINER,
                "datasources": {"resource": "configmap"},
                "dashboards": {
                    "enabled": True, "resource": "configmap", "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE,
                    "searchNamespace": "ALL", "folderAnnotation": DASHBOARD_FOLDER_ANNOTATION,
                    "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
                },
            },
            "serviceAccount": {"name": GRAFANA_SERVICE_ACCOUNT, **(
                {"annotations": grafana_annotations} if grafana_annotations else {})},
            "additionalDataSources": [{
                "name": "Jaeger", "type": "jaeger", "uid": JAEGER_DATASOURCE_UID, "access": "proxy", "editable": False,
                "url": monitoring_url(JAEGER_SERVICE, JAEGER_QUERY_PORT),
            }, *([cloudwatch_datasource(settings.aws_region)] if grafana_annotations is not None else [])],
        },
    }


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


def prometheus_url() -> str:
    """Prometheus's in-cluster URL."""
    return monitoring_url(PROMETHEUS_SERVICE, PROMETHEUS_PORT)


def grafana_url() -> str:
    """Grafana's in-cluster URL."""
    return monitoring_url(GRAFANA_SERVICE, GRAFANA_PORT)


@dataclass(frozen=True)
class KubePrometheusStack:
    """The add-on. ``secret_store`` is any resource that waits for the External Secrets CRDs
    (the password generator needs them); ``kafka_bootstrap`` the MSK bootstrap string, whose
    brokers Prometheus scrapes (None: no brokers)."""

    secret_store: pulumi.Resource
    kafka_bootstrap: pulumi.Input[str] | None = None
    storage_class: str | None = None
    # The catalog's teams (their alert receivers), and the role that reads the receivers'
    # credentials (components/secrets.py; None: no receiver needs one).
    teams: tuple[Team, ...] = ()
    alerts_role_arn: pulumi.Input[str] | None = None
    alerts_policy: pulumi.Resource | None = None
    # Where Grafana's own role is bound, for the CloudWatch data source (None: no service has data).
    cloudwatch: ClusterAccess | None = None
    partition: pulumi.Input[str] | None = None

    def deploy(self, ctx: AddOnContext) -> pulumi.Resource:
        """The Grafana password generator and admin ExternalSecret, then the chart."""
        s = ctx.settings
        generator = password_generator(f"{ctx.prefix}-grafana-password", GRAFANA_PASSWORD_GENERATOR, ctx.namespace,
                                       ctx.options(self.secret_store))
        admin = k8s.apiextensions.CustomResource(
            f"{ctx.prefix}-grafana-admin", api_version=EXTERNAL_SECRETS_API, kind="ExternalSecret",
            metadata=ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=ctx.namespace),
            spec=grafana_admin_secret_spec(), opts=ctx.options(self.secret_store, generator))
        sidecar_role = k8s.rbac.v1.ClusterRole(
            f"{ctx.prefix}-grafana-sidecar-role",
            metadata=ObjectMetaArgs(name=GRAFANA_SIDECAR_ROLE),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["configmaps"], verbs=["get", "watch", "list"])],
            opts=ctx.options())
        before_chart: list[pulumi.Resource] = [admin, sidecar_role]
        data = receiver_secret_data(self.teams, s.environment)
        if data:
            if self.alerts_role_arn is None:
                raise ValueError("KubePrometheusStack.alerts_role_arn is required when teams have Slack, PagerDuty "
                                 "or e-mail receivers: their credentials are read through it")
            store = k8s.apiextensions.CustomResource(
                f"{ctx.prefix}-alerts-store", api_version=EXTERNAL_SECRETS_API, kind="SecretStore",
                metadata=ObjectMetaArgs(name=ALERTS_STORE, namespace=ctx.namespace),
                spec=external_secrets.secret_store_spec(s.aws_region, self.alerts_role_arn),
                opts=ctx.options(self.secret_store, *([self.alerts_policy] if self.alerts_policy else [])))
            # The chart (its Alertmanager pods mount the Secret) waits for the Secret's writer.
            before_chart.append(k8s.apiextensions.CustomResource(
                f"{ctx.prefix}-alert-receivers", api_version=EXTERNAL_SECRETS_API, kind="ExternalSecret",
                metadata=ObjectMetaArgs(name=RECEIVER_SECRET, namespace=ctx.namespace),
                spec=receiver_external_secret_spec(self.teams, s.environment), opts=ctx.options(store)))
        annotations = None
        if self.cloudwatch is not None:
            statements = pulumi.Output.all(self.partition, self.cloudwatch.account_id).apply(
                lambda v: grafana_cloudwatch_statements(v[0], s.aws_region, v[1], s.environment))
            identity = self.cloudwatch.identity(f"{ctx.prefix}-grafana", ctx, GRAFANA_SERVICE_ACCOUNT,
                                                extra_statements=statements)
            annotations = role_annotations(s.cluster.identity, identity.role_arn)
            # Grafana's pod gets its credentials at creation: the role and its binding first.
            before_chart.append(identity)
        bootstrap = self.kafka_bootstrap if self.kafka_bootstrap is not None else ""
        scrape = pulumi.Output.from_input(bootstrap).apply(lambda b: msk_scrape_configs(b, f"paved-{s.environment}"))
        return chart(f"{ctx.prefix}-{CHART}", CHART, ctx.namespace,
                     kube_prometheus_stack_values(s, scrape, self.storage_class, self.teams, annotations),
                     ctx.options(*before_chart))
