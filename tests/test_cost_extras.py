"""Issue 17, `paved cost`: the ALB, NAT data processing, public IPv4 addresses and the cluster's
volumes are priced; a region without prices and pods the nodes cannot hold are loud warnings;
an unlisted instance type is "not priced", not a failure."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

from conftest import planned
from paved import cost
from paved.cli import main
from paved.cost.prices import load_prices

PRICES = load_prices()
H = PRICES.hours_per_month


def _estimate(doc):
    return cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"] if r.get("custom", True)])


def _line(est, start: str):
    found = [ln for ln in est.infrastructure if ln.item.startswith(start)]
    assert len(found) == 1, [ln.item for ln in est.infrastructure]
    return found[0]


def _price(key: str) -> Decimal:
    return PRICES.entries[key].value


def test_the_prod_plan_prices_alb_ipv4_nat_data_and_volumes():
    doc = planned("prod")[0]
    est = _estimate(doc)
    types = [r["type"] for r in doc["resources"]]
    alb = _line(est, "1 x Application Load Balancer")
    assert alb.quantity == H and alb.price.key == "albHour" and alb.resource == "paved-prod"
    lcu = _line(est, "ALB capacity units (assumed 1 LCU per ALB-hour)")
    assert lcu.quantity == H * _price("assumption.albLcuPerHour") and lcu.price.key == "albLcu"
    eips = types.count("aws:ec2/eip:Eip")
    ip = _line(est, f"{eips} x public IPv4 address (Elastic IP)")
    assert ip.quantity == eips * H and ip.amount == eips * H * _price("publicIpv4")
    _line(est, "2 x public IPv4 address of internet-facing ALBs")
    nats = types.count("aws:ec2/natGateway:NatGateway")
    nat = _line(est, "NAT data processing")
    assert nat.quantity == nats * _price("assumption.natDataGBPerGatewayMonth") and nat.unit == "GB"
    volumes = _line(est, "cluster volumes (2 claims, gp3)")
    # Prometheus: 2 replicas x 200Gi; Jaeger's Badger claim: 100Gi (the prod stack's settings).
    assert volumes.quantity == 2 * 200 + 100 and volumes.price.key == "ebsGp3"
    assert est.warnings == ()


def test_every_new_price_has_its_source():
    for key in ("albHour", "albLcu", "natDataProcessed", "publicIpv4", "assumption.albLcuPerHour",
                "assumption.natDataGBPerGatewayMonth", "assumption.albPublicIpv4PerAlb"):
        price = PRICES.entries[key]
        assert price.source and price.date and price.unit, key


def _saved(tmp_path, stack, change):
    doc = copy.deepcopy(planned(stack)[0])
    change(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _region(doc):
    for r in doc["resources"]:
        if r["type"] == "pulumi:providers:aws":
            r["inputs"]["region"] = "eu-west-1"


def test_a_region_without_prices_is_a_loud_warning(tmp_path, capsys):
    path = _saved(tmp_path, "dev", _region)
    assert main(["cost", "-s", "dev", "--plan", path]) == 0
    out = capsys.readouterr().out
    head = out.split("Infrastructure\n")[0]
    assert "WARNING: paved/data/prices.json has prices for us-east-1 only; this stack runs in eu-west-1" in head
    assert main(["cost", "-s", "dev", "--plan", path, "--format", "json"]) == 0
    assert any("eu-west-1" in w for w in json.loads(capsys.readouterr().out)["warnings"])


def _unlisted_instance(doc):
    for r in doc["resources"]:
        if r["type"] == "aws:eks/nodeGroup:NodeGroup":
            r["inputs"]["instanceTypes"] = ["x9.huge"]
        if r["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
            r["inputs"]["instanceType"] = "x9.huge"


def test_an_unlisted_instance_type_is_not_priced_and_not_a_failure(tmp_path, capsys):
    assert main(["cost", "-s", "dev", "--plan", _saved(tmp_path, "dev", _unlisted_instance)]) == 0
    out = capsys.readouterr().out
    section = out.split("Not priced\n")[1]
    assert "not priced:" in section and "'x9.huge'" in section and "paved/data/prices.json" in section


def _huge_max(doc):
    for r in doc["resources"]:
        if r["type"] == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" and r["service"] == "orders":
            r["inputs"]["spec"]["maxReplicas"] = 500


def test_pods_at_max_replicas_beyond_the_nodes_maximum_is_a_warning(tmp_path, capsys):
    assert main(["cost", "-s", "dev", "--plan", _saved(tmp_path, "dev", _huge_max)]) == 0
    out = capsys.readouterr().out
    assert "WARNING: the services' pods at maximum replicas request" in out
    assert "more than the node groups hold at their maximum size" in out
