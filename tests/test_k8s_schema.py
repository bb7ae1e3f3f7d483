"""Tests for paved.k8s_schema: strict schema validation agreeing with kubernetes-validate."""

import copy

import kubernetes_validate
import pytest

from paved.k8s_schema import supported_versions, validate_object

VERSION = "1.31"

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
    "spec": {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "serviceAccountName": "web",
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx:1.27",
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "env": [
                            {"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DB_PASSWORD",
                             "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                        ],
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                      "limits": {"memory": "256Mi"}},
                        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 5},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                    }
                ],
                "topologySpreadConstraints": [
                    {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                     "whenUnsatisfiable": "ScheduleAnyway",
                     "labelSelector": {"matchLabels": {"app": "web"}}}
                ],
            },
        },
    },
}

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"type": "ClusterIP", "selector": {"app": "web"},
             "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]},
}

HPA_V2 = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [{"type": "Resource",
                     "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
    },
}

HPA_V2BETA2 = {**HPA_V2, "apiVersion": "autoscaling/v2beta2"}

PDB = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}},
}

NETWORK_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}],
                     "ports": [{"protocol": "TCP", "port": 8080}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
    },
}

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}

RESOURCE_QUOTA = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "shop", "namespace": "shop"},
    "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "50"}},
}

LIMIT_RANGE = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "shop", "namespace": "shop"},
    "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                         "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]},
}

SERVICE_ACCOUNT = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "web", "namespace": "shop",
                 "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/web"}},
    "automountServiceAccountToken": False,
}

ROLE_BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "web", "namespace": "shop"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
    "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
}

VALID = {
    "deployment": DEPLOYMENT,
    "service": SERVICE,
    "hpa-v2": HPA_V2,
    "pdb": PDB,
    "networkpolicy": NETWORK_POLICY,
    "namespace": NAMESPACE,
    "resourcequota": RESOURCE_QUOTA,
    "limitrange": LIMIT_RANGE,
    "serviceaccount": SERVICE_ACCOUNT,
    "rolebinding": ROLE_BINDING,
}


def _with(obj, path, value):
    """Deep copy of obj with the value at path (keys / list indexes) replaced."""
    result = copy.deepcopy(obj)
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return result


def _without(obj, path):
    result = copy.deepcopy(obj)
    node = result
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return result


CONTAINER = ("spec", "template", "spec", "containers", 0)

INVALID = {
    "misspelled-container-field": _with(DEPLOYMENT, CONTAINER + ("imagePullPolicyy",), "Always"),
    "misspelled-top-level": _with(SERVICE, ("sepc",), {}),
    "misspelled-hpa-field": _with(HPA_V2, ("spec", "maxReplica"), 10),
    "misspelled-netpol-peer": _with(NETWORK_POLICY, ("spec", "ingress", 0, "from", 0, "podSelecter"), {}),
    "replicas-string": _with(DEPLOYMENT, ("spec", "replicas"), "3"),
    "replicas-bool": _with(DEPLOYMENT, ("spec", "replicas"), True),
    "replicas-fraction": _with(DEPLOYMENT, ("spec", "replicas"), 3.5),
    "label-not-string": _with(NAMESPACE, ("metadata", "labels", "tier"), 1),
    "port-list": _with(SERVICE, ("spec", "ports"), {"port": 80}),
    "automount-string": _with(SERVICE_ACCOUNT, ("automountServiceAccountToken",), "false"),
    "missing-required-selector": _without(DEPLOYMENT, ("spec", "selector")),
    "missing-required-container-name": _without(DEPLOYMENT, CONTAINER + ("name",)),
    "quantity-null": _with(RESOURCE_QUOTA, ("spec", "hard", "pods"), None),
    "wrong-kind-for-api-version": _with(PDB, ("apiVersion",), "policy/v1beta1"),
}

INTEGRAL_FLOATS = {
    "replicas-3.0": _with(DEPLOYMENT, ("spec", "replicas"), 3.0),
    "container-port-8080.0": _with(DEPLOYMENT, CONTAINER + ("ports", 0, "containerPort"), 8080.0),
    "int-or-string-1.0": _with(PDB, ("spec", "minAvailable"), 1.0),
}


