"""Tests for paved.sdk_inputs: recorded camelCase inputs checked against the SDK input types.

The input dicts below were recorded from ``pulumi.runtime.Mocks.new_resource`` (``args.inputs``)
for resources created with the SDKs, so they have the exact shape the mock runtime produces
(camelCase keys, numbers as floats, provider inputs JSON-encoded as strings).
"""

import copy
import time

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from paved.sdk_inputs import check_inputs

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}

EKS_CLUSTER = {
    "version": "1.31",
    "tags": {"team": "platform"},
    "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
    "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True,
                  "subnetIds": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-1"]},
    "kubernetesNetworkConfig": {"ipFamily": "ipv4", "serviceIpv4Cidr": "172.20.0.0/16"},
    "enabledClusterLogTypes": ["api", "audit"],
    "roleArn": "arn:aws:iam::123456789012:role/eks",
    "encryptionConfig": {"provider": {"keyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"},
                         "resources": ["secrets"]},
    "name": "paved",
}

MSK_CLUSTER = {
    "loggingInfo": {"brokerLogs": {"cloudwatchLogs": {"enabled": True, "logGroup": "msk"}}},
    "tags": {"team": "platform"},
    "clusterName": "events",
    "openMonitoring": {"prometheus": {"nodeExporter": {"enabledInBroker": True},
                                      "jmxExporter": {"enabledInBroker": True}}},
    "encryptionInfo": {"encryptionAtRestKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k",
                       "encryptionInTransit": {"inCluster": True, "clientBroker": "TLS"}},
    "clientAuthentication": {"sasl": {"iam": True}},
    "brokerNodeGroupInfo": {
        "instanceType": "kafka.m5.large",
        "storageInfo": {"ebsStorageInfo": {"provisionedThroughput": {"enabled": True, "volumeThroughput": 250.0},
                                           "volumeSize": 100.0}},
        "securityGroups": ["sg-1"],
        "clientSubnets": ["subnet-a", "subnet-b", "subnet-c"],
    },
    "numberOfBrokerNodes": 3.0,
    "kafkaVersion": "3.6.0",
}

IAM_ROLE = {
    "maxSessionDuration": 3600.0,
    "tags": {"team": "platform"},
    "permissionsBoundary": "arn:aws:iam::aws:policy/PB",
    "inlinePolicies": [{"policy": "{}", "name": "s3"}],
    "assumeRolePolicy": '{"Version": "2012-10-17", "Statement": []}',
    "name": "web",
}

K8S_PROVIDER = {"namespace": "default", "enableServerSideApply": "true", "kubeconfig": "{}"}

DEPLOYMENT = {
    "metadata": {"namespace": "shop", "labels": {"app.kubernetes.io/name": "web"},
                 "annotations": {"a/b": "c"}, "name": "web"},
    "kind": "Deployment",
    "spec": {
        "replicas": 3.0,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0.0}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "ports": [{"containerPort": 8080.0, "name": "http"}],
                    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}},
                    "image": "nginx:1.27",
                    "readinessProbe": {"periodSeconds": 5.0, "httpGet": {"path": "/healthz", "port": "http"}},
                    "env": [{"value": "1", "name": "A"},
                            {"valueFrom": {"secretKeyRef": {"key": "password", "name": "db"}}, "name": "B"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "name": "web",
                }],
                "topologySpreadConstraints": [{"maxSkew": 1.0, "labelSelector": {"matchLabels": {"app": "web"}},
                                               "whenUnsatisfiable": "ScheduleAnyway",
                                               "topologyKey": "topology.kubernetes.io/zone"}],
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True},
                "serviceAccountName": "web",
            },
        },
    },
    "apiVersion": "apps/v1",
}

REAL = [
    (aws.eks.Cluster, EKS_CLUSTER),
    (aws.msk.Cluster, MSK_CLUSTER),
    (aws.iam.Role, IAM_ROLE),
    (k8s.Provider, K8S_PROVIDER),
    (k8s.apps.v1.Deployment, DEPLOYMENT),
]


def _with(obj, path, value):
    result = copy.deepcopy(obj)
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return result


@pytest.mark.parametrize("resource_cls,inputs", REAL, ids=lambda x: getattr(x, "__name__", ""))
def test_real_inputs_pass(resource_cls, inputs):
    assert check_inputs(resource_cls, inputs) == []


def test_misspelled_top_level_key():
    inputs = _with(EKS_CLUSTER, ("roleArm",), "arn:aws:iam::123456789012:role/eks")
    assert check_inputs(aws.eks.Cluster, inputs) == ["roleArm: not an input of aws:eks/cluster:Cluster"]


