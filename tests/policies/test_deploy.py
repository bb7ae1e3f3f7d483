"""Tests for the deploy-readiness rules (PAVED-DEP-001 .. 014).

Each test starts from one passing set of resources and injects one defect per failing case,
asserting the set of violating resource names and a message substring. Ordering rules need
parents and dependencies, so resources here are built with ``stack`` (the harness's
``stack_violations`` has neither). The repo's own plans are used through ``paved check``
where the real wiring matters.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from decimal import Decimal

import pytest
from policy_harness import mutate, options, resource_violations, sample, urn
from pulumi_policy import PolicyProviderResource, PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from paved import check
from paved.check import settings_for
from policies.rules.deploy import RULES
from policies.rules.deploy import dep_001_pod_admission as dep_001
from policies.rules.deploy import dep_002_webhook_ordering as dep_002
from policies.rules.deploy import dep_003_controller_prerequisites as dep_003
from policies.rules.deploy import dep_004_identity_before_pods as dep_004
from policies.rules.deploy import dep_005_secrets_before_pods as dep_005
from policies.rules.deploy import dep_006_secret_initial_value as dep_006
from policies.rules.deploy import dep_007_node_capacity as dep_007
from policies.rules.deploy import dep_008_quota_covers_rollout as dep_008
from policies.rules.deploy import dep_009_iam_policy_lint as dep_009
from policies.rules.deploy import dep_010_kafka_idempotent_producer as dep_010
from policies.rules.deploy import dep_011_replaceable_names as dep_011
from policies.rules.deploy import dep_012_environment_in_names as dep_012
from policies.rules.deploy import dep_013_cluster_reachability as dep_013
from policies.rules.deploy import dep_014_volume_binding_order as dep_014

DEPLOYMENT_T = "kubernetes:apps/v1:Deployment"
DAEMONSET_T = "kubernetes:apps/v1:DaemonSet"
NAMESPACE_T = "kubernetes:core/v1:Namespace"
SERVICE_T = "kubernetes:core/v1:Service"
SA_T = "kubernetes:core/v1:ServiceAccount"
SECRET_T = "kubernetes:core/v1:Secret"
ES_T = "kubernetes:external-secrets.io/v1beta1:ExternalSecret"
HPA_T = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
NP_T = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INGRESS_T = "kubernetes:networking.k8s.io/v1:Ingress"
CHART_T = "kubernetes:helm.sh/v4:Chart"
VWC_T = "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration"
QUOTA_T = "kubernetes:core/v1:ResourceQuota"
ADDON_T = "aws:eks/addon:Addon"
NODE_GROUP_T = "aws:eks/nodeGroup:NodeGroup"
PIA_T = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SM_SECRET_T = "aws:secretsmanager/secret:Secret"
SM_VERSION_T = "aws:secretsmanager/secretVersion:SecretVersion"
ROLE_POLICY_T = "aws:iam/rolePolicy:RolePolicy"
EKS_T = "aws:eks/cluster:Cluster"
COMPONENT_T = "paved:service:Microservice"
AWS_PROVIDER_T = "pulumi:providers:aws"


# --- building stacks with parents and dependencies ------------------------------------------


def res(t: str, n: str, props: dict | None = None, parent: str | None = None, deps: tuple[str, ...] = ()):
    """One resource: (type, name, props, parent name, dependsOn names)."""
    return (t, n, props or {}, parent, deps)


def stack(rule, resources, config: dict | None = None, provider: dict | None = None) -> list[tuple[str, str | None]]:
    """(message, urn) pairs a stack rule reports over resources built with ``res``."""
    _, cfg = settings_for(rule, {rule.policy_name: config} if config else {})
    prov = PolicyProviderResource(AWS_PROVIDER_T, unknown_checking_proxy(provider), urn(AWS_PROVIDER_T, "aws"), "aws") \
        if provider else None
    built = {n: PolicyResource(t, unknown_checking_proxy(copy.deepcopy(p)), urn(t, n), n, options(), prov, None, [], {})
             for t, n, p, _, _ in resources}
    for _, n, _, parent, deps in resources:
        built[n].parent = built.get(parent) if parent else None
        built[n].dependencies = [built[d] for d in deps]
    found: list[tuple[str, str | None]] = []
    rule.run_stack(StackValidationArgs(list(built.values()), config=cfg), lambda m, u=None: found.append((m, u)))
    return found


def names(found) -> set[str]:
    return {u.rsplit("::", 1)[-1] for _, u in found if u}


def messages(found) -> str:
    return "\n".join(m for m, _ in found)


def deployment(name: str = "orders", ns: str = "checkout", pod: dict | None = None, **spec) -> dict:
    """A Deployment passing PSS restricted, with the given pod spec fields."""
    container = {
        "name": name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/orders:1.0.0",
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    }
    labels = {"app.kubernetes.io/name": name}
    return {
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, **spec,
                 "template": {"metadata": {"labels": labels},
                              "spec": {"serviceAccountName": name, "containers": [container], **(pod or {})}}},
    }


def namespace(name: str, level: str | None = "restricted") -> dict:
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    return {"metadata": {"name": name, "labels": labels}}


# --- the category ---------------------------------------------------------------------------


def test_every_rule_is_mandatory_and_in_the_registry():
    from policies.registry import RULES as ALL

    ids = {r.id for r in ALL}
    assert [r.id for r in RULES] == [f"PAVED-DEP-{i:03}" for i in range(1, 15)]
    assert {r.id for r in RULES} <= ids
    assert all(r.enforcement == "mandatory" for r in RULES if r.id != "PAVED-DEP-006")
    assert dep_006.RULE.enforcement == "advisory"  # the live value is a separate gate


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_env_configs_name_only_deploy_rules_that_exist(env):
    from pathlib import Path

    cfg = json.loads((Path(__file__).resolve().parents[2] / "policies" / "config" / f"{env}.json").read_text())
    deploy = {k: v for k, v in cfg.items() if k.startswith("paved-dep-")}
    assert set(deploy) <= {r.policy_name for r in RULES}
    assert all(v == {"enforcementLevel": "advisory"} for v in deploy.values())  # temporary, see the fix list


# --- paved check: components and dependencies as the engine sends them ----------------------


def test_check_expands_depends_on_like_the_sdk():
    plan = {"resources": [
        {"urn": "u:comp", "type": "paved:x:X", "name": "comp", "custom": False, "parent": None, "inputs": {}, "options": {}},
        {"urn": "u:a", "type": SECRET_T, "name": "a", "custom": True, "parent": "u:comp", "inputs": {}, "options": {}},
        {"urn": "u:chart", "type": CHART_T, "name": "chart", "custom": False, "parent": "u:comp", "inputs": {}, "options": {}},
        {"urn": "u:c", "type": SECRET_T, "name": "c", "custom": True, "parent": "u:chart", "inputs": {}, "options": {}},
        {"urn": "u:w", "type": DEPLOYMENT_T, "name": "w", "custom": True, "parent": None, "inputs": {},
         "options": {"dependsOn": ["u:comp"]}},
    ]}
    children: dict = {}
    for r in plan["resources"]:
        children.setdefault(r["parent"] or "", []).append(r)
    by_urn = {r["urn"]: r for r in plan["resources"]}
    # A local component stands for its custom children and remote components, not for what a chart holds.
    assert check._dependencies(by_urn["u:w"], by_urn, children) == ["u:a", "u:chart"]


def test_check_gives_stack_rules_parents_and_components(planned_stack):
    plan, _ = planned_stack("prod")
    seen = {}

    from policies.framework import Rule

    probe = Rule(id="PAVED-DEP-999", name="probe", description="Checks whether the probe sees resources.",
                 severity="low", remediation="none", anchors=("test",),
                 validate_stack=lambda args, report: seen.update(resources=args.resources))
    check.run(plan, {}, (probe,))
    by_name = {r.name: r for r in seen["resources"]}
    assert by_name["orders-rollout"].parent.resource_type == "paved:service:Microservice"  # orders: Argo Rollouts
    hpa_deps = {d.name for d in by_name["orders-hpa"].dependencies}
    assert "orders-rollout" in hpa_deps
    # Ingress dependsOn the LoadBalancerController component: expanded to its children (the chart among them).
    assert "paved-load-balancer-chart" in {d.name for d in by_name["orders-ingress"].dependencies}


# --- DEP-001 pod admission ------------------------------------------------------------------


def _admission(pod=None, level="restricted", **container):
    d = deployment(pod=pod)
    d["spec"]["template"]["spec"]["containers"][0].update(container)
    return [res(NAMESPACE_T, "checkout-ns", namespace("checkout", level)), res(DEPLOYMENT_T, "orders", d)]


def test_dep_001_passes_compliant_pods_and_the_real_plans(planned_stack):
    assert stack(dep_001.RULE, _admission()) == []
    for env in ("dev", "staging", "prod"):
        plan, _ = planned_stack(env)
        assert [v for v in check.run(plan, {}, (dep_001.RULE,))] == []


def test_dep_001_restricted_rejects_what_pss_restricted_rejects():
    found = stack(dep_001.RULE, _admission(securityContext={"capabilities": {"drop": ["ALL"]}}))
    assert names(found) == {"orders"}
    assert "Pod Security restricted" in messages(found) and "allowPrivilegeEscalation" in messages(found)


def test_dep_001_baseline_admits_what_only_restricted_forbids():
    loose = {"securityContext": {"capabilities": {"add": ["CHOWN"]}}}
    assert stack(dep_001.RULE, _admission(level="baseline", **loose)) == []
    found = stack(dep_001.RULE, _admission(level="baseline", securityContext={"privileged": True}))
    assert names(found) == {"orders"} and "baseline" in messages(found)
    found = stack(dep_001.RULE, _admission(level="baseline", securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}))
    assert "SYS_ADMIN" in messages(found)
    found = stack(dep_001.RULE, _admission(pod={"hostNetwork": True}, level="baseline"))
    assert "hostNetwork" in messages(found)


def test_dep_001_namespace_levels():
    bad = {"securityContext": {"privileged": True}}
    assert stack(dep_001.RULE, _admission(level="privileged", **bad)) == []
    assert stack(dep_001.RULE, _admission(level=None, **bad)) == []  # unlabelled: privileged
    no_ns = _admission(**bad)[1:]
    assert stack(dep_001.RULE, no_ns) == []  # not in the plan: skipped by default
    assert names(stack(dep_001.RULE, no_ns, config={"unplannedNamespaceLevel": "baseline"})) == {"orders"}


# --- DEP-002 webhook ordering ---------------------------------------------------------------


def _webhook_stack(obj_deps=("eso",), failure="Fail", object_selector=None):
    webhook = {"name": "validate.externalsecret.external-secrets.io", "failurePolicy": failure,
               "clientConfig": {"service": {"namespace": "external-secrets", "name": "eso-webhook"}},
               "rules": [{"apiGroups": ["external-secrets.io"], "apiVersions": ["v1beta1"], "operations": ["CREATE", "UPDATE"],
                          "resources": ["externalsecrets"], "scope": "Namespaced"}]}
    if object_selector:
        webhook["objectSelector"] = object_selector
    es = {"metadata": {"name": "orders-secrets", "namespace": "checkout", "labels": {"team": "checkout"}},
          "kind": "ExternalSecret", "spec": {"target": {"name": "orders-secrets"}}}
    return [
        res(CHART_T, "eso", {"chart": "external-secrets"}),
        res(DEPLOYMENT_T, "eso-webhook-deployment", deployment("eso-webhook", "external-secrets"), parent="eso"),
        res(SERVICE_T, "eso-webhook-svc", {"metadata": {"name": "eso-webhook", "namespace": "external-secrets"},
                                          "spec": {"selector": {"app.kubernetes.io/name": "eso-webhook"}}}, parent="eso"),
        res(VWC_T, "eso-vwc", {"metadata": {"name": "eso"}, "webhooks": [webhook]}, parent="eso"),
        res(ES_T, "orders-external-secret", es, deps=obj_deps),
        res(SECRET_T, "unrelated", {"metadata": {"name": "x", "namespace": "checkout"}}),
    ]


def test_dep_002_passes_objects_ordered_after_the_webhook_chart():
    assert stack(dep_002.RULE, _webhook_stack()) == []
    assert stack(dep_002.RULE, _webhook_stack(obj_deps=("eso-webhook-deployment",))) == []


def test_dep_002_flags_intercepted_objects_created_too_early():
    found = stack(dep_002.RULE, _webhook_stack(obj_deps=()))
    assert names(found) == {"orders-external-secret"}
    assert "must depend on Deployment eso-webhook (or its component eso)" in messages(found)


def test_dep_002_ignores_fail_open_and_unselected_objects():
    assert stack(dep_002.RULE, _webhook_stack(obj_deps=(), failure="Ignore")) == []
    selector = {"matchLabels": {"team": "other"}}
    assert stack(dep_002.RULE, _webhook_stack(obj_deps=(), object_selector=selector)) == []


# --- DEP-003 controller prerequisites -------------------------------------------------------


CONTROLLERS = [
    res(ADDON_T, "metrics-server", {"addonName": "metrics-server"}),
    res(ADDON_T, "vpc-cni", {"addonName": "vpc-cni", "configurationValues": json.dumps({"enableNetworkPolicy": "true"})}),
    res(CHART_T, "karpenter", {"chart": "oci://public.ecr.aws/karpenter/karpenter"}),
    res(CHART_T, "lbc", {"chart": "charts/aws-load-balancer-controller-1.13.3.tgz"}),
    res(CHART_T, "eso", {"chart": "external-secrets"}),
    res(CHART_T, "keda", {"chart": "keda", "version": "2.20.2"}),
]
USERS = [
    res(HPA_T, "orders-hpa", {"metadata": {"name": "orders"}}),
    res(NODE_GROUP_T, "general", {"scalingConfig": {"minSize": 2, "maxSize": 4, "desiredSize": 2}}),
    res(NP_T, "default-deny", {"metadata": {"name": "default-deny", "namespace": "checkout"}}),
    res(NP_T, "allow-dns", {"metadata": {"name": "allow-dns", "namespace": "checkout"}}),
    res(INGRESS_T, "orders-ingress", {"metadata": {"name": "orders"}, "spec": {"ingressClassName": "alb"}}),
    res(ES_T, "orders-es", {"metadata": {"name": "orders-secrets"}, "kind": "ExternalSecret"}),
    res("kubernetes:keda.sh/v1alpha1:ScaledObject", "analytics-scaled-object", {"metadata": {"name": "analytics"}}),
]


def test_dep_003_passes_when_every_controller_is_installed():
    assert stack(dep_003.RULE, [*CONTROLLERS, *USERS]) == []


@pytest.mark.parametrize("missing, flagged, needle", [
    ("metrics-server", "orders-hpa", "metrics-server"),
    ("karpenter", "general", "Karpenter or cluster-autoscaler"),
    ("vpc-cni", "default-deny", "and 1 more NetworkPolicy"),
    ("lbc", "orders-ingress", "AWS Load Balancer Controller"),
    ("eso", "orders-es", "External Secrets Operator"),
    ("keda", "analytics-scaled-object", "must have KEDA in the stack"),
])
def test_dep_003_flags_a_missing_controller(missing, flagged, needle):
    found = stack(dep_003.RULE, [r for r in CONTROLLERS if r[1] != missing] + USERS)
    assert names(found) == {flagged} and needle in messages(found)


def test_dep_003_vpc_cni_must_enable_network_policy_and_rendered_objects_count():
    cni_off = [res(ADDON_T, "vpc-cni", {"addonName": "vpc-cni"}) if r[1] == "vpc-cni" else r for r in CONTROLLERS]
    assert names(stack(dep_003.RULE, cni_off + USERS)) == {"default-deny"}
    rendered = [r for r in CONTROLLERS if r[1] != "metrics-server"] + [
        res("kubernetes:apiregistration.k8s.io/v1:APIService", "apiservice", {"metadata": {"name": "v1beta1.metrics.k8s.io"}})]
    assert stack(dep_003.RULE, rendered + USERS) == []
    fixed = [res(NODE_GROUP_T, "general", {"scalingConfig": {"minSize": 2, "maxSize": 2, "desiredSize": 2}})]
    assert stack(dep_003.RULE, [r for r in CONTROLLERS if r[1] != "karpenter"] + fixed) == []


# --- DEP-004 identity before pods -----------------------------------------------------------


def _identity_stack(deps=("orders-identity",), irsa=False):
    sa = {"metadata": {"name": "orders", "namespace": "checkout"}}
    out = [res(SA_T, "orders-sa", sa, parent="orders")]
    if irsa:
        sa["metadata"]["annotations"] = {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/orders"}
    else:
        out += [res("paved:identity:ServiceIdentity", "orders-identity"),
                res(PIA_T, "orders-pia", {"namespace": "checkout", "serviceAccount": "orders"}, parent="orders-identity")]
    return [res(COMPONENT_T, "orders", deps=deps), *out,
            res(DEPLOYMENT_T, "orders-deployment", deployment(), parent="orders", deps=("orders-sa",))]


def test_dep_004_passes_when_the_workload_waits_for_its_binding():
    assert stack(dep_004.RULE, _identity_stack()) == []  # through the parent component's dependsOn
    assert stack(dep_004.RULE, _identity_stack(deps=(), irsa=True)) == []


def test_dep_004_flags_workloads_created_before_their_binding():
    found = stack(dep_004.RULE, _identity_stack(deps=()))
    assert names(found) == {"orders-deployment"}
    assert "PodIdentityAssociation orders-pia (or its component orders-identity)" in messages(found)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_ordering_rules_pass_on_the_platform(planned_stack, stack):
    """Services wait for their identity and secrets, ESO for its association, no Service waits
    on the load balancer controller's Service webhook (switched off: paved uses Ingress only),
    and every feature has its controller (metrics-server, Cluster Autoscaler, ...)."""
    plan, _ = planned_stack(stack)
    found = check.run(plan, {}, (dep_002.RULE, dep_003.RULE, dep_004.RULE, dep_005.RULE))
    assert found == [], [v.message for v in found]


# --- DEP-005 secrets before pods ------------------------------------------------------------


def _secret_stack(deps=("orders-es",), pod_secret="orders-secrets", optional=False):
    volume = {"name": "secrets", "secret": {"secretName": pod_secret, "optional": optional}}
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-token", "key": "token"}}}]
    d = deployment(pod={"volumes": [volume]})
    d["spec"]["template"]["spec"]["containers"][0]["env"] = env
    es = {"metadata": {"name": "orders-secrets", "namespace": "checkout"}, "kind": "ExternalSecret", "spec": {}}
    return [res(ES_T, "orders-es", es),
            res(SECRET_T, "api-token", {"metadata": {"name": "api-token", "namespace": "checkout"}}),
            res(DEPLOYMENT_T, "orders-deployment", d, deps=(*deps, "api-token"))]


def test_dep_005_passes_when_every_secret_is_created_first():
    assert stack(dep_005.RULE, _secret_stack()) == []


def test_dep_005_flags_a_secret_nobody_creates_or_one_created_later():
    found = stack(dep_005.RULE, _secret_stack(pod_secret="missing"))
    assert names(found) == {"orders-deployment"} and "checkout/missing (volume secrets)" in messages(found)
    assert stack(dep_005.RULE, _secret_stack(pod_secret="missing", optional=True)) == []
    found = stack(dep_005.RULE, _secret_stack(deps=()))
    assert names(found) == {"orders-deployment"} and "must depend on ExternalSecret orders-secrets" in messages(found)


def _keda_stack(operator: str = "keda-operator", same_chart: bool = True):
    """KEDA's chart: the metrics API server mounts kedaorg-certs, which the operator writes at start."""
    certs = {"name": "certificates", "secret": {"secretName": "kedaorg-certs"}}
    server = deployment("keda-operator-metrics-apiserver", "keda", pod={"volumes": [certs]})
    return [res(CHART_T, "keda", {"chart": "keda"}), res(CHART_T, "other", {"chart": "other"}),
            res(DEPLOYMENT_T, "keda-operator", deployment(operator, "keda"), parent="keda"),
            res(DEPLOYMENT_T, "keda-metrics", server, parent="keda" if same_chart else "other")]


