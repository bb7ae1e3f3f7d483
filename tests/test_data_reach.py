"""The datastores are reachable from the pods: DynamoDB through an interface endpoint.

The plan checks read `paved plan`'s record of the real program under mocks, with the URN in
each message; the pure checks build the specs without Pulumi. Not verified against AWS (in
particular the endpoint's DNS names: the mock answers in the format AWS documents).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from components import data as d
from components.migration import migration_job_args, migration_network_policy_args
from components.network import DYNAMODB, endpoint_args, first_dns_name
from components.service import AwsWiring, MicroserviceArgs, identity_egress, network_policy_args, pod_spec
from conftest import by_type, copy_project, planned
from paved.layers import PlatformFacts
from test_data_component import _settings, _svc

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:argoproj.io/v1alpha1:Rollout")


def _env(resource: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in resource["inputs"]["spec"]["template"]["spec"]["containers"][0]["env"]}


def _workload(plan: dict, service: str) -> dict:
    return next(r for t in WORKLOADS for r in by_type(plan, t) if r["service"] == service)


def test_the_endpoint_is_in_the_private_subnets_without_private_dns():
    plan = planned("dev")[0]
    endpoints = {r["inputs"]["serviceName"].rsplit(".", 1)[-1]: r for r in by_type(plan, ENDPOINT)}
    ddb = endpoints["dynamodb"]
    i = ddb["inputs"]
    assert i["serviceName"] == "com.amazonaws.us-east-1.dynamodb" and i["vpcEndpointType"] == "Interface", ddb["urn"]
    assert i["privateDnsEnabled"] is False, ddb["urn"]
    # The private subnets and the endpoints' security group, as the other interface endpoints.
    assert i["subnetIds"] == endpoints["secretsmanager"]["inputs"]["subnetIds"], ddb["urn"]
    assert i["securityGroupIds"] == endpoints["secretsmanager"]["inputs"]["securityGroupIds"], ddb["urn"]
    subnets = {r["name"]: r for r in by_type(plan, "aws:ec2/subnet:Subnet")}
    assert len(i["subnetIds"]) == len([n for n in subnets if "-private-" in n])
    # The others keep their private DNS.
    assert endpoints["sts"]["inputs"]["privateDnsEnabled"] is True


def test_no_tables_no_endpoint(tmp_path):
    from paved import plan as plan_mod

    root = copy_project(tmp_path)
    catalog = root / "services_catalog.yaml"
    text = catalog.read_text()
    start = text.index("      # sample_services/inventory: PAVED_TABLE_STOCK")
    end = text.index("          ttl: expires_at\n", start) + len("          ttl: expires_at\n")
    text = text[:start] + text[end:]
    catalog.write_text(text.replace("    # Stock per SKU in DynamoDB, read through a Valkey cache (cache-aside).\n"
                                    "    data:\n", ""))
    doc, _ = plan_mod.build("dev", catalog, root)
    names = {r["inputs"]["serviceName"] for r in by_type(doc, ENDPOINT)}
    assert "com.amazonaws.us-east-1.dynamodb" not in names and "com.amazonaws.us-east-1.sts" in names
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in _env(_workload(doc, "inventory"))


def test_the_platform_fact_follows_the_tables():
    catalog, inventory = _svc("dev", "inventory")
    assert PlatformFacts.of(catalog).tables is True
    without = catalog.__class__(file=catalog.file, teams=catalog.teams, environment=catalog.environment,
                                services=tuple(s for s in catalog.services if s.name != "inventory"))
    assert PlatformFacts.of(without).tables is False
    assert PlatformFacts.of(without).digest() != PlatformFacts.of(catalog).digest()


def test_the_service_with_tables_gets_the_endpoint_url():
    plan = planned("dev")[0]
    inventory = _workload(plan, "inventory")
    url = _env(inventory)["AWS_ENDPOINT_URL_DYNAMODB"]
    assert url.startswith("https://vpce-") and url.endswith(".dynamodb.us-east-1.vpce.amazonaws.com"), inventory["urn"]
    # Only the services with tables.
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in _env(_workload(plan, "orders"))


def test_first_dns_name_reads_typed_and_plain_entries():
    class Entry:
        dns_name = "vpce-1.dynamodb.us-east-1.vpce.amazonaws.com"

    assert first_dns_name([Entry()]) == Entry.dns_name
    assert first_dns_name([{"dnsName": "a"}, {"dnsName": "b"}]) == "a"
    assert first_dns_name([]) == "" and first_dns_name(None) == ""
    a = endpoint_args("eu-west-1", DYNAMODB, "vpc-1", ["s-1", "s-2"], "sg-1")
    assert a.private_dns_enabled is False and a.service_name == "com.amazonaws.eu-west-1.dynamodb"
    assert endpoint_args("eu-west-1", "sts", "vpc-1", ["s-1"], "sg-1").private_dns_enabled is True


def _orders_with_a_table():
    catalog, orders = _svc("prod", "orders")
    _, inventory = _svc("prod", "inventory")
    data = orders.data.model_copy(update={"tables": inventory.data.tables[:1]})
    return catalog, orders.model_copy(update={"data": data})


def _https_to_vpc(rules, cidr: str) -> bool:
    return any(any(p.ip_block is not None and p.ip_block.cidr == cidr for p in r.to)
               and any(port.port == 443 for port in r.ports) for r in rules)


@pytest.mark.parametrize("mode", ["podIdentity", "irsa"])
def test_the_pods_and_the_migration_job_reach_the_endpoint_in_both_identity_modes(mode):
    catalog, svc = _orders_with_a_table()
    url = "https://vpce-1.dynamodb.us-east-1.vpce.amazonaws.com"
    wiring = d.DataWiring(env=d.data_env(svc, "prod", "us-east-1", "db.example", "cache.example", url),
                          ports=d.data_ports(svc), migrate=svc.data.postgres.migrate)
    aws = AwsWiring(vpc_cidr="10.20.0.0/16", identity_mode=mode, role_arn="arn:role", data=wiring)
    args = MicroserviceArgs(service=svc, team=catalog.team(svc.team), settings=_settings("prod"), aws=aws)
    assert 443 in wiring.ports
    assert _https_to_vpc(network_policy_args(args).spec.egress, "10.20.0.0/16")
    job_policy = migration_network_policy_args(svc, "checkout", {}, [identity_egress(aws)], aws.vpc_cidr, wiring.ports)
    assert _https_to_vpc(job_policy.spec.egress, "10.20.0.0/16")
    pod = pod_spec(args)
    job = migration_job_args(svc, wiring.migrate, "checkout", {}, pod, pod.containers[0])
    env = {e.name: e.value for e in job.spec.template.spec.containers[0].env}
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == url and env["AWS_REGION"] == "us-east-1"
    # Without tables, no 443 from the data wiring (under Pod Identity nothing else gives it).
    _, plain = _svc("prod", "payments")
    assert 443 not in d.data_ports(plain)


def test_inventory_s_network_policy_has_https_to_the_vpc_under_pod_identity():
    plan = planned("dev")[0]
    (policy,) = [r for r in by_type(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                 if r["name"] == "inventory-netpol"]
    cidr = _settings("dev").network.cidr
    assert any({"ipBlock": {"cidr": cidr}} in rule.get("to", []) and {"protocol": "TCP", "port": 443} in rule["ports"]
               for rule in policy["inputs"]["spec"]["egress"]), policy["urn"]


def test_the_endpoint_is_priced():
    from paved.cost import estimate
    from paved.resources import VPC_ENDPOINT

    props = {"vpcEndpointType": "Interface", "serviceName": "com.amazonaws.us-east-1.dynamodb",
             "subnetIds": ["s-1", "s-2"]}
    est = estimate([(VPC_ENDPOINT, props, "paved-network-endpoint-dynamodb")])
    got = {f"{ln.item} [{ln.resource}]": ln.amount for ln in est.infrastructure}
    assert got["2 x VPC interface endpoint zone [paved-network-endpoint-dynamodb]"] == 2 * Decimal(730) * Decimal("0.01")
    assert got["DynamoDB endpoint data processing (assumed 10 GB per endpoint-month) "
               "[paved-network-endpoint-dynamodb]"] == Decimal(10) * Decimal("0.01")
