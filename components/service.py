"""Microservice: one catalog entry → a hardened, autoscaled workload.

The spec builders are pure functions (catalog entry → typed ``*Args``) so they are tested
without the Pulumi engine; the component only wires them together.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import (
    DeploymentInitArgs,
    DeploymentSpecArgs,
    DeploymentStrategyArgs,
    RollingUpdateDeploymentArgs,
)
from pulumi_kubernetes.autoscaling.v2 import (
    CrossVersionObjectReferenceArgs,
    HorizontalPodAutoscalerBehaviorArgs,
    HorizontalPodAutoscalerInitArgs,
    HorizontalPodAutoscalerSpecArgs,
    HPAScalingPolicyArgs,
    HPAScalingRulesArgs,
    MetricSpecArgs,
    MetricTargetArgs,
    ResourceMetricSourceArgs,
)
from pulumi_kubernetes.core.v1 import (
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    EnvVarArgs,
    HTTPGetActionArgs,
    KeyToPathArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SecretVolumeSourceArgs,
    ServiceAccountInitArgs,
    ServiceInitArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    TopologySpreadConstraintArgs,
    VolumeArgs,
    VolumeMountArgs,
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
from pulumi_kubernetes.policy.v1 import (
    PodDisruptionBudgetInitArgs,
    PodDisruptionBudgetSpecArgs,
)

from components import edge_auth, lag_scaling, rollout
from components.data import DataWiring
from components.identity import role_annotations
from components.migration import (
    master_external_secret_spec,
    master_secret_labels,
    master_secret_name,
    migration_job_args,
    migration_network_policy_args,
)
from components.ingress import ingress_args
from components.kafka import IAM_PORT as KAFKA_IAM_PORT
from components.labels import name_labels, pod_labels, selector_labels, service_labels
from components.namespace import NAMESPACE_NAME_LABEL, pod_identity_agent_egress
from components.renames import former_aliases
from components.secrets import STORE_NAME, WAIT_FOR_ANNOTATION
from components.security import container_security_context, pod_security_context
from components.telemetry import metrics_service_port, otel_env
from components.versions import EXTERNAL_SECRETS_API, ROLLOUTS_API
from paved.model import Probe, Service, Team
from paved.naming import HTTP_PORT_NAME, MANAGED_SECRET_KEY, METRICS_PORT_NAME, ZONE_KEY, service_secret_name
from paved.resources import SERVICE_MAX_SURGE, SERVICE_MAX_UNAVAILABLE
from paved.stack import StackSettings

TMP_VOLUME = "tmp"
SECRETS_VOLUME = "secrets"
# Secrets arrive as read-only files, never as environment values (CKV_K8S_35): a variable
# `<NAME>_FILE` tells the service where to read each one.
SECRETS_DIR = "/var/run/secrets/paved"
RELOAD_ANNOTATION = "secret.reloader.stakater.com/reload"


@dataclass(frozen=True)
class Peer:
    """Another service this one talks to synchronously, as the network sees it."""

    namespace: str
    name: str
    port: int


@dataclass(frozen=True)
class AwsWiring:
    """What a service gets from the AWS side: identity, Kafka, secrets delivery."""

    vpc_cidr: str
    identity_mode: str  # "podIdentity" | "irsa"
    role_arn: pulumi.Input[str] | None = None
    kafka_bootstrap: pulumi.Input[str] | None = None
    secret_store: pulumi.Resource | None = None  # the team's SecretStore
    secret_pushes: tuple[pulumi.Resource, ...] = ()  # PushSecrets giving the service's managed secrets a first value
    load_balancer: pulumi.Resource | None = None  # the ALB controller, for public services
    # The platform's controllers (load balancer controller, KEDA) are in the platform stack, which
    # is deployed before this team stack: no dependsOn on them, and they are there.
    lower_layer: bool = False
    keda: pulumi.Resource | None = None  # the KEDA chart, for services scaled on Kafka lag
    region: str | None = None  # the MSK cluster's region, for KEDA's IAM authentication
    rollouts_controller: pulumi.Resource | None = None  # the Argo Rollouts chart, for services with `rollout`
    web_acl_arn: pulumi.Input[str] | None = None  # the environment's WAF web ACL, for public services
    data: DataWiring | None = None  # the service's datastores (components/data.py)
    # The team store's right to read the database's master user secret (for the migration Job).
    master_secret_grant: pulumi.Resource | None = None


@dataclass(frozen=True)
class MicroserviceArgs:
    """An effective catalog entry plus what the component needs from around it."""

    service: Service
    team: Team
    settings: StackSettings
    callers: tuple[Peer, ...] = ()
    callees: tuple[Peer, ...] = ()
    aws: AwsWiring | None = None


def secret_object_name(service: Service) -> str:
    """The Kubernetes Secret holding the service's declared secrets (synced from Secrets Manager)."""
    return f"{service.name}-secrets"