def test_dep_005_accepts_exactly_the_recorded_controller_secrets():
    assert stack(dep_005.RULE, _keda_stack()) == []
    # Another Deployment does not write it; a pod of another chart must be ordered after the operator.
    assert names(stack(dep_005.RULE, _keda_stack(operator="not-keda"))) == {"keda-metrics"}
    found = stack(dep_005.RULE, _keda_stack(same_chart=False))
    assert names(found) == {"keda-metrics"} and "must depend on Deployment keda-operator" in messages(found)


def test_dep_005_controller_secrets_are_recorded_and_in_the_plan(planned_stack):
    """Every recorded controller Secret is in docs/exceptions.md and mounted by a pod of the prod plan."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "exceptions.md").read_text()
    plan, _ = planned_stack("prod")
    mounted = {v["secret"]["secretName"] for r in plan["resources"] if r["type"] == DEPLOYMENT_T
               for v in r["inputs"]["spec"]["template"]["spec"].get("volumes") or [] if "secret" in v}
    deployments = {r["inputs"]["metadata"]["name"] for r in plan["resources"] if r["type"] == DEPLOYMENT_T}
    for deployment_name, secret in dep_005.CONTROLLER_SECRETS:
        assert f"`{secret}`" in text and f"`{deployment_name}`" in text, secret
        assert secret in mounted and deployment_name in deployments, secret


# --- DEP-006 secret initial value -----------------------------------------------------------


def _value_stack(version=True, generator=False):
    data = [] if generator else [{"secretKey": "db-password", "remoteRef": {"key": "prod/checkout/orders/db-password"}}]
    es = {"metadata": {"name": "orders-secrets", "labels": {"app.kubernetes.io/name": "orders"}}, "kind": "ExternalSecret",
          "spec": {"data": data}}
    out = [res(SM_SECRET_T, "orders-db-password", {"name": "prod/checkout/orders/db-password"}), res(ES_T, "orders-es", es)]
    if version:
        out.append(res(SM_VERSION_T, "orders-db-password-version", {"secretId": UNKNOWN_STRING_VALUE}))
    return out


PUSH_T = "kubernetes:external-secrets.io/v1alpha1:PushSecret"


def _push(remote_key="prod/checkout/orders/db-password", generator=True):
    spec = {"data": [{"match": {"secretKey": "password", "remoteRef": {"remoteKey": remote_key, "property": "password"}}}],
            "selector": {"generatorRef": {"kind": "Password", "name": "paved-password"}} if generator
            else {"secret": {"name": "orders-seed"}}}
    return res(PUSH_T, "orders-db-password-push", {"kind": "PushSecret", "spec": spec})


def test_dep_006_passes_secrets_with_a_first_value():
    assert stack(dep_006.RULE, _value_stack()) == []
    assert stack(dep_006.RULE, _value_stack(version=False, generator=True)) == []
    # A managed secret's first value is generated in the cluster and pushed: no value in Pulumi state.
    assert stack(dep_006.RULE, [*_value_stack(version=False), _push()]) == []


def test_dep_006_a_push_of_another_secret_or_of_no_generator_is_no_first_value():
    for push in (_push(remote_key="prod/checkout/orders/other"), _push(generator=False)):
        found = stack(dep_006.RULE, [*_value_stack(version=False), push])
        assert names(found) == {"orders-es"} and "no PushSecret from a generator" in messages(found)


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_dep_006_names_only_third_party_secrets_on_the_platform(planned_stack, stack_name):
    """Managed secrets get a generated first value; only the third-party ones need `paved secrets put`."""
    from test_program import effective_catalog

    from paved.naming import alert_secrets

    plan, _ = planned_stack(stack_name)
    found = check.run(plan, {}, (dep_006.RULE,))
    named = {v.message.split("Secrets Manager secret ", 1)[1].split(" ", 1)[0] for v in found}
    catalog = effective_catalog(stack_name)
    third_party = {f"{stack_name}/{svc.team}/{svc.name}/{s.name}" for svc in catalog.services for s in svc.secrets
                   if s.rotation == "third-party"}
    # The alert receivers' credentials (webhook URLs, routing keys, the SMTP password) too.
    third_party |= {name for _, _, name in alert_secrets(catalog, stack_name)}
    assert named == third_party and third_party
    alert = next(v.message for v in found if f"{stack_name}/_alerts/checkout/slack" in v.message)
    assert f"run `paved secrets put --stack {stack_name} _alerts checkout/slack`" in alert


def test_dep_006_names_the_command_that_gives_a_value():
    found = stack(dep_006.RULE, _value_stack(version=False), provider={
        "defaultTags": json.dumps({"tags": {"environment": "prod"}})})
    assert names(found) == {"orders-es"}
    assert "run `paved secrets put --stack prod orders db-password`" in messages(found)


# --- DEP-007 node capacity ------------------------------------------------------------------


def _capacity_stack(desired=2, cpu="250m", replicas=2, daemon_cpu=None, instance="t3.large"):
    d = deployment(replicas=replicas)
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = cpu
    out = [res(NODE_GROUP_T, "general", {"instanceTypes": [instance],
                                         "scalingConfig": {"minSize": desired, "maxSize": 4, "desiredSize": desired}}),
           res(DEPLOYMENT_T, "orders", d)]
    if daemon_cpu:
        ds = deployment("agent")
        ds["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = daemon_cpu
        out.append(res(DAEMONSET_T, "agent", ds))
    return out


def test_dep_007_allocatable_follows_the_eks_ami():
    cpu, memory, pods = dep_007.allocatable("m6i.large")
    assert cpu == Decimal("1.93")  # 2 vCPU - (60m + 10m)
    assert memory == (8192 - (255 + 11 * 29) - 100) * 2**20 and pods == 29
    assert dep_007.allocatable("m6i.2xlarge")[0] == Decimal("7.91")  # 8 - (60 + 10 + 2x5 + 4x2.5)m
    assert dep_007.allocatable("x9.huge") is None


def test_dep_007_passes_when_pods_fit_and_on_the_real_plans(planned_stack):
    assert stack(dep_007.RULE, _capacity_stack()) == []
    for env in ("dev", "staging", "prod"):
        plan, _ = planned_stack(env)
        assert check.run(plan, {}, (dep_007.RULE,)) == []


def test_dep_007_flags_too_little_capacity():
    found = stack(dep_007.RULE, _capacity_stack(cpu="1", replicas=4))  # 4 CPU on 2 x 1.93
    assert names(found) == {"general"} and "CPU requested" in messages(found)
    found = stack(dep_007.RULE, _capacity_stack(cpu="2500m", replicas=1))
    assert "must request no more than one node offers" in messages(found)
    found = stack(dep_007.RULE, _capacity_stack(daemon_cpu="1500m"))  # 1.5 CPU on each of 2 nodes
    assert names(found) == {"general"}
    # 2 x 1.7 CPU on 2 x 1.93: fits with 10% headroom (3.474), not with 15% (3.281).
    assert stack(dep_007.RULE, _capacity_stack(cpu="1700m")) == []
    assert "15% headroom" in messages(stack(dep_007.RULE, _capacity_stack(cpu="1700m"), config={"headroomPercent": 15}))
    assert "x9.huge" in messages(stack(dep_007.RULE, _capacity_stack(instance="x9.huge")))


# --- DEP-008 quota covers rollout -----------------------------------------------------------


def _quota_stack(cpu="2", surge=1, strategy="RollingUpdate"):
    d = deployment(replicas=3, strategy={"type": strategy, "rollingUpdate": {"maxSurge": surge, "maxUnavailable": 0}})
    if strategy == "Recreate":
        d["spec"]["strategy"] = {"type": "Recreate"}
    quota = {"metadata": {"name": "team-quota", "namespace": "checkout"}, "spec": {"hard": {"requests.cpu": cpu}}}
    return [res(DEPLOYMENT_T, "orders", d), res(QUOTA_T, "checkout-quota", quota)]


def test_dep_008_passes_a_quota_with_room_for_the_surge():
    assert stack(dep_008.RULE, _quota_stack()) == []  # (3 + 1) x 250m = 1
    assert stack(dep_008.RULE, _quota_stack(cpu="750m", strategy="Recreate")) == []


def test_dep_008_flags_a_quota_the_surge_exceeds():
    found = stack(dep_008.RULE, _quota_stack(cpu="750m"))
    assert names(found) == {"checkout-quota"} and "requests.cpu of at least 1" in messages(found)
    found = stack(dep_008.RULE, _quota_stack(cpu="900m", surge="50%"))  # ceil(1.5) = 2 extra pods
    assert "at least 1.25" in messages(found)


# --- DEP-009 IAM policy lint ----------------------------------------------------------------

GOOD_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
     "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/checkout/orders/db-password-abc123"}]}


def test_dep_009_passes_a_clean_policy_and_unknown_documents():
    assert resource_violations(dep_009.RULE, ROLE_POLICY_T, {"policy": json.dumps(GOOD_POLICY), "role": "r"}) == []
    assert resource_violations(dep_009.RULE, ROLE_POLICY_T, {"policy": UNKNOWN_STRING_VALUE, "role": "r"}) == []


def test_dep_009_flags_findings_above_low():
    bad = mutate(GOOD_POLICY, "Statement.0.Condition", {"StringEquals": {"s3:prefix": "x"}})
    found = resource_violations(dep_009.RULE, ROLE_POLICY_T, {"policy": json.dumps(bad)}, name="orders-policy")
    assert found and "RolePolicy orders-policy must pass parliament" in found[0]
    assert "UNKNOWN_CONDITION_FOR_ACTION" in found[0]
    inline = {"inlinePolicies": [{"name": "inline", "policy": json.dumps(bad)}]}
    assert "inline policy inline" in resource_violations(dep_009.RULE, "aws:iam/role:Role", inline)[0]
    assert resource_violations(dep_009.RULE, ROLE_POLICY_T, {"policy": json.dumps(bad)},
                               config={"ignoredIssues": ["UNKNOWN_CONDITION_FOR_ACTION"]}) == []


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_dep_009_passes_the_secret_store_policies_and_trusts(planned_stack, stack_name):
    """The per-team secret roles, their trust in ESO's role and ESO's assume-only policy pass parliament."""
    plan, _ = planned_stack(stack_name)
    found = check.run(plan, {}, (dep_009.RULE,))
    mine = [v.message for v in found if "paved-secrets-" in v.message]
    assert mine == []
    names = {r["name"] for r in plan["resources"] if r["type"] in (ROLE_POLICY_T, "aws:iam/role:Role")}
    assert "paved-secrets-eso-assume-team-roles" in names and "paved-secrets-checkout-policy" in names


# --- DEP-010 Kafka idempotent producer ------------------------------------------------------

CLUSTER = "arn:aws:kafka:us-east-1:123456789012:cluster/paved-prod/abc-1"
TOPIC = "arn:aws:kafka:us-east-1:123456789012:topic/paved-prod/abc-1/order-placed"


def _producer(extra=None):
    statements = [{"Effect": "Allow", "Action": "kafka-cluster:WriteData", "Resource": [TOPIC]}]
    if extra:
        statements.append(extra)
    return [res(ROLE_POLICY_T, "orders-identity-policy", {"role": "orders-role",
                                                           "policy": json.dumps({"Statement": statements})})]


def test_dep_010_passes_producers_allowed_to_write_idempotently():
    assert stack(dep_010.RULE, _producer({"Effect": "Allow", "Action": "kafka-cluster:WriteDataIdempotently",
                                          "Resource": CLUSTER})) == []
    assert stack(dep_010.RULE, _producer({"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": CLUSTER})) == []


def test_dep_010_flags_producers_without_it(planned_stack):
    found = stack(dep_010.RULE, _producer())
    assert names(found) == {"orders-identity-policy"} and CLUSTER in messages(found)
    plan, _ = planned_stack("prod")
    assert check.run(plan, {}, (dep_010.RULE,)) == []  # the platform's producers are allowed it


# --- DEP-011 replaceable names --------------------------------------------------------------


def test_dep_011_passes_auto_named_resources():
    assert resource_violations(dep_011.RULE, NODE_GROUP_T, {"nodeGroupNamePrefix": "general-"}) == []
    assert resource_violations(dep_011.RULE, "aws:msk/configuration:Configuration", {"kafkaVersions": ["3.6.0"]}) == []
    assert resource_violations(dep_011.RULE, "aws:ec2/launchTemplate:LaunchTemplate", {"name": "lt"}) == []


def test_dep_011_flags_fixed_names():
    found = resource_violations(dep_011.RULE, NODE_GROUP_T, {"nodeGroupName": "general"}, name="general")
    assert found and "must leave nodeGroupName unset (use nodeGroupNamePrefix" in found[0]
    found = resource_violations(dep_011.RULE, "aws:msk/configuration:Configuration", {"name": "paved-prod-config"})
    assert found and "kafkaVersions" in found[0]
    dbr = options()
    dbr.delete_before_replace = True
    assert resource_violations(dep_011.RULE, NODE_GROUP_T, {"nodeGroupName": "general"}, opts=dbr) == []


# --- DEP-012 environment in physical names --------------------------------------------------


def _named(alias="alias/paved/prod/cluster-secrets"):
    return [res("aws:kms/alias:Alias", "key-alias", {"name": alias}),
            res(SM_SECRET_T, "orders-db", {"name": "prod/checkout/orders/db-password"}),
            res("aws:iam/role:Role", "auto-named", {}),
            res(EKS_T, "cluster", {"name": "paved-prod"})]


def test_dep_012_passes_names_with_the_environment():
    assert stack(dep_012.RULE, _named(), config={"environment": "prod"}) == []
    assert stack(dep_012.RULE, _named(), provider={"defaultTags": json.dumps({"tags": {"environment": "prod"}})}) == []


def test_dep_012_flags_names_without_it():
    found = stack(dep_012.RULE, _named("alias/paved/cluster-secrets"), config={"environment": "prod"})
    assert names(found) == {"key-alias"} and "must carry the environment prod" in messages(found)
    found = stack(dep_012.RULE, _named("alias/paved/production"), config={"environment": "prod"})
    assert names(found) == {"key-alias"}  # a word of the name, not a substring


# --- DEP-013 cluster reachability -----------------------------------------------------------


def _cluster(public=False, runner=True, entries=True):
    out = [res(EKS_T, "eks", {"name": "paved-prod", "accessConfig": {"authenticationMode": "API"},
                              "vpcConfig": {"endpointPublicAccess": public, "endpointPrivateAccess": True}})]
    if runner:
        out.append(res("aws:codebuild/project:Project", "deploy-runner", {"vpcConfig": {"vpcId": "vpc-1"}}))
    if entries:
        out.append(res("aws:eks/accessEntry:AccessEntry", "operators", {"clusterName": "paved-prod"}))
    return out


def test_dep_013_passes_a_reachable_cluster():
    assert stack(dep_013.RULE, _cluster()) == []
    assert stack(dep_013.RULE, _cluster(runner=False), config={"deployRunner": "codebuild:paved-prod-deploy"}) == []
    assert stack(dep_013.RULE, _cluster(public=True, runner=False)) == []


def test_dep_013_flags_a_private_cluster_without_runner_or_access_entries():
    found = stack(dep_013.RULE, _cluster(runner=False))
    assert names(found) == {"eks"} and "its endpoint is private" in messages(found)
    found = stack(dep_013.RULE, _cluster(entries=False))
    assert names(found) == {"eks"} and "AccessEntries" in messages(found)


# --- DEP-014 volume binding order -----------------------------------------------------------

PVC_T = "kubernetes:core/v1:PersistentVolumeClaim"
SC_T = "kubernetes:storage.k8s.io/v1:StorageClass"


def _volumes(claim_class="gp3", mode="WaitForFirstConsumer", default=False, deps=("gp3",)):
    sc = {"metadata": {"name": "gp3", **({"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}
                                        if default else {})},
          "provisioner": "ebs.csi.aws.com", "volumeBindingMode": mode}
    claim = {"metadata": {"name": "data", "namespace": "monitoring"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                      **({"storageClassName": claim_class} if claim_class is not None else {})}}
    return [res(SC_T, "gp3", sc), res(PVC_T, "data", claim, deps=deps)]


def test_dep_014_passes_claims_ordered_after_their_class():
    assert stack(dep_014.RULE, _volumes()) == []
    assert stack(dep_014.RULE, _volumes(mode="Immediate", deps=())) == []  # the provider waits for Bound: it binds
    assert stack(dep_014.RULE, _volumes(claim_class="other", deps=())) == []  # a class from outside the stack
    assert stack(dep_014.RULE, _volumes(claim_class=None, deps=())) == []  # no default class in the stack
    assert stack(dep_014.RULE, _volumes(claim_class="", deps=())) == []  # static binding


def test_dep_014_flags_a_claim_that_may_be_awaited_before_its_class():
    found = stack(dep_014.RULE, _volumes(deps=()))
    assert names(found) == {"data"} and "must depend on StorageClass gp3" in messages(found)
    found = stack(dep_014.RULE, _volumes(claim_class=None, default=True, deps=()))  # the default class fills it in
    assert names(found) == {"data"}


def test_dep_014_the_real_badger_claim_waits_for_the_cluster_storage_class(planned_stack):
    plan, _ = planned_stack("prod")
    assert any(r["type"] == PVC_T for r in plan["resources"])
    assert [v for v in check.run(plan, {}, (dep_014.RULE,))] == []


def test_hand_built_inputs_are_plan_shaped(planned_stack):
    # The fixtures above use the engine's camelCase names; spot-check them against the real plan.
    assert "nodeGroupNamePrefix" in sample("prod", NODE_GROUP_T) and "scalingConfig" in sample("prod", NODE_GROUP_T)
    assert {"namespace", "serviceAccount"} <= set(sample("prod", PIA_T))
    assert "endpointPublicAccess" in sample("prod", EKS_T)["vpcConfig"]
