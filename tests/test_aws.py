"""The AWS side of the program, per stack: network, cluster, identity, Kafka, secrets, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from paved.naming import MONITORING_NAMESPACE, alert_secrets
from paved.resources import REPLICATION_GROUP, SERVERLESS_CACHE, STATEFUL_TYPES
from components.versions import EKS_ADDONS
from conftest import ROOT, STACKS, by_type, copy_project, planned
from paved import plan
from paved.stack import load_stack
from test_program import effective_catalog

SNAPSHOT = Path(__file__).parent / "snapshots" / "stateful_resources.json"


def one(doc: dict, type_token: str) -> dict:
    found = by_type(doc, type_token)
    assert len(found) == 1, f"{type_token}: {[r['urn'] for r in found]}"
    return found[0]


def walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk_strings(v)


def doc_region(doc: dict) -> str:
    return one(doc, "pulumi:providers:aws")["inputs"]["region"]


def data_sids(svc, statements: dict, own_tables: set[str]) -> set[str]:
    """The statements a service's datastores add, each checked for its scope."""
    sids: set[str] = set()
    data = svc.data
    if data is None:
        return sids
    if data.postgres is not None:
        sids.add("ConnectToOwnDatabase")
        connect = statements["ConnectToOwnDatabase"]
        assert connect["Action"] == "rds-db:connect"
        assert ":dbuser:db-" in connect["Resource"] and connect["Resource"].endswith("/" + svc.name.replace("-", "_"))
    if data.tables:
        sids |= {"UseOwnTables", "QueryOwnIndexes", "UseOwnDataKeyThroughDynamoDB"}
        assert set(statements["UseOwnTables"]["Resource"]) == own_tables
        assert set(statements["QueryOwnIndexes"]["Resource"]) == {f"{t}/index/*" for t in own_tables}
        assert statements["UseOwnDataKeyThroughDynamoDB"]["Condition"]["StringEquals"]["kms:ViaService"].startswith(
            "dynamodb.")
    if data.cache is not None:
        sids.add("ConnectToOwnCache")
        assert statements["ConnectToOwnCache"]["Action"] == "elasticache:Connect"
        # The cache (serverless, or a node-based replication group per paved:data.cacheMode) and its user.
        kinds = {r.split(":")[5] for r in statements["ConnectToOwnCache"]["Resource"]}
        assert kinds in ({"serverlesscache", "user"}, {"replicationgroup", "user"}), kinds
    return sids


@pytest.mark.parametrize("stack", STACKS)
def test_each_service_role_is_exactly_its_least_privilege(stack):
    doc = planned(stack)[0]
    catalog = effective_catalog(stack)
    # The service's role's policy (the team store's grant on its database's master secret, named
    # `<...>-db-master`, is tested in tests/test_data_master_secret.py).
    policies = {r["service"]: json.loads(r["inputs"]["policy"]) for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy")
                if r["service"] and not r["name"].endswith("-db-master")}
    for svc in catalog.services:
        uses_kafka = bool(svc.kafka.produces or svc.kafka.consumes)
        if not svc.secrets and not uses_kafka and svc.data is None:
            assert svc.name not in policies
            continue
        statements = {s["Sid"]: s for s in policies[svc.name]["Statement"]}
        own_tables = {f"arn:aws:dynamodb:{doc_region(doc)}:123456789012:table/{stack}-{t.name}"
                      for t in (svc.data.tables if svc.data else ())}
        for s in statements.values():
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
            # The one wildcard: the indexes of the service's own tables (`<table ARN>/index/*`).
            resources = [r for r in resources if r.removesuffix("/index/*") not in own_tables]
            assert s["Effect"] == "Allow" and "*" not in "".join(actions) and "*" not in "".join(resources), (svc.name, s)
        expected_sids = set()
        expected_sids |= data_sids(svc, statements, own_tables)
        if svc.secrets:
            expected_sids |= {"ReadOwnSecrets", "DecryptOwnSecrets"}
            assert statements["ReadOwnSecrets"]["Action"] == "secretsmanager:GetSecretValue"
            names = sorted(f"{stack}/{svc.team}/{svc.name}/{s.name}" for s in svc.secrets)
            arns = statements["ReadOwnSecrets"]["Resource"]
            assert sorted(a.split(":secret:")[1].rsplit("-", 1)[0] for a in arns) == names
            assert statements["DecryptOwnSecrets"]["Resource"].startswith("arn:aws:kms:")
        if uses_kafka:
            expected_sids.add("ConnectToKafka")
            assert statements["ConnectToKafka"]["Action"] == "kafka-cluster:Connect"
            assert ":cluster/paved-" in statements["ConnectToKafka"]["Resource"]
            topics = lambda sid: sorted(a.rsplit("/", 1)[1] for a in statements[sid]["Resource"])  # noqa: E731
            produced = sorted(t.name for t in svc.kafka.produces)
            consumed = sorted(svc.kafka.consumes)
            expected_sids.add("DescribeOwnTopics")
            assert topics("DescribeOwnTopics") == sorted({*produced, *consumed})
            if produced:
                expected_sids |= {"WriteProducedTopics", "WriteIdempotently"}
                assert topics("WriteProducedTopics") == produced
                # The platform's producers are idempotent: MSK IAM checks this on the cluster.
                assert statements["WriteIdempotently"]["Action"] == "kafka-cluster:WriteDataIdempotently"
                assert statements["WriteIdempotently"]["Resource"] == statements["ConnectToKafka"]["Resource"]
            if consumed:
                expected_sids |= {"ReadConsumedTopics", "UseOwnConsumerGroup"}
                assert topics("ReadConsumedTopics") == consumed
                group = statements["UseOwnConsumerGroup"]
                assert group["Action"] == ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
                assert ":group/" in group["Resource"] and group["Resource"].endswith(f"/{svc.name}")
        assert set(statements) == expected_sids, svc.name