def _meta(args: MicroserviceArgs, name: str | None = None) -> ObjectMetaArgs:
    return ObjectMetaArgs(
        name=name or args.service.name,
        namespace=args.team.namespace_name,
        labels=service_labels(args.service, args.team, args.settings.environment),
    )


def _probe(probe: Probe) -> ProbeArgs:
    return ProbeArgs(
        http_get=HTTPGetActionArgs(path=probe.path, port=HTTP_PORT_NAME),
        initial_delay_seconds=probe.initial_delay_seconds,
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def env_vars(args: MicroserviceArgs) -> list[EnvVarArgs]:
    """Platform variables, the catalog's plain variables, and where each secret's file is."""
    svc = args.service
    platform = {
        "PAVED_SERVICE": svc.name,
        "PAVED_TEAM": args.team.name,
        "PAVED_ENVIRONMENT": args.settings.environment,
        "PORT": str(svc.port),
    }
    secret_files = {f"{s.env_name}_FILE": f"{SECRETS_DIR}/{s.name}" for s in svc.secrets}
    # paved's telemetry settings win over the catalog's.
    telemetry = otel_env(svc, args.team, args.settings)
    data = args.aws.data.env if args.aws is not None and args.aws.data is not None else {}
    return [EnvVarArgs(name=k, value=v)
            for k, v in {**platform, **svc.env, **telemetry, **secret_files, **kafka_env(args), **data}.items()]


def lag_scaled(args: MicroserviceArgs) -> bool:
    """Whether the service scales on Kafka lag: it asks for it and KEDA and the brokers are there."""
    aws = args.aws
    return (args.service.scaling.lag is not None and aws is not None and (aws.keda is not None or aws.lower_layer)
            and aws.kafka_bootstrap is not None and aws.region is not None)


def uses_kafka(service: Service) -> bool:
    """Whether the service produces or consumes any topic."""
    return bool(service.kafka.produces or service.kafka.consumes)


def kafka_env(args: MicroserviceArgs) -> dict[str, pulumi.Input[str]]:
    """Bootstrap servers (IAM over TLS), the consumer group, and one variable per topic."""
    svc = args.service
    if not uses_kafka(svc) or args.aws is None or args.aws.kafka_bootstrap is None:
        return {}
    produced = [t.name for t in svc.kafka.produces]
    env: dict[str, pulumi.Input[str]] = {
        "KAFKA_BOOTSTRAP_SERVERS": args.aws.kafka_bootstrap,
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "OAUTHBEARER",
        "KAFKA_CONSUMER_GROUP": lag_scaling.consumer_group(svc),
        "KAFKA_PRODUCES": ",".join(produced),
        "KAFKA_CONSUMES": ",".join(svc.kafka.consumes),
    }
    for topic in [*produced, *svc.kafka.consumes]:
        env["KAFKA_TOPIC_" + topic.upper().replace("-", "_").replace(".", "_")] = topic
    return env


def volumes(args: MicroserviceArgs) -> list[VolumeArgs]:
    """A small writable /tmp, and the service's secrets as owner-read-only files."""
    vols = [VolumeArgs(name=TMP_VOLUME, empty_dir=EmptyDirVolumeSourceArgs(size_limit="64Mi"))]
    if args.service.secrets:
        vols.append(VolumeArgs(
            name=SECRETS_VOLUME,
            secret=SecretVolumeSourceArgs(
                secret_name=secret_object_name(args.service),
                default_mode=0o400,
                items=[KeyToPathArgs(key=s.name, path=s.name) for s in args.service.secrets],
            ),
        ))
    return vols


def volume_mounts(args: MicroserviceArgs) -> list[VolumeMountArgs]:
    """Where the volumes appear in the container."""
    mounts = [VolumeMountArgs(name=TMP_VOLUME, mount_path="/tmp")]
    if args.service.secrets:
        mounts.append(VolumeMountArgs(name=SECRETS_VOLUME, mount_path=SECRETS_DIR, read_only=True))
    return mounts


def container_spec(args: MicroserviceArgs) -> ContainerArgs:
    """The service container: restricted security context, requests/limits, three probes."""
    svc = args.service
    ports = [ContainerPortArgs(name=HTTP_PORT_NAME, container_port=svc.port, protocol="TCP")]
    if svc.metrics.port and svc.metrics.port != svc.port:
        ports.append(ContainerPortArgs(name=METRICS_PORT_NAME, container_port=svc.metrics.port, protocol="TCP"))
    return ContainerArgs(
        name=svc.name,
        image=svc.image,
        image_pull_policy=args.settings.image_pull_policy,
        ports=ports,
        env=env_vars(args),
        resources=ResourceRequirementsArgs(
            requests={"cpu": svc.resources.requests.cpu, "memory": svc.resources.requests.memory},
            limits={"cpu": svc.resources.limits.cpu, "memory": svc.resources.limits.memory},
        ),
        startup_probe=_probe(svc.probes.startup),
        liveness_probe=_probe(svc.probes.liveness),
        readiness_probe=_probe(svc.probes.readiness),
        security_context=container_security_context(),
        volume_mounts=volume_mounts(args),
    )


def pod_spec(args: MicroserviceArgs) -> PodSpecArgs:
    """The pod: its own ServiceAccount without a token, spread across zones, /tmp writable."""
    return PodSpecArgs(
        service_account_name=args.service.name,
        automount_service_account_token=False,
        enable_service_links=False,
        security_context=pod_security_context(),
        containers=[container_spec(args)],
        volumes=volumes(args),
        topology_spread_constraints=[
            TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key=ZONE_KEY,
                when_unsatisfiable=args.settings.zone_spread,
                label_selector=LabelSelectorArgs(match_labels=selector_labels(args.service)),
            )
        ],
        termination_grace_period_seconds=30,
    )