def _kv_errors(obj, version):
    """What kubernetes_validate says: None if valid, else the error."""
    try:
        kubernetes_validate.validate(copy.deepcopy(obj), version, strict=True)
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
        return exc
    return None


@pytest.mark.parametrize("name", VALID)
def test_valid_objects_pass(name):
    assert validate_object(VALID[name], VERSION) == []


@pytest.mark.parametrize("name", INVALID)
def test_invalid_objects_fail(name):
    messages = validate_object(INVALID[name], VERSION)
    assert messages and all(isinstance(m, str) for m in messages)


@pytest.mark.parametrize("name", INTEGRAL_FLOATS)
def test_integral_floats_are_integers(name):
    assert validate_object(INTEGRAL_FLOATS[name], VERSION) == []


@pytest.mark.parametrize("cases,name", [(cases, name)
                                        for cases in (VALID, INVALID, INTEGRAL_FLOATS)
                                        for name in cases])
def test_agrees_with_kubernetes_validate(cases, name):
    obj = cases[name]
    assert (validate_object(obj, VERSION) == []) == (_kv_errors(obj, VERSION) is None)


@pytest.mark.parametrize("version", ["1.25", "1.28", "1.31", "1.37"])
def test_agreement_across_versions(version):
    for cases in (VALID, INVALID, INTEGRAL_FLOATS):
        for name, obj in cases.items():
            ours = validate_object(obj, version) == []
            theirs = _kv_errors(obj, version) is None
            assert ours == theirs, (version, name)


def test_message_names_the_path_of_an_unknown_field():
    bad = _with(DEPLOYMENT, CONTAINER + ("bogus",), 1)
    assert validate_object(bad, VERSION) == [
        "spec.template.spec.containers[0].bogus: additional property not allowed"
    ]


def test_message_for_wrong_type_names_the_path():
    [message] = validate_object(INVALID["replicas-string"], VERSION)
    assert message.startswith("spec.replicas: ")
    assert "integer" in message


def test_message_for_missing_required_field():
    [message] = validate_object(INVALID["missing-required-selector"], VERSION)
    assert message.startswith("spec: ") and "selector" in message


def test_input_is_not_mutated():
    obj = copy.deepcopy(DEPLOYMENT)
    validate_object(obj, VERSION)
    assert obj == DEPLOYMENT


def test_hpa_v2beta2_exists_only_up_to_1_25():
    assert validate_object(HPA_V2BETA2, "1.25") == []
    assert _kv_errors(HPA_V2BETA2, "1.25") is None
    for version in ("1.26", "1.31", "1.37"):
        assert validate_object(HPA_V2BETA2, version) == [
            f"no schema for kind HorizontalPodAutoscaler (apiVersion autoscaling/v2beta2) "
            f"in Kubernetes {version}"
        ]
        assert isinstance(_kv_errors(HPA_V2BETA2, version), kubernetes_validate.SchemaNotFoundError)


def test_unknown_kind():
    assert validate_object({"apiVersion": "x/v1", "kind": "Foo"}, VERSION) == [
        "no schema for kind Foo (apiVersion x/v1) in Kubernetes 1.31"
    ]


def test_missing_kind_and_api_version():
    assert validate_object({"metadata": {"name": "x"}}, VERSION) == [
        "apiVersion: required string field missing",
        "kind: required string field missing",
    ]


def test_version_forms():
    for version in ("1.31", "v1.31", "1.31.4", "v1.31.0"):
        assert validate_object(DEPLOYMENT, version) == []


def test_supported_versions():
    versions = supported_versions()
    assert versions[0] == "1.25" and versions[-1] == "1.37"
    assert VERSION in versions
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


@pytest.mark.parametrize("version", ["1.24", "1.38", "2.0", "latest", ""])
def test_unsupported_version_raises(version):
    with pytest.raises(ValueError):
        validate_object(DEPLOYMENT, version)