@pytest.mark.parametrize("stack", STACKS)
def test_identity_is_wired_from_service_account_to_role(stack):
    doc = planned(stack)[0]
    catalog = effective_catalog(stack)
    roles = {r["service"]: r for r in by_type(doc, "aws:iam/role:Role") if r["service"]}
    associations = {r["service"]: r["inputs"] for r in by_type(doc, "aws:eks/podIdentityAssociation:PodIdentityAssociation") if r["service"]}
    accounts = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]) for r in by_type(doc, "kubernetes:core/v1:ServiceAccount")}
    for svc in catalog.services:
        ns = catalog.team(svc.team).namespace_name
        assoc = associations[svc.name]
        assert (assoc["namespace"], assoc["serviceAccount"], assoc["clusterName"]) == (ns, svc.name, f"paved-{stack}")
        assert (ns, svc.name) in accounts
        assert assoc["roleArn"].startswith("arn:aws:iam::123456789012:role/")
        trust = json.loads(roles[svc.name]["inputs"]["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        assert trust["Condition"]["ArnEquals"]["aws:SourceArn"].endswith(f":cluster/paved-{stack}")


@pytest.mark.parametrize("stack", STACKS)
def test_kafka_follows_the_stack(stack):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    msk = one(doc, "aws:msk/cluster:Cluster")["inputs"]
    zones = s.network.zones
    assert msk["numberOfBrokerNodes"] == s.kafka.brokers_per_zone * zones
    assert msk["numberOfBrokerNodes"] % len(msk["brokerNodeGroupInfo"]["clientSubnets"]) == 0
    assert msk["brokerNodeGroupInfo"]["instanceType"] == s.kafka.broker_type
    assert msk["brokerNodeGroupInfo"]["storageInfo"]["ebsStorageInfo"]["volumeSize"] == s.kafka.volume_size_gib
    assert msk["brokerNodeGroupInfo"]["connectivityInfo"]["publicAccess"]["type"] == "DISABLED"
    assert msk["encryptionInfo"]["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    assert msk["encryptionInfo"]["encryptionAtRestKmsKeyArn"].startswith("arn:aws:kms:")
    assert msk["clientAuthentication"] == {"sasl": {"iam": True, "scram": False}, "unauthenticated": False}
    assert msk["enhancedMonitoring"] == s.kafka.enhanced_monitoring
    prom = msk["openMonitoring"]["prometheus"]
    assert prom["jmxExporter"]["enabledInBroker"] and prom["nodeExporter"]["enabledInBroker"]
    assert msk["loggingInfo"]["brokerLogs"]["cloudwatchLogs"]["enabled"] is True
    config = one(doc, "aws:msk/configuration:Configuration")["inputs"]["serverProperties"]
    assert "auto.create.topics.enable=false" in config
    assert f"min.insync.replicas={s.kafka.min_insync_replicas}" in config
    assert f"default.replication.factor={s.kafka.replication_factor}" in config
    ingress = next(r for r in by_type(doc, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                   if r["parent"].endswith("KafkaCluster::paved-kafka"))["inputs"]
    assert (ingress["fromPort"], ingress["toPort"], ingress["ipProtocol"]) == (9098, 9098, "tcp")
    assert "referencedSecurityGroupId" in ingress and "cidrIpv4" not in ingress
    topics = {t["inputs"]["name"]: t["inputs"] for t in by_type(doc, "aws:msk/topic:Topic")}
    produced = {t.name: t for svc in effective_catalog(stack).services for t in svc.kafka.produces}
    assert set(topics) == set(produced)
    for name, topic in topics.items():
        assert topic["partitionCount"] == produced[name].partitions
        assert topic["replicationFactor"] == s.kafka.replication_factor
        assert json.loads(topic["configs"])["retention.ms"] == str(produced[name].retention_hours * 3_600_000)


@pytest.mark.parametrize("stack", STACKS)
def test_services_get_kafka_environment(stack):
    doc = planned(stack)[0]
    # orders is released by Argo Rollouts: its Rollout carries the pod template.
    dep = next(d for d in by_type(doc, "kubernetes:argoproj.io/v1alpha1:Rollout") if d["service"] == "orders")
    env = {e["name"]: e.get("value") for e in dep["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_BOOTSTRAP_SERVERS"].endswith(":9098") and env["KAFKA_BOOTSTRAP_SERVERS"].count(",") >= 1
    assert env["KAFKA_CONSUMER_GROUP"] == "orders"
    assert env["KAFKA_TOPIC_ORDER_PLACED"] == "order-placed"
    assert env["KAFKA_TOPIC_PAYMENT_FAILED"] == "payment-failed"
    assert env["KAFKA_PRODUCES"] == "order-placed,order-cancelled"


@pytest.mark.parametrize("stack", STACKS)
def test_one_secret_per_declared_secret(stack):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    catalog = effective_catalog(stack)
    secrets = {r["inputs"]["name"]: r["inputs"] for r in by_type(doc, "aws:secretsmanager/secret:Secret")}
    expected = {f"{stack}/{svc.team}/{svc.name}/{sec.name}": sec for svc in catalog.services for sec in svc.secrets}
    # Plus the alert receivers' secrets (docs/alerting.md), under the _alerts pseudo-owner.
    receivers = {name for _, _, name in alert_secrets(catalog, stack)}
    assert receivers and set(secrets) == set(expected) | receivers
    for name, inputs in ((n, i) for n, i in secrets.items() if n in expected):
        assert inputs["kmsKeyId"].startswith("arn:aws:kms:"), name
        assert inputs["recoveryWindowInDays"] == s.secrets.recovery_window_days
        assert inputs["tags"]["paved.dev/rotation"] == expected[name].rotation
        assert "secretString" not in inputs  # values never enter Pulumi
    assert not by_type(doc, "aws:secretsmanager/secretVersion:SecretVersion")
    rotations = by_type(doc, "aws:secretsmanager/secretRotation:SecretRotation")
    assert len(rotations) == sum(sec.rotation == "managed" for sec in expected.values())
    external = {r["service"]: r["inputs"] for r in by_type(doc, "kubernetes:external-secrets.io/v1:ExternalSecret")
                if not r["name"].endswith("-db-master")}  # the migration Job's (tests/test_data_master_secret.py)
    orders = external["orders"]["spec"]
    assert orders["target"]["name"] == "orders-secrets"
    # A managed secret is JSON ({"password": ...}, as AWS's rotation templates keep it): the file holds the password.
    assert orders["data"] == [{"secretKey": "db-password", "remoteRef": {
        "key": f"{stack}/checkout/orders/db-password", "property": "password"}}]
    payments = {d["secretKey"]: d["remoteRef"] for d in external["payments"]["spec"]["data"]}
    assert "property" not in payments["provider-api-key"]  # third-party: stored as given
    for svc, es in external.items():
        if svc is None:
            continue  # Grafana's, from a generator
        assert es["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "aws-secrets-manager"}, svc
    assert not by_type(doc, "kubernetes:external-secrets.io/v1:ClusterSecretStore")


@pytest.mark.parametrize("stack", STACKS)
def test_secret_reads_are_scoped_per_team(stack):
    """One SecretStore per team namespace, through a team role that reads exactly the team's secrets;
    ESO's own role may only assume those team roles."""
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    catalog = effective_catalog(stack)
    secret_of = lambda arn: arn.split(":secret:")[1].rsplit("-", 1)[0]  # noqa: E731  (name-<6 random>)
    role_of = lambda arn: arn.split(":role/")[1].rsplit("-", 1)[0]  # noqa: E731  (auto-named: <name>-<7 random>)
    roles = {r["name"]: r for r in by_type(doc, "aws:iam/role:Role")}
    policies = {r["name"]: json.loads(r["inputs"]["policy"]) for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy")}
    assert "paved-secrets-eso-policy" not in policies  # no secret, no key of its own
    stores = {r["inputs"]["metadata"]["namespace"]: r for r in by_type(doc, "kubernetes:external-secrets.io/v1:SecretStore")}
    teams = {svc.team for svc in catalog.services if svc.secrets}
    # The monitoring namespace's store reads the alert receivers' secrets (tests/test_alerting.py).
    assert set(stores) == {catalog.team(t).namespace_name for t in teams} | {MONITORING_NAMESPACE}
    team_role_arns = []
    for team in teams:
        role = roles[f"paved-secrets-{team}-role"]
        store = stores[catalog.team(team).namespace_name]["inputs"]
        assert store["metadata"]["name"] == "aws-secrets-manager"
        aws_provider = store["spec"]["provider"]["aws"]
        assert (aws_provider["service"], aws_provider["region"]) == ("SecretsManager", s.aws_region)
        assert role_of(aws_provider["role"]) == f"paved-secrets-{team}-role" and "auth" not in aws_provider, team
        team_role_arns.append(aws_provider["role"])
        (trust,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
        assert role_of(trust["Principal"]["AWS"]) == "paved-secrets-eso-role" and trust["Action"] == "sts:AssumeRole"
        statements = {st["Sid"]: st for st in policies[f"paved-secrets-{team}-policy"]["Statement"]}
        own = [svc for svc in catalog.services if svc.team == team]
        names = {f"{stack}/{team}/{svc.name}/{sec.name}": sec for svc in own for sec in svc.secrets}
        assert statements["ReadTeamSecrets"]["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
        assert sorted(map(secret_of, statements["ReadTeamSecrets"]["Resource"])) == sorted(names), team
        decrypt = statements["DecryptTeamSecrets"]
        assert decrypt["Action"] == "kms:Decrypt" and decrypt["Condition"] == {
            "StringEquals": {"kms:ViaService": f"secretsmanager.{s.aws_region}.amazonaws.com"}}
        managed = sorted(n for n, sec in names.items() if sec.rotation == "managed")
        if managed:
            write = statements["WriteFirstValueOfManagedSecrets"]
            assert "secretsmanager:PutSecretValue" in write["Action"], team
            assert sorted(map(secret_of, write["Resource"])) == managed, team
            assert statements["EncryptManagedSecrets"]["Action"] == "kms:GenerateDataKey"
        else:
            assert "WriteFirstValueOfManagedSecrets" not in statements
    alerts_role = stores[MONITORING_NAMESPACE]["inputs"]["spec"]["provider"]["aws"]["role"]
    assert role_of(alerts_role) == "paved-secrets-alerts-role"
    # The controller may assume exactly these roles: the alerts role (granted by the platform) and
    # each team's (granted by the team's own policy, which its team stack holds in the layered layout).
    (assume,) = policies["paved-secrets-eso-assume-team-roles"]["Statement"]
    assert assume["Action"] == "sts:AssumeRole" and assume["Resource"] == [alerts_role]
    granted = []
    for name, policy in policies.items():
        if name.endswith("-eso-assume"):
            (st,) = policy["Statement"]
            assert st["Action"] == "sts:AssumeRole" and len(st["Resource"]) == 1
            granted.append(st["Resource"][0])
    assert sorted(granted) == sorted(team_role_arns)


@pytest.mark.parametrize("stack", STACKS)
def test_managed_secrets_get_a_first_value_in_the_cluster(stack):
    """A Password generator and a PushSecret (IfNotExists) per managed secret, JSON with a password key;
    the ExternalSecret waits for it; ESO may push only to a secret tagged as its own."""
    doc = planned(stack)[0]
    catalog = effective_catalog(stack)
    secrets = {r["inputs"]["name"]: r["inputs"] for r in by_type(doc, "aws:secretsmanager/secret:Secret")}
    pushes = {r["inputs"]["spec"]["data"][0]["match"]["remoteRef"]["remoteKey"]: r
              for r in by_type(doc, "kubernetes:external-secrets.io/v1alpha1:PushSecret")}
    generators = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"])
                  for r in by_type(doc, "kubernetes:generators.external-secrets.io/v1alpha1:Password")}
    external = {r["service"]: r for r in by_type(doc, "kubernetes:external-secrets.io/v1:ExternalSecret")
                if not r["name"].endswith("-db-master")}
    expected = set()
    for svc in catalog.services:
        ns = catalog.team(svc.team).namespace_name
        for sec in svc.secrets:
            name = f"{stack}/{svc.team}/{svc.name}/{sec.name}"
            if sec.rotation != "managed":
                assert name not in pushes and secrets[name]["tags"].get("managed-by") != "external-secrets"
                continue
            expected.add(name)
            push = pushes[name]
            spec = push["inputs"]["spec"]
            assert push["inputs"]["metadata"]["namespace"] == ns
            assert spec["updatePolicy"] == "IfNotExists" and spec["deletionPolicy"] == "None"
            assert spec["secretStoreRefs"] == [{"kind": "SecretStore", "name": "aws-secrets-manager"}]
            gen = spec["selector"]["generatorRef"]
            assert gen["kind"] == "Password" and (ns, gen["name"]) in generators
            assert spec["data"][0]["match"]["remoteRef"]["property"] == "password"
            assert spec["data"][0]["metadata"]["spec"] == {"secretPushFormat": "string"}
            assert secrets[name]["tags"]["managed-by"] == "external-secrets"
            assert push["urn"] in external[svc.name]["options"]["dependsOn"], svc.name
    assert set(pushes) == expected


@pytest.mark.parametrize("stack", STACKS)
def test_rotation_waits_for_its_schedule_and_may_use_the_key(stack):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    rotations = by_type(doc, "aws:secretsmanager/secretRotation:SecretRotation")
    assert rotations and all(r["inputs"]["rotateImmediately"] is False for r in rotations)
    # Rotation is configured only once the secret has its first value: after its PushSecret,
    # which pulumi up awaits until ESO reports it Ready.
    pushes = {r["urn"]: r for r in by_type(doc, "kubernetes:external-secrets.io/v1alpha1:PushSecret")}
    for r in rotations:
        (push,) = [u for u in r["options"]["dependsOn"] if u in pushes]
        assert pushes[push]["name"] == r["name"].removesuffix("-rotation") + "-push", r["urn"]
        assert pushes[push]["inputs"]["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    grant = one(doc, "aws:kms/grant:Grant")["inputs"]
    alias = next(r for r in by_type(doc, "aws:kms/alias:Alias") if r["name"] == "paved-secrets-key-alias")
    assert grant["granteePrincipal"] == s.secrets.rotation_role_arn
    assert grant["keyId"] == alias["inputs"]["targetKeyId"]  # the secrets key
    assert set(grant["operations"]) >= {"Decrypt", "Encrypt", "GenerateDataKey"}


@pytest.mark.parametrize("stack", STACKS)
def test_eks_cluster_is_private_encrypted_and_logged(stack):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    eks = one(doc, "aws:eks/cluster:Cluster")["inputs"]
    assert eks["version"] == s.kubernetes_version
    assert eks["vpcConfig"]["endpointPrivateAccess"] is True
    assert eks["vpcConfig"]["endpointPublicAccess"] is bool(s.cluster.endpoint_public_access_cidrs)
    assert "0.0.0.0/0" not in eks["vpcConfig"].get("publicAccessCidrs", [])
    assert sorted(eks["enabledClusterLogTypes"]) == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    assert eks["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert eks["accessConfig"]["authenticationMode"] == "API"
    assert eks["upgradePolicy"] == {"supportType": "STANDARD"}
    assert eks["deletionProtection"] is s.cluster.deletion_protection
    logs = [g["inputs"] for g in by_type(doc, "aws:cloudwatch/logGroup:LogGroup") if g["inputs"]["name"].startswith("/aws/eks/")]
    assert logs[0]["retentionInDays"] == s.cluster.log_retention_days
    template = one(doc, "aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    assert template["metadataOptions"]["httpTokens"] == "required"
    group = one(doc, "aws:eks/nodeGroup:NodeGroup")["inputs"]
    assert "remoteAccess" not in group and "launchTemplate" in group
    assert group["capacityType"] == s.cluster.node_groups[0].capacity_type
    addons = {a["inputs"]["addonName"]: a["inputs"]["addonVersion"] for a in by_type(doc, "aws:eks/addon:Addon")}
    assert addons == EKS_ADDONS[s.kubernetes_version]


@pytest.mark.parametrize(("stack", "nats"), [("dev", 1), ("staging", 1), ("prod", 3)])
def test_network_spans_the_zones(stack, nats):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    subnets = [r["inputs"] for r in by_type(doc, "aws:ec2/subnet:Subnet")]
    assert len(subnets) == 2 * s.network.zones
    # us-east-1c is use1-az3 in the offline account: EKS refuses it (see test below).
    assert {sn["availabilityZone"] for sn in subnets} == {f"us-east-1{c}" for c in "abdef"[: s.network.zones]}
    private = [sn for sn in subnets if "kubernetes.io/role/internal-elb" in sn["tags"]]
    public = [sn for sn in subnets if "kubernetes.io/role/elb" in sn["tags"]]
    assert len(private) == len(public) == s.network.zones
    assert all(sn["tags"][f"kubernetes.io/cluster/paved-{stack}"] == "shared" for sn in subnets)
    assert len(by_type(doc, "aws:ec2/natGateway:NatGateway")) == nats
    endpoints = {r["inputs"]["serviceName"]: r["inputs"] for r in by_type(doc, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    # secretsmanager and sts always, ec2 and elasticloadbalancing for the ALB controller, logs for
    # Fluent Bit, monitoring for Grafana's CloudWatch data source (some service has data), dynamodb
    # for the services' tables (its own DNS name, no private DNS: docs/data.md).
    assert set(endpoints) == {f"com.amazonaws.us-east-1.{svc}" for svc in
                              ("secretsmanager", "sts", "ec2", "elasticloadbalancing", "logs", "monitoring", "dynamodb")}
    assert all(e["privateDnsEnabled"] is (not name.endswith(".dynamodb")) and len(e["subnetIds"]) == s.network.zones
               for name, e in endpoints.items())


@pytest.mark.parametrize("stack", STACKS)
def test_stateful_resources_protected_per_stack(stack):
    doc = planned(stack)[0]
    protect = load_stack(ROOT, stack).protect_stateful
    stateful = [r for r in doc["resources"] if r["type"] in STATEFUL_TYPES]
    # A stack's caches are serverless or node-based (paved:data.cacheMode), never both.
    caches = {SERVERLESS_CACHE, REPLICATION_GROUP}
    types = {r["type"] for r in stateful}
    assert types - caches == STATEFUL_TYPES - caches and len(types & caches) == 1, types
    for r in stateful:
        assert (r["options"]["protect"], r["options"]["retainOnDelete"]) == (protect, protect), r["urn"]
    for r in doc["resources"]:
        if r["type"] not in STATEFUL_TYPES:
            assert not r["options"]["protect"], r["urn"]


def test_stateful_logical_names_never_change():
    """Renaming a stateful resource's logical name replaces it: data loss. Update the snapshot only on purpose."""
    current = {stack: sorted(r["urn"] for r in planned(stack)[0]["resources"] if r["type"] in STATEFUL_TYPES) for stack in STACKS}
    assert current == json.loads(SNAPSHOT.read_text())


def test_the_taggable_table_is_what_the_installed_sdk_says():
    """paved/data/aws_taggable.json answers is_taggable without importing the SDK's modules; it
    must cover every AWS type of the stacks' plans and agree with the SDK it names. When this
    fails after an SDK upgrade or a new type: PAVED_UPDATE_SNAPSHOTS=1 rewrites the table."""
    import os

    from policies.rules.aws import aws_common

    if os.environ.get("PAVED_UPDATE_SNAPSHOTS") == "1":
        seen = sorted({r["type"] for stack in STACKS for r in planned(stack)[0]["resources"]})
        aws_common.TAGGABLE_FILE.write_text(json.dumps(aws_common.write_taggable(seen), indent=2) + "\n",
                                            encoding="utf-8")
        aws_common.known_taggable.cache_clear()
    table = aws_common.known_taggable()
    assert table, f"{aws_common.TAGGABLE_FILE} is missing or written for another pulumi-aws version"
    types = {r["type"] for stack in STACKS for r in planned(stack)[0]["resources"]
             if r["type"].startswith("aws:") and aws_common.aws_resource_class(r["type"]) is not None}
    assert types <= table.keys(), sorted(types - table.keys())
    assert {t: table[t] for t in types} == {t: aws_common.sdk_taggable(t) for t in types}


@pytest.mark.parametrize("stack", STACKS)
def test_every_taggable_resource_carries_ownership_tags(stack):
    doc = planned(stack)[0]
    provider = one(doc, "pulumi:providers:aws")["inputs"]
    defaults = json.loads(provider["defaultTags"])["tags"]
    assert defaults["environment"] == stack and defaults["managed-by"] == "paved"
    from policies.rules.aws.aws_common import is_taggable

    for r in doc["resources"]:
        if r["type"].startswith("aws:") and is_taggable(r["type"]):
            tags = {**defaults, **(r["inputs"].get("tags") or {})}
            assert {"owner", "cost-center", "environment", "managed-by"} <= set(tags), r["urn"]
            if r["service"]:
                team = effective_catalog(stack).team(r["team"])
                assert (tags["owner"], tags["cost-center"]) == (team.owner, team.cost_center), r["urn"]


def test_no_wildcards_and_no_open_world_anywhere():
    for stack in STACKS:
        for r in planned(stack)[0]["resources"]:
            # Allowed: the default routes, and the deploy runner's HTTPS egress (GitHub publishes
            # no stable address ranges for its runner service; see components/runner.py).
            runner_https = (r["type"] == "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
                            and r["name"].endswith("deploy-runner-sg-https") and r["inputs"]["fromPort"] == 443
                            and r["inputs"]["toPort"] == 443)
            for text in walk_strings(r["inputs"]):
                assert "0.0.0.0/0" not in text or r["type"] == "aws:ec2/routeTable:RouteTable" or runner_https, r["urn"]
            if r["type"] == "aws:iam/rolePolicy:RolePolicy" and r["service"]:
                assert '"*"' not in r["inputs"]["policy"], r["urn"]  # service roles: no wildcard at all


def variant(tmp_path: Path, stack: str, **changes) -> Path:
    """A copy of the project with some of a stack's settings replaced."""
    root = copy_project(tmp_path)
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"].update(changes)
    path.write_text(yaml.safe_dump(data))
    return root


def test_existing_vpc_and_cluster_are_adopted(tmp_path):
    net = {"mode": "existing", "cidr": "10.40.0.0/16", "zones": 2, "vpcId": "vpc-0abc",
           "privateSubnetIds": ["subnet-01", "subnet-02"], "publicSubnetIds": ["subnet-11", "subnet-12"]}
    cluster = {"mode": "existing", "logRetentionDays": 14, "deletionProtection": False, "identity": "podIdentity"}
    root = variant(tmp_path, "dev", **{"paved:network": net, "paved:cluster": cluster})
    doc, _ = plan.build("dev", root / "services_catalog.yaml", root)
    types = {r["type"] for r in doc["resources"]}
    assert not types & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup"}
    msk = one(doc, "aws:msk/cluster:Cluster")["inputs"]
    assert msk["brokerNodeGroupInfo"]["clientSubnets"] == ["subnet-01", "subnet-02"]
    kubeconfig = json.loads(one(doc, "pulumi:providers:kubernetes")["inputs"]["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"].endswith(".eks.amazonaws.com")  # from aws.eks.get_cluster
    assoc = next(r for r in by_type(doc, "aws:eks/podIdentityAssociation:PodIdentityAssociation") if r["service"] == "orders")
    assert assoc["inputs"]["clusterName"] == "paved-dev"


def test_irsa_fallback(tmp_path):
    base = load_stack(ROOT, "dev").cluster.model_dump(by_alias=True)
    root = variant(tmp_path, "dev", **{"paved:cluster": {**base, "identity": "irsa"}})
    doc, _ = plan.build("dev", root / "services_catalog.yaml", root)
    oidc = one(doc, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")["inputs"]
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    assert not [r for r in by_type(doc, "aws:eks/podIdentityAssociation:PodIdentityAssociation") if r["service"]]
    role = next(r for r in by_type(doc, "aws:iam/role:Role") if r["service"] == "orders")
    trust = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    conditions = trust["Condition"]["StringEquals"]
    assert any(k.endswith(":sub") and v == "system:serviceaccount:checkout:orders" for k, v in conditions.items())
    sa = next(r for r in by_type(doc, "kubernetes:core/v1:ServiceAccount") if r["service"] == "orders")
    assert sa["inputs"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
    # The controllers' charts render their ServiceAccounts with the role too (IRSA reads the
    # annotation at pod creation); without it ESO, the ALB controller and the autoscaler get no
    # credentials.
    accounts = {(r["inputs"]["metadata"].get("namespace"), r["inputs"]["metadata"]["name"]): r
                for r in by_type(doc, "kubernetes:core/v1:ServiceAccount")}
    for key in (("external-secrets", "external-secrets"), ("kube-system", "cluster-autoscaler"),
                ("aws-load-balancer", "aws-load-balancer-controller")):
        annotations = accounts[key]["inputs"]["metadata"].get("annotations") or {}
        assert annotations.get("eks.amazonaws.com/role-arn", "").startswith("arn:aws:iam::"), accounts[key]["urn"]
    # IRSA exchanges the token at STS (443, inside the VPC): no hole to the Pod Identity Agent.
    operator = next(r for r in by_type(doc, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                    if r["inputs"]["metadata"] == {"name": "allow-operator", "namespace": "external-secrets"})
    assert [rule["ports"] for rule in operator["inputs"]["spec"]["egress"]] == [[{"protocol": "TCP", "port": 443}]]


@pytest.mark.parametrize("stack", STACKS)
def test_aws_controllers_reach_the_pod_identity_agent(stack):
    """With network policy enforced, ESO and the ALB controller get their credentials from the
    Pod Identity Agent's link-local addresses (port 80), past their namespaces' default-deny."""
    doc = planned(stack)[0]
    policies = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]["spec"]
                for r in by_type(doc, "kubernetes:networking.k8s.io/v1:NetworkPolicy")}
    namespaces = ["external-secrets"] + (["aws-load-balancer"] if any(
        svc.public for svc in effective_catalog(stack).services) else [])
    for ns in namespaces:
        assert policies[(ns, "default-deny")]["policyTypes"] == ["Ingress", "Egress"]
        egress = policies[(ns, "allow-operator")]["egress"]
        agent = [rule for rule in egress if rule["ports"] == [{"protocol": "TCP", "port": 80}]]
        assert agent and {b["ipBlock"]["cidr"] for b in agent[0]["to"]} == {"169.254.170.23/32", "fd00:ec2::23/128"}, ns
        assert any(rule["ports"] == [{"protocol": "TCP", "port": 443}] for rule in egress), ns
    # Operators without an AWS role get no such hole.
    assert all(rule["ports"] != [{"protocol": "TCP", "port": 80}] for rule in policies[("reloader", "allow-operator")]["egress"])


def test_plans_need_no_credentials(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    doc, _ = plan.build("prod")
    assert by_type(doc, "aws:eks/cluster:Cluster")


@pytest.mark.parametrize("stack", STACKS)
def test_public_services_share_one_https_only_load_balancer(stack):
    doc = planned(stack)[0]
    s = load_stack(ROOT, stack)
    catalog = effective_catalog(stack)
    ingresses = {r["service"]: r["inputs"] for r in by_type(doc, "kubernetes:networking.k8s.io/v1:Ingress")}
    assert set(ingresses) == {svc.name for svc in catalog.services if svc.public}
    for name, ing in ingresses.items():
        notes = ing["metadata"]["annotations"]
        assert notes["alb.ingress.kubernetes.io/group.name"] == f"paved-{stack}"  # one ALB per environment
        # HTTP only redirects to HTTPS; the environment's web ACL protects the ALB (docs/edge.md).
        assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
        assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
        assert f":regional/webacl/paved-{stack}-edge/" in notes["alb.ingress.kubernetes.io/wafv2-acl-arn"]
        assert notes["alb.ingress.kubernetes.io/certificate-arn"] == s.ingress.certificate_arn
        assert ing["spec"]["ingressClassName"] == "alb"
        rule = ing["spec"]["rules"][0]
        assert rule["host"] == catalog.service(name).public.host
    charts = {c["inputs"]["chart"]: c["inputs"] for c in doc["resources"] if c["type"] == "kubernetes:helm.sh/v4:Chart"}
    assert charts["aws-load-balancer-controller"]["values"]["enableWafv2"] is True
    assert charts["aws-load-balancer-controller"]["values"]["enableWaf"] is False
    # The controller's role: only Describe actions (and WAF's resource-less SetWebAcl) on "*", everything else
    # scoped or conditioned on the cluster tag.
    policy = next(r for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy") if "load-balancer" in r["name"])
    for st in json.loads(policy["inputs"]["policy"])["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st["Resource"] == "*":
            assert all(a.endswith(":Describe*") or a == "elasticloadbalancing:SetWebAcl" for a in actions), st
    # The ALB reaches the public service's pods; nothing else opens ingress from the VPC.
    netpols = {r["service"]: r["inputs"]["spec"] for r in by_type(doc, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
               if r["service"] and r["inputs"]["metadata"]["name"] == r["service"]}
    for svc in catalog.services:
        from_vpc = [p for rule in netpols[svc.name].get("ingress", []) for p in rule["from"] if "ipBlock" in p]
        assert bool(from_vpc) == bool(svc.public), svc.name


def test_public_service_needs_a_certificate(tmp_path):
    root = variant(tmp_path, "staging")
    path = root / "stacks" / "Pulumi.staging.yaml"
    data = yaml.safe_load(path.read_text())
    del data["config"]["paved:ingress"]
    path.write_text(yaml.safe_dump(data))
    from paved.errors import InputError

    with pytest.raises(InputError) as exc:
        plan.build("staging", root / "services_catalog.yaml", root)
    (issue,) = exc.value.issues
    assert issue.field == "services[orders].public"
    assert "paved:ingress" in issue.message and "(in environment staging)" in issue.message


# --- first-deploy failures the review found ---------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_cni_enforces_network_policies(stack):
    """Without the network policy agent, the VPC CNI ignores every NetworkPolicy paved writes."""
    doc = planned(stack)[0]
    (cni,) = [r for r in by_type(doc, "aws:eks/addon:Addon") if r["inputs"]["addonName"] == "vpc-cni"]
    assert json.loads(cni["inputs"]["configurationValues"]) == {"enableNetworkPolicy": "true"}, cni["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_kms_aliases_carry_the_stack(stack):
    """Aliases are unique per account and region: two stacks in one account must not collide."""
    names = [r["inputs"]["name"] for r in by_type(planned(stack)[0], "aws:kms/alias:Alias")]
    assert names and all(n.startswith(f"alias/paved/{stack}/") for n in names), names
    others = {r["inputs"]["name"] for s in STACKS if s != stack for r in by_type(planned(s)[0], "aws:kms/alias:Alias")}
    assert not others & set(names)


@pytest.mark.parametrize("stack", STACKS)
def test_replaceable_resources_have_no_fixed_name(stack):
    """A replacement creates the new resource before deleting the old: a fixed name collides."""
    doc = planned(stack)[0]
    for group in by_type(doc, "aws:eks/nodeGroup:NodeGroup"):
        assert "nodeGroupName" not in group["inputs"] and group["inputs"]["nodeGroupNamePrefix"].endswith("-"), group["urn"]
        assert group["inputs"]["version"] == doc["kubernetesVersion"], group["urn"]  # not EKS's latest
    for config in by_type(doc, "aws:msk/configuration:Configuration"):
        assert "name" not in config["inputs"], config["urn"]


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_and_ebs_driver_wait_for_their_permissions(stack):
    doc = planned(stack)[0]
    attachments = {r["urn"]: r for r in by_type(doc, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    (cluster,) = by_type(doc, "aws:eks/cluster:Cluster")
    assert any("amazoneksclusterpolicy" in urn for urn in cluster["options"]["dependsOn"] if urn in attachments)
    (ebs,) = [r for r in by_type(doc, "aws:eks/addon:Addon") if r["inputs"]["addonName"] == "aws-ebs-csi-driver"]
    assert any(urn.endswith("-ebs-csi-policy") for urn in ebs["options"]["dependsOn"]), ebs["options"]["dependsOn"]


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_objects_wait_for_nodes_and_dns(stack):
    """Every Kubernetes object goes through the provider, and the provider waits for nodes and CoreDNS."""
    doc = planned(stack)[0]
    (provider,) = by_type(doc, "pulumi:providers:kubernetes")
    deps = provider["options"]["dependsOn"]
    groups = [r["urn"] for r in by_type(doc, "aws:eks/nodeGroup:NodeGroup")]
    coredns = [r["urn"] for r in by_type(doc, "aws:eks/addon:Addon") if r["inputs"]["addonName"] == "coredns"]
    assert groups and set(groups) <= set(deps) and set(coredns) <= set(deps), deps


def test_operators_get_access_entries(tmp_path):
    """Only the cluster's creator has access unless the stack lists operators."""
    def operators(text: str) -> str:
        text, count = re.subn(r"\n    access:\n      admins: .*\n      viewers: .*\n",
                              "\n    access:\n      admins: [arn:aws:iam::123456789012:role/platform-admin]\n"
                              "      viewers: [arn:aws:iam::123456789012:role/oncall]\n", text)
        assert count == 1
        return text

    doc = _plan_with(tmp_path, operators, stack="dev")[0]
    entries = {r["inputs"]["principalArn"] for r in by_type(doc, "aws:eks/accessEntry:AccessEntry")}
    assert entries == {"arn:aws:iam::123456789012:role/platform-admin", "arn:aws:iam::123456789012:role/oncall"}
    policies = {r["inputs"]["principalArn"]: r["inputs"]["policyArn"].rsplit("/", 1)[1]
                for r in by_type(doc, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")}
    assert policies == {"arn:aws:iam::123456789012:role/platform-admin": "AmazonEKSClusterAdminPolicy",
                        "arn:aws:iam::123456789012:role/oncall": "AmazonEKSViewPolicy"}


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_avoid_zones_eks_and_msk_do_not_support(stack):
    """use1-az3 (us-east-1c in the offline account) is refused for EKS subnets and has no Nitro instances."""
    zones = {r["inputs"]["availabilityZone"] for r in by_type(planned(stack)[0], "aws:ec2/subnet:Subnet")}
    assert zones and "us-east-1c" not in zones, zones


def _plan_with(tmp_path, edit, stack="prod"):
    """The plan of ``stack`` in a copy of the project whose stack file went through ``edit``."""
    root = copy_project(tmp_path)
    stack_file = root / "stacks" / f"Pulumi.{stack}.yaml"
    stack_file.write_text(edit(stack_file.read_text()))
    from paved import plan

    return plan.build(stack, root / "services_catalog.yaml", root)


def test_too_few_supported_zones_is_a_clear_error(tmp_path):
    from paved.errors import PavedError

    with pytest.raises(PavedError, match=r"zones is 6, but the region has only 5 zones that EKS and MSK support"):
        _plan_with(tmp_path, lambda text: re.sub(r"(\n    zones: )\d", r"\g<1>6", text, count=1))


def test_a_region_without_known_zones_is_refused_offline(tmp_path):
    from paved.errors import PavedError

    with pytest.raises(PavedError, match=r"no availability zones for region 'xx-nowhere-1'"):
        _plan_with(tmp_path, lambda text: text.replace("aws:region: us-east-1", "aws:region: xx-nowhere-1"))


@pytest.mark.parametrize("stack", STACKS)
def test_deploy_runner_sits_in_the_private_subnets_with_a_narrow_role(stack):
    """A private endpoint answers only inside the VPC: `pulumi up` runs on a CodeBuild runner there."""
    from components.runner import runner_project_name

    doc = planned(stack)[0]
    (project,) = by_type(doc, "aws:codebuild/project:Project")
    inputs = project["inputs"]
    assert inputs["name"] == runner_project_name(stack) and stack in inputs["name"]
    assert inputs["vpcConfig"]["subnets"] and inputs["source"]["auth"]["type"] == "CODECONNECTIONS"
    private = {r["urn"] for r in by_type(doc, "aws:ec2/subnet:Subnet") if "private" in r["name"]}
    assert len(inputs["vpcConfig"]["subnets"]) == len(private)
    (hook,) = by_type(doc, "aws:codebuild/webhook:Webhook")
    assert hook["inputs"]["filterGroups"][0]["filters"] == [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]
    policy = next(r for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy") if r["name"].endswith("deploy-runner-policy"))
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith(("eks:", "iam:", "sts:")) or a.endswith("*") for a in actions), actions
    (egress,) = [r for r in by_type(doc, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
                 if "deploy-runner" in r["name"]]
    assert (egress["inputs"]["fromPort"], egress["inputs"]["toPort"]) == (443, 443)


def test_private_endpoint_without_a_runner_is_refused(tmp_path):
    from paved.errors import InputError

    def drop_runner(text: str) -> str:
        return re.sub(r"\n    # The deploy workflow's jobs run here.*?\n    deployRunner:\n(      .*\n)+", "\n", text)

    with pytest.raises(InputError, match="private-only endpoint is reachable only from inside the VPC"):
        _plan_with(tmp_path, drop_runner)


def test_deploy_workflow_runs_on_the_stacks_runner():
    from components.runner import runs_on_label

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pulumi-up.yml").read_text())
    runs_on = workflow["jobs"]["up"]["runs-on"]
    # A team stack (ENV.TEAM) deploys from its environment's runner, in the VPC.
    assert runs_on == runs_on_label("${{ inputs.environment || inputs.stack }}"), runs_on


@pytest.mark.parametrize("stack", STACKS)
def test_hpas_have_metrics_and_node_groups_an_autoscaler(stack):
    """metrics-server serves the HPAs' metrics API; Cluster Autoscaler scales only this cluster's groups."""
    doc = planned(stack)[0]
    services = [r for r in by_type(doc, "kubernetes:apiregistration.k8s.io/v1:APIService")
                if r["inputs"]["metadata"]["name"] == "v1beta1.metrics.k8s.io"]
    assert services, "no metrics API"
    (policy,) = [r for r in by_type(doc, "aws:iam/rolePolicy:RolePolicy") if "cluster-autoscaler" in r["name"]]
    statements = {s["Sid"]: s for s in json.loads(policy["inputs"]["policy"])["Statement"]}
    scale = statements["ScaleOwnNodeGroups"]
    assert scale["Condition"]["StringEquals"] == {f"aws:ResourceTag/k8s.io/cluster-autoscaler/paved-{stack}": "owned"}
    assert all(s["Resource"] != "*" or all(a.split(":")[1].startswith("Describe") for a in s["Action"])
               for s in statements.values())
    (assoc,) = [r for r in by_type(doc, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if r["inputs"]["serviceAccount"] == "cluster-autoscaler"]
    assert assoc["inputs"]["namespace"] == "kube-system"