def workload_meta(args: MicroserviceArgs) -> ObjectMetaArgs:
    """Metadata of the service's workload (Deployment or Rollout)."""
    meta = _meta(args)
    if args.service.secrets:
        # Reloader rolls the pods when External Secrets updates the values.
        meta = ObjectMetaArgs(name=meta.name, namespace=meta.namespace, labels=meta.labels,
                              annotations={RELOAD_ANNOTATION: secret_object_name(args.service)})
    return meta


def pod_template(args: MicroserviceArgs) -> PodTemplateSpecArgs:
    """The one pod template of the service, for its Deployment or its Rollout."""
    return PodTemplateSpecArgs(
        metadata=ObjectMetaArgs(labels=pod_labels(args.service, args.team, args.settings.environment)),
        spec=pod_spec(args),
    )


def deployment_args(args: MicroserviceArgs) -> DeploymentInitArgs:
    """The Deployment. No ``replicas``: the HorizontalPodAutoscaler owns the count."""
    return DeploymentInitArgs(
        metadata=workload_meta(args),
        spec=DeploymentSpecArgs(
            selector=LabelSelectorArgs(match_labels=selector_labels(args.service)),
            strategy=DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=RollingUpdateDeploymentArgs(max_unavailable=SERVICE_MAX_UNAVAILABLE,
                                                           max_surge=SERVICE_MAX_SURGE),
            ),
            min_ready_seconds=5,
            progress_deadline_seconds=600,
            revision_history_limit=5,
            template=pod_template(args),
        ),
    )