def test_misspelled_nested_key():
    inputs = _with(EKS_CLUSTER, ("vpcConfig", "subnetIdz"), ["subnet-a"])
    assert check_inputs(aws.eks.Cluster, inputs) == ["vpcConfig.subnetIdz: not an input of aws:eks/cluster:Cluster"]


def test_misspelled_key_deep_in_msk_cluster():
    inputs = _with(MSK_CLUSTER, ("brokerNodeGroupInfo", "storageInfo", "ebsStorageInfo", "volumeSise"), 100.0)
    assert check_inputs(aws.msk.Cluster, inputs) == [
        "brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSise: not an input of aws:msk/cluster:Cluster"
    ]


def test_misspelled_key_in_list_of_input_types():
    inputs = _with(IAM_ROLE, ("inlinePolicies", 0, "polisy"), "{}")
    assert check_inputs(aws.iam.Role, inputs) == [
        "inlinePolicies[0].polisy: not an input of aws:iam/role:Role"
    ]


def test_misspelled_keys_deep_in_deployment():
    inputs = _with(DEPLOYMENT, ("spec", "template", "spec", "containers", 0, "readinessProbe", "httpGet", "paht"), "/")
    inputs["spec"]["replicaz"] = 3.0
    assert check_inputs(k8s.apps.v1.Deployment, inputs) == [
        "spec.template.spec.containers[0].readinessProbe.httpGet.paht: not an input of kubernetes:apps/v1:Deployment",
        "spec.replicaz: not an input of kubernetes:apps/v1:Deployment",
    ]


def test_snake_case_key_in_plain_dict_is_reported():
    # The SDK only translates names it knows; a misspelled snake_case key reaches the engine as is.
    inputs = _with(EKS_CLUSTER, ("accessConfig", "bootstrap_cluster_creator_admin_permissionz"), True)
    assert check_inputs(aws.eks.Cluster, inputs) == [
        "accessConfig.bootstrap_cluster_creator_admin_permissionz: not an input of aws:eks/cluster:Cluster"
    ]


def test_kubernetes_resource_uses_init_args_not_nested_args():
    # pulumi_kubernetes' DeploymentArgs is the nested type (it has "status"); the resource takes
    # DeploymentInitArgs, which does not.
    inputs = _with(DEPLOYMENT, ("status",), {})
    assert check_inputs(k8s.apps.v1.Deployment, inputs) == [
        "status: not an input of kubernetes:apps/v1:Deployment"
    ]


def test_provider_resource():
    inputs = {**K8S_PROVIDER, "kubeConfig": "{}"}
    assert check_inputs(k8s.Provider, inputs) == ["kubeConfig: not an input of pulumi:providers:kubernetes"]


def test_untyped_values_are_not_looked_into():
    inputs = _with(EKS_CLUSTER, ("tags", "anything-goes"), "x")       # Mapping[str, str]
    inputs = _with(inputs, ("vpcConfig",), "not-a-dict")              # e.g. an unknown during preview
    assert check_inputs(aws.eks.Cluster, inputs) == []
    labels = _with(DEPLOYMENT, ("metadata", "labels", "x.y/z"), "w")
    assert check_inputs(k8s.apps.v1.Deployment, labels) == []


def test_secret_wrapped_values_are_unwrapped():
    inputs = copy.deepcopy(EKS_CLUSTER)
    inputs["vpcConfig"] = {**SECRET, "value": inputs["vpcConfig"]}
    assert check_inputs(aws.eks.Cluster, inputs) == []
    inputs["vpcConfig"]["value"]["subnetIdz"] = []
    assert check_inputs(aws.eks.Cluster, inputs) == [
        "vpcConfig.subnetIdz: not an input of aws:eks/cluster:Cluster"
    ]


def test_custom_resource_without_type_token():
    inputs = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
              "spec": {"anything": {"goes": 1}}, "extra": 1}
    assert check_inputs(k8s.apiextensions.CustomResource, inputs) == [
        "extra: not an input of pulumi_kubernetes.apiextensions.CustomResource.CustomResource"
    ]


def test_not_a_resource_class():
    with pytest.raises(TypeError):
        check_inputs(dict, {})


def test_many_resources_stay_cheap():
    for resource_cls, inputs in REAL:  # warm the per-class caches
        check_inputs(resource_cls, inputs)
    start = time.perf_counter()
    for _ in range(2000):
        for resource_cls, inputs in REAL:
            assert check_inputs(resource_cls, inputs) == []
    per_resource = (time.perf_counter() - start) / (2000 * len(REAL))
    assert per_resource < 1e-3, f"{per_resource * 1e6:.0f} µs per resource"


def test_resource_without_generated_args_is_not_checked():
    class Handwritten(pulumi.CustomResource):
        pass

    assert check_inputs(Handwritten, {"anything": 1}) == []
