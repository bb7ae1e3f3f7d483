"""Declared egress (issue 11): `services[].egress` becomes rules of the service's NetworkPolicy.

Bad blocks are refused by `paved validate` on the line of the change; the repo catalog's
payments service reaches its provider through a declared block, and the plan shows it.
"""

from __future__ import annotations

import pytest

from conftest import by_type
from test_validate import line_of, mutate, validate  # noqa: F401  (fixture)
from test_validate_families import refused_at

ORDERS_CALLS = "    calls: [inventory]\n"


def with_egress(*rules: str) -> str:
    return mutate(ORDERS_CALLS, ORDERS_CALLS + "    egress:\n" + "".join(f"      - {r}\n" for r in rules))


def test_declared_egress_is_valid(tmp_path, capsys):
    res = validate(tmp_path, capsys, with_egress(
        "{cidr: 203.0.113.0/24, ports: [443, 8443], description: Provider API}",
        '{cidr: "2001:db8::/32", ports: [443], description: Provider API over IPv6}'))
    assert res.rc == 0, res.err


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{cidr: api.example.net, ports: [443], description: x}", "is not a CIDR block"),
        ("{cidr: 203.0.113.7/24, ports: [443], description: x}", "host bits set"),
        ("{cidr: 203.0.113.0, ports: [443], description: x}", "is not a CIDR block"),
        ('{cidr: "203.0.113.0/24\\n", ports: [443], description: x}', "is not a CIDR block"),
        ('{cidr: " 203.0.113.0/24", ports: [443], description: x}', "is not a CIDR block"),
        ("{cidr: 0.0.0.0/0, ports: [443], description: x}", "whole internet"),
        ('{cidr: "::/0", ports: [443], description: x}', "whole internet"),
        ('{cidr: "2000::/3", ports: [443], description: x}', "whole internet"),
        ("{cidr: 203.0.113.0/24, ports: [0], description: x}", "greater than or equal to 1"),
        ("{cidr: 203.0.113.0/24, ports: [65536], description: x}", "less than or equal to 65535"),
        ("{cidr: 203.0.113.0/24, ports: [], description: x}", "lists no port"),
        ('{cidr: 203.0.113.0/24, ports: ["443"], description: x}', "integer"),
        ("{cidr: 203.0.113.0/24, ports: [443, 443], description: x}", "port '443' is listed twice"),
        ("{cidr: 203.0.113.0/24, ports: [443]}", "required field is missing"),
        ("{cidr: 203.0.113.0/24, ports: [443], description: x, host: api.example.net}", "unknown field 'host'"),
    ],
)
def test_bad_egress_is_refused(tmp_path, capsys, rule, message):
    text = with_egress(rule)
    refused_at(validate(tmp_path, capsys, text), line_of(text, "      - {cidr"), message)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (["{cidr: 0.0.0.0/1, ports: [443], description: x}", "{cidr: 128.0.0.0/1, ports: [443], description: y}"],
         "together cover every public address"),
        (['{cidr: "2000::/4", ports: [443], description: x}', '{cidr: "3000::/4", ports: [443], description: y}'],
         "together cover every public address"),
        (["{cidr: 203.0.113.0/24, ports: [443], description: x}", "{cidr: 203.0.113.0/24, ports: [80], description: y}"],
         "CIDR block '203.0.113.0/24' is listed twice"),
    ],
)
def test_egress_blocks_are_judged_together(tmp_path, capsys, rules, message):
    text = with_egress(*rules)
    line = line_of(text, "    egress:") + (2 if "listed twice" in message else 0)
    refused_at(validate(tmp_path, capsys, text), line, message)


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("169.254.169.254/32", "link-local space"),
        ("169.0.0.0/8", "link-local space"),
        ('"fe80::/64"', "link-local space"),
        ("127.0.0.1/32", "loopback"),
        ("10.0.0.0/8", "overlaps the stack's VPC"),
        ("10.10.1.0/24", "overlaps the stack's VPC 10.10.0.0/16"),
    ],
)
def test_egress_into_the_cluster_or_the_node_is_refused(tmp_path, capsys, cidr, message):
    text = with_egress(f"{{cidr: {cidr}, ports: [443], description: x}}")
    refused_at(validate(tmp_path, capsys, text), line_of(text, "      - {cidr"), message)


def test_schema_says_egress_is_by_cidr_only():
    from paved.model import Egress

    assert "host names" in Egress.model_json_schema()["properties"]["cidr"]["description"].lower()


def test_plan_has_the_declared_egress_rule(planned_stack):
    plan, _ = planned_stack("dev")
    [policy] = [r for r in by_type(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
                if r["inputs"]["metadata"]["name"] == "payments"]
    rules = [(peer["ipBlock"]["cidr"], [p["port"] for p in rule["ports"]])
             for rule in policy["inputs"]["spec"]["egress"] for peer in rule["to"] if "ipBlock" in peer]
    assert ("198.51.100.0/24", [443]) in rules, policy["urn"]


@pytest.mark.parametrize("value", ["5", "null", "{cidr: 203.0.113.0/24}"])
def test_egress_that_is_not_a_list_says_list(tmp_path, capsys, value):
    text = mutate(ORDERS_CALLS, ORDERS_CALLS + f"    egress: {value}\n")
    msg = refused_at(validate(tmp_path, capsys, text), line_of(text, "    egress:"), "should be a list")
    assert "tuple" not in msg