def service_account_args(args: MicroserviceArgs) -> ServiceAccountInitArgs:
    """The service's own identity, without a mounted API token; annotated with its role for IRSA."""
    meta = _meta(args)
    if args.aws is not None and args.aws.identity_mode == "irsa" and args.aws.role_arn is not None:
        meta = ObjectMetaArgs(name=meta.name, namespace=meta.namespace, labels=meta.labels,
                              annotations=role_annotations(args.aws.identity_mode, args.aws.role_arn))
    return ServiceAccountInitArgs(metadata=meta, automount_service_account_token=False)


def service_args(args: MicroserviceArgs) -> ServiceInitArgs:
    """A ClusterIP Service on the catalog port; public exposure goes through an Ingress."""
    return ServiceInitArgs(
        metadata=_meta(args),
        spec=ServiceSpecArgs(
            type="ClusterIP",
            selector=selector_labels(args.service),
            # A ServiceMonitor scrapes Service ports by name: a separate metrics port is listed too.
            ports=[ServicePortArgs(name=HTTP_PORT_NAME, port=args.service.port, target_port=HTTP_PORT_NAME, protocol="TCP"),
                   *filter(None, [metrics_service_port(args.service)])],
        ),
    )


def hpa_args(args: MicroserviceArgs) -> HorizontalPodAutoscalerInitArgs:
    """autoscaling/v2 on CPU and memory utilisation, with a slow, stabilised scale-down."""
    scaling = args.service.scaling

    def utilisation(resource: str, percent: int) -> MetricSpecArgs:
        return MetricSpecArgs(
            type="Resource",
            resource=ResourceMetricSourceArgs(
                name=resource, target=MetricTargetArgs(type="Utilization", average_utilization=percent)
            ),
        )

    return HorizontalPodAutoscalerInitArgs(
        metadata=_meta(args),
        spec=HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=CrossVersionObjectReferenceArgs(
                api_version=rollout.scale_target(args.service)[0], kind=rollout.scale_target(args.service)[1],
                name=args.service.name),
            min_replicas=scaling.min,
            max_replicas=scaling.max,
            metrics=[utilisation("cpu", scaling.target_cpu_percent), utilisation("memory", scaling.target_memory_percent)],
            behavior=HorizontalPodAutoscalerBehaviorArgs(
                scale_down=HPAScalingRulesArgs(
                    stabilization_window_seconds=scaling.scale_down_stabilization_seconds,
                    policies=[HPAScalingPolicyArgs(type="Pods", value=1, period_seconds=60)],
                ),
            ),
        ),
    )


def pdb_args(args: MicroserviceArgs) -> PodDisruptionBudgetInitArgs | None:
    """At most one pod down in voluntary disruptions; only when at least two run."""
    if args.service.scaling.min < 2:
        return None
    return PodDisruptionBudgetInitArgs(
        metadata=_meta(args),
        spec=PodDisruptionBudgetSpecArgs(
            max_unavailable=1,
            selector=LabelSelectorArgs(match_labels=selector_labels(args.service)),
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )


def _peer(peer: Peer) -> NetworkPolicyPeerArgs:
    return NetworkPolicyPeerArgs(
        namespace_selector=LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: peer.namespace}),
        pod_selector=LabelSelectorArgs(match_labels=name_labels(peer.name)),
    )


def identity_egress(wiring: AwsWiring) -> NetworkPolicyEgressRuleArgs:
    """Egress to where the pod gets its AWS credentials."""
    if wiring.identity_mode == "podIdentity":
        return pod_identity_agent_egress()
    # IRSA exchanges the token at STS: through an interface endpoint inside the VPC.
    return NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=wiring.vpc_cidr))],
                                       ports=[NetworkPolicyPortArgs(protocol="TCP", port=443)])


def aws_egress(args: MicroserviceArgs) -> list[NetworkPolicyEgressRuleArgs]:
    """Egress to the AWS side: credentials, Kafka brokers and the service's datastores in the VPC."""
    if args.aws is None:
        return []
    rules = [identity_egress(args.aws)]
    if args.aws.data is not None and args.aws.data.ports:
        rules.append(NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.aws.vpc_cidr))],
                                                 ports=[NetworkPolicyPortArgs(protocol="TCP", port=p)
                                                        for p in args.aws.data.ports]))
    if uses_kafka(args.service):
        rules.append(NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.aws.vpc_cidr))],
                                                 ports=[NetworkPolicyPortArgs(protocol="TCP", port=KAFKA_IAM_PORT)]))
    return rules


def declared_egress(service: Service) -> list[NetworkPolicyEgressRuleArgs]:
    """The catalog's ``egress``: one rule per CIDR block, on its TCP ports."""
    return [
        NetworkPolicyEgressRuleArgs(to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=rule.cidr))],
                                    ports=[NetworkPolicyPortArgs(protocol="TCP", port=p) for p in rule.ports])
        for rule in service.egress
    ]


def external_secret_spec(args: MicroserviceArgs, store_name: str) -> dict:
    """The ExternalSecret: each declared secret copied from Secrets Manager into ``<service>-secrets``,
    through the team's own SecretStore. A managed secret is JSON (``{"password": ...}``, as the
    rotation Lambda keeps it): its file holds the password only."""
    svc = args.service

    def remote(secret) -> dict:
        ref = {"key": service_secret_name(args.settings.environment, svc, secret.name)}
        if secret.rotation == "managed":
            ref["property"] = MANAGED_SECRET_KEY
        return ref

    return {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "SecretStore", "name": store_name},
        "target": {"name": secret_object_name(svc), "creationPolicy": "Owner", "deletionPolicy": "Retain"},
        "data": [{"secretKey": s.name, "remoteRef": remote(s)} for s in svc.secrets],
    }


def network_policy_args(args: MicroserviceArgs) -> NetworkPolicyInitArgs:
    """Admit only declared callers on the service port; reach only declared callees."""
    svc = args.service
    ingress = [
        NetworkPolicyIngressRuleArgs(
            from_=[_peer(p)], ports=[NetworkPolicyPortArgs(protocol="TCP", port=svc.port)]
        )
        for p in args.callers
    ]
    if svc.public is not None and args.aws is not None:
        # The shared ALB sends traffic straight to pod IPs from its nodes in the VPC.
        ingress.append(NetworkPolicyIngressRuleArgs(
            from_=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.aws.vpc_cidr))],
            ports=[NetworkPolicyPortArgs(protocol="TCP", port=svc.port)]))
    egress = [
        NetworkPolicyEgressRuleArgs(to=[_peer(p)], ports=[NetworkPolicyPortArgs(protocol="TCP", port=p.port)])
        for p in args.callees
    ]
    egress += aws_egress(args)
    egress += declared_egress(svc)
    return NetworkPolicyInitArgs(
        metadata=_meta(args),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=selector_labels(svc)),
            policy_types=["Ingress", "Egress"],
            ingress=ingress,
            egress=egress,
        ),
    )


class Microservice(pulumi.ComponentResource):
    """A catalog service: ServiceAccount, Deployment, Service, HPA (or KEDA ScaledObject), PDB and NetworkPolicy."""

    deployment_name: pulumi.Output[str]
    service_dns: pulumi.Output[str]

    def __init__(self, name: str, args: MicroserviceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("paved:service:Microservice", name, None, opts)
        self.paved_service = args.service.name
        self.paved_team = args.team.name

        def child(role: str, depends_on: list | None = None) -> pulumi.ResourceOptions:
            # A renamed service keeps its resources: each child is aliased to its old name.
            return pulumi.ResourceOptions(parent=self, depends_on=depends_on,
                                          aliases=former_aliases(args.service, role))

        account = k8s.core.v1.ServiceAccount(f"{name}-sa", service_account_args(args), opts=child("sa"))
        # The pods mount the Secret the ExternalSecret creates (not optional): created first, so
        # the Deployment is applied only once the Secret's source exists.
        pod_needs: list = [account]
        if args.service.secrets and args.aws is not None and args.aws.secret_store is not None:
            pod_needs.append(k8s.apiextensions.CustomResource(
                f"{name}-external-secret",
                api_version=EXTERNAL_SECRETS_API,
                kind="ExternalSecret",
                metadata=_meta(args, secret_object_name(args.service)),
                spec=external_secret_spec(args, STORE_NAME),
                opts=child("external-secret", [args.aws.secret_store, *args.aws.secret_pushes]),
            ))
        migrate = args.aws.data.migrate if args.aws is not None and args.aws.data is not None else None
        if migrate is not None:
            # pulumi-kubernetes waits for the Job to complete: the new pods start only after the
            # migration succeeded, and a failed one fails the update (docs/data.md).
            labels = service_labels(args.service, args.team, args.settings.environment)
            policy = k8s.networking.v1.NetworkPolicy(f"{name}-migrate-netpol", migration_network_policy_args(
                args.service, args.team.namespace_name, labels, [identity_egress(args.aws)], args.aws.vpc_cidr,
                args.aws.data.ports), opts=child("migrate-netpol"))
            pod = pod_spec(args)
            job_needs = [*pod_needs, policy]
            master = None
            if args.aws.data.master_secret_arn is not None and args.aws.secret_store is not None:
                # The master user secret reaches the Job alone: it creates the service's database role.
                job_needs.append(k8s.apiextensions.CustomResource(
                    f"{name}-db-master", api_version=EXTERNAL_SECRETS_API, kind="ExternalSecret",
                    metadata=ObjectMetaArgs(name=master_secret_name(args.service), namespace=args.team.namespace_name,
                                            labels=master_secret_labels(args.service, labels),
                                            # pulumi up waits until ESO has synced it, so the Job finds it.
                                            annotations={WAIT_FOR_ANNOTATION: "condition=Ready"}),
                    spec=master_external_secret_spec(args.service, STORE_NAME, args.aws.data.master_secret_arn),
                    opts=child("db-master", [args.aws.secret_store,
                                             *([args.aws.master_secret_grant] if args.aws.master_secret_grant else [])])))
                master = master_secret_name(args.service)
            pod_needs.append(k8s.batch.v1.Job(f"{name}-migrate", migration_job_args(
                args.service, migrate, args.team.namespace_name, labels, pod, pod.containers[0], master),
                opts=pulumi.ResourceOptions.merge(child("migrate", job_needs), pulumi.ResourceOptions(
                    # Pulumi's own wait (10 minutes by default) outlasts the Job's deadline.
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{migrate.timeout_seconds + 120}s",
                                                          update=f"{migrate.timeout_seconds + 120}s")))))
        if args.service.rollout is not None:
            deployment = self._rollout(name, args, child, pod_needs)
        else:
            deployment = k8s.apps.v1.Deployment(
                f"{name}-deployment", deployment_args(args), opts=child("deployment", pod_needs)
            )
        k8s.core.v1.Service(f"{name}-service", service_args(args), opts=child("service"))
        if lag_scaled(args):  # KEDA creates and owns the HPA
            lag_scaling.register(name, args.service, args.team, args.settings.environment, args.aws.region,
                                 args.aws.kafka_bootstrap, args.aws.keda, child("scaled-object", [deployment]))
        else:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(f"{name}-hpa", hpa_args(args), opts=child("hpa", [deployment]))
        pdb = pdb_args(args)
        if pdb is not None:
            k8s.policy.v1.PodDisruptionBudget(f"{name}-pdb", pdb, opts=child("pdb"))
        k8s.networking.v1.NetworkPolicy(f"{name}-netpol", network_policy_args(args), opts=child("netpol"))
        if args.service.public is not None and args.aws is not None and (
                args.aws.load_balancer is not None or args.aws.lower_layer):
            k8s.networking.v1.Ingress(f"{name}-ingress", ingress_args(args.service, args.team, args.settings,
                                                                      args.aws.web_acl_arn),
                                      opts=child("ingress", [*([args.aws.load_balancer] if args.aws.load_balancer else []),
                                                             *self._alb_auth(name, args, child)]))

        self.deployment_name = deployment.metadata.apply(lambda m: m["name"] if isinstance(m, dict) else m.name)
        self.service_dns = pulumi.Output.from_input(
            f"{args.service.name}.{args.team.namespace_name}.svc.cluster.local:{args.service.port}"
        )
        self.register_outputs({"deployment_name": self.deployment_name, "service_dns": self.service_dns})

    def _alb_auth(self, name: str, args: MicroserviceArgs, child) -> list[pulumi.Resource]:
        """For ``public.auth``: the ALB's OIDC client Secret (from Secrets Manager through the team's
        SecretStore) and the controller's right to read exactly it; the Ingress waits for both."""
        svc = args.service
        if svc.public is None or svc.public.auth is None or args.aws is None or args.aws.secret_store is None:
            return []
        secret = k8s.apiextensions.CustomResource(
            f"{name}-alb-oidc", api_version=EXTERNAL_SECRETS_API, kind="ExternalSecret",
            metadata=_meta(args, edge_auth.oidc_secret_name(svc)),
            spec=edge_auth.oidc_external_secret_spec(svc, args.settings.environment, STORE_NAME),
            opts=child("alb-oidc", [args.aws.secret_store]))
        reader = f"{svc.name}-alb-oidc-reader"
        role = k8s.rbac.v1.Role(f"{name}-alb-oidc-reader", k8s.rbac.v1.RoleInitArgs(
            metadata=_meta(args, reader),
            rules=[k8s.rbac.v1.PolicyRuleArgs(api_groups=r["apiGroups"], resources=r["resources"],
                                              resource_names=r["resourceNames"], verbs=r["verbs"])
                   for r in edge_auth.reader_rules(svc)]), opts=child("alb-oidc-reader"))
        binding = k8s.rbac.v1.RoleBinding(f"{name}-alb-oidc-reader-binding", k8s.rbac.v1.RoleBindingInitArgs(
            metadata=_meta(args, reader),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=reader),
            subjects=[k8s.rbac.v1.SubjectArgs(kind=s["kind"], name=s["name"], namespace=s["namespace"])
                      for s in edge_auth.reader_subjects()]), opts=child("alb-oidc-reader-binding", [role]))
        return [secret, binding]

    def _rollout(self, name: str, args: MicroserviceArgs, child, pod_needs: list) -> k8s.apiextensions.CustomResource:
        """The Argo Rollout in place of the Deployment, with its AnalysisTemplate (and a preview
        Service for blue-green); all after the controller's chart, which serves their CRDs."""
        svc = args.service
        controller = [args.aws.rollouts_controller] if args.aws is not None and args.aws.rollouts_controller else []
        needs = [*pod_needs, *controller]
        if svc.rollout.analysis == "slo":
            needs.append(k8s.apiextensions.CustomResource(
                f"{name}-analysis", api_version=ROLLOUTS_API, kind="AnalysisTemplate",
                metadata=_meta(args, rollout.analysis_template_name(svc)),
                spec=rollout.analysis_template_spec(svc, args.team), opts=child("analysis", controller)))
        if svc.rollout.strategy == "blueGreen":
            preview = service_args(args)
            preview = ServiceInitArgs(metadata=_meta(args, rollout.preview_service_name(svc)), spec=preview.spec)
            needs.append(k8s.core.v1.Service(f"{name}-preview-service", preview, opts=child("preview-service")))
        return k8s.apiextensions.CustomResource(
            f"{name}-rollout", api_version=ROLLOUTS_API, kind="Rollout", metadata=workload_meta(args),
            spec=rollout.rollout_spec(svc, selector_labels(svc), pod_template(args)), opts=child("rollout", needs))
