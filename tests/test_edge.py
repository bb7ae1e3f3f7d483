"""A protected edge: the WAFv2 web ACL (spec and plan), the Ingress annotations, the catalog's
``public.rateLimit``, the two security rules (each with its defect injected), and the WAF's price."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from conftest import by_type
from policy_harness import resource_violations, sample, stack_violations

from components import waf
from components.ingress import WAF_ANNOTATION, ingress_args
from paved import cost
from paved.resources import WAF_REQUESTS_TAG
from policies.rules.kubernetes import sec_033_public_ingress_waf as sec_033
from policies.rules.kubernetes import sec_034_public_ingress_tls as sec_034
from test_specs import SETTINGS, TEAM, service

INGRESS_T = "kubernetes:networking.k8s.io/v1:Ingress"
WEB_ACL_T = "aws:wafv2/webAcl:WebAcl"


def public(**fields):
    return service(public={"host": "api.shop.example.com", "path": "/orders", **fields})


# --- spec -----------------------------------------------------------------------------------


def test_web_acl_runs_the_three_managed_groups_then_the_rate_limits():
    args = waf.web_acl_args(SETTINGS, (public(rateLimit=1000),))
    assert args.scope == "REGIONAL" and args.default_action.allow is not None
    names = [r.name for r in args.rules]
    assert names == ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                     "AWSManagedRulesKnownBadInputsRuleSet", "rate-orders"]
    assert len({r.priority for r in args.rules}) == 4
    for rule in args.rules[:3]:
        assert rule.statement.managed_rule_group_statement.vendor_name == "AWS"
        assert rule.override_action.none is not None  # the groups' own block actions stand
    assert all(r.visibility_config.cloudwatch_metrics_enabled for r in args.rules)
    assert args.visibility_config.metric_name == "paved-prod-edge"
    assert args.tags == {WAF_REQUESTS_TAG: "10"}


def test_rate_rule_counts_per_ip_in_five_minutes_for_the_host_and_path_only():
    rule = waf.rate_rule(public(rateLimit=1000), 100, "p")
    rate = rule.statement.rate_based_statement
    assert (rate.limit, rate.aggregate_key_type, rate.evaluation_window_sec) == (1000, "IP", 300)
    assert rule.action.block is not None
    host, path = rate.scope_down_statement.and_statement.statements
    assert host.byte_match_statement.field_to_match.single_header.name == "host"
    assert (host.byte_match_statement.search_string, host.byte_match_statement.positional_constraint) == (
        "api.shop.example.com", "EXACTLY")
    assert (path.byte_match_statement.search_string, path.byte_match_statement.positional_constraint) == (
        "/orders", "STARTS_WITH")


def test_a_service_at_the_root_path_is_scoped_by_host_alone():
    scope = waf.rate_scope(service(public={"host": "shop.example.com"}))
    assert scope.byte_match_statement.search_string == "shop.example.com" and scope.and_statement is None


def test_no_rate_rule_without_rate_limit():
    assert [r.name for r in waf.web_acl_args(SETTINGS, (public(),)).rules][-1] == "AWSManagedRulesKnownBadInputsRuleSet"


def test_ingress_is_https_with_redirect_and_names_the_web_acl():
    notes = ingress_args(public(), TEAM, SETTINGS, "arn:aws:wafv2:us-east-1:1:regional/webacl/x/y").metadata.annotations
    assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert notes["alb.ingress.kubernetes.io/ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert notes[WAF_ANNOTATION] == "arn:aws:wafv2:us-east-1:1:regional/webacl/x/y"


@pytest.mark.parametrize("bad", [9, 2_000_000_001, "1000", 0])
def test_rate_limit_out_of_range_is_refused(bad):
    with pytest.raises(ValueError):
        public(rateLimit=bad)


# --- plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_plan_has_one_web_acl_and_the_public_ingress_names_it(planned_stack, stack):
    doc = planned_stack(stack)[0]
    (acl,) = by_type(doc, WEB_ACL_T)
    assert acl["inputs"]["name"] == f"paved-{stack}-edge"
    assert {r["name"] for r in acl["inputs"]["rules"]} >= {"rate-orders", "AWSManagedRulesCommonRuleSet"}
    (ingress,) = [r for r in by_type(doc, INGRESS_T) if r["service"] == "orders"]
    arn = ingress["inputs"]["metadata"]["annotations"][WAF_ANNOTATION]
    assert sec_033.web_acl_name(arn) == f"paved-{stack}-edge"
    rate = next(r for r in acl["inputs"]["rules"] if r["name"] == "rate-orders")
    assert rate["statement"]["rateBasedStatement"]["limit"] == 1000


# --- PAVED-SEC-033 --------------------------------------------------------------------------


def _waf_stack(ingress: dict) -> list:
    return [(WEB_ACL_T, "paved-edge-web-acl", sample("prod", WEB_ACL_T)), (INGRESS_T, "orders-ingress", ingress)]


def _ingress() -> dict:
    return sample("prod", INGRESS_T, "orders")


def test_the_public_ingress_with_the_plan_s_web_acl_passes():
    assert stack_violations(sec_033.RULE, _waf_stack(_ingress())) == []


@pytest.mark.parametrize("arn, needle", [
    (None, "must name a WAFv2 web ACL in the alb.ingress.kubernetes.io/wafv2-acl-arn annotation"),
    ("", "must name a WAFv2 web ACL in the"),
    ("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/someone-elses/1234", "'someone-elses' is not in this stack"),
    ("arn:aws:wafv2:us-east-1:123456789012:global/webacl/paved-prod-edge/1234", "must name a REGIONAL WAFv2 web ACL"),
    ("paved-prod-edge", "must name a REGIONAL WAFv2 web ACL"),
])
def test_a_public_ingress_without_the_web_acl_is_caught(arn, needle):
    ingress = copy.deepcopy(_ingress())
    notes = ingress["metadata"]["annotations"]
    notes.pop(WAF_ANNOTATION) if arn is None else notes.update({WAF_ANNOTATION: arn})
    found = stack_violations(sec_033.RULE, _waf_stack(ingress))
    assert [u for _, u in found] == ["urn:pulumi:test::paved::kubernetes:networking.k8s.io/v1:Ingress::orders-ingress"]
    assert needle in found[0][0] and found[0][0].startswith("Ingress orders must"), found


def test_web_acl_missing_from_the_plan_is_caught():
    found = stack_violations(sec_033.RULE, [(INGRESS_T, "orders-ingress", _ingress())])
    assert found and "is not in this stack" in found[0][0]


def test_an_internal_ingress_needs_no_waf():
    ingress = copy.deepcopy(_ingress())
    ingress["metadata"]["annotations"]["alb.ingress.kubernetes.io/scheme"] = "internal"
    del ingress["metadata"]["annotations"][WAF_ANNOTATION]
    assert stack_violations(sec_033.RULE, [(INGRESS_T, "orders-ingress", ingress)]) == []


# --- PAVED-SEC-034 --------------------------------------------------------------------------


def test_the_public_ingress_is_https_with_a_modern_policy():
    assert resource_violations(sec_034.RULE, INGRESS_T, _ingress(), name="orders-ingress") == []


@pytest.mark.parametrize("changes, needle", [
    ({"alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}]'}, "listen on HTTPS"),
    ({"alb.ingress.kubernetes.io/listen-ports": None}, "unset, which means HTTP:80"),
    ({"alb.ingress.kubernetes.io/ssl-redirect": None}, "redirect its HTTP listener [80] to an HTTPS port"),
    ({"alb.ingress.kubernetes.io/ssl-redirect": "8443"}, "redirect its HTTP listener"),
    ({"alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-2016-08"}, "use a TLS 1.2+ policy"),
    ({"alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-1-2021-06"}, "use a TLS 1.2+ policy"),
    ({"alb.ingress.kubernetes.io/ssl-policy": None}, "the controller's ELBSecurityPolicy-2016-08"),
    ({"alb.ingress.kubernetes.io/certificate-arn": None}, "name its certificate"),
    ({"alb.ingress.kubernetes.io/listen-ports": "HTTPS:443"}, "to a JSON list"),
])
def test_a_public_ingress_without_modern_https_is_caught(changes, needle):
    ingress = copy.deepcopy(_ingress())
    notes = ingress["metadata"]["annotations"]
    for key, value in changes.items():
        notes.pop(key) if value is None else notes.update({key: value})
    found = resource_violations(sec_034.RULE, INGRESS_T, ingress, name="orders-ingress")
    assert len(found) == 1 and found[0].startswith("Ingress orders must") and needle in found[0], found


def test_https_only_passes_without_a_redirect():
    ingress = copy.deepcopy(_ingress())
    notes = ingress["metadata"]["annotations"]
    notes["alb.ingress.kubernetes.io/listen-ports"] = '[{"HTTPS": 443}]'
    del notes["alb.ingress.kubernetes.io/ssl-redirect"]
    assert resource_violations(sec_034.RULE, INGRESS_T, ingress, name="orders-ingress") == []


# --- cost -----------------------------------------------------------------------------------


def test_cost_prices_the_web_acl_its_rules_and_the_assumed_requests(planned_stack):
    doc = planned_stack("prod")[0]
    estimate = cost.estimate([(r["type"], r["inputs"], r["name"]) for r in doc["resources"]])
    lines = {ln.price.key: ln for ln in estimate.infrastructure if ln.price.key.startswith("wafv2")}
    assert lines["wafv2WebAcl"].amount == Decimal("5.00")
    assert lines["wafv2Rule"].quantity == 4 and lines["wafv2Rule"].amount == Decimal("4.00")
    assert lines["wafv2Requests"].quantity == 10 and lines["wafv2Requests"].amount == Decimal("6.00")
    assert "assumed" in lines["wafv2Requests"].item
    assert "aws.amazon.com/waf/pricing" in lines["wafv2Requests"].price.source


def test_cost_says_when_no_request_volume_is_assumed():
    acl = copy.deepcopy(sample("prod", WEB_ACL_T))
    del acl["tags"]
    estimate = cost.estimate([(WEB_ACL_T, acl, "acl")])
    assert any("no assumed request volume" in u for u in estimate.unpriced)


# --- public.auth (OIDC at the ALB) ----------------------------------------------------------

AUTH = {"type": "oidc", "issuer": "https://login.example.com", "authorizationEndpoint": "https://login.example.com/auth",
        "tokenEndpoint": "https://login.example.com/token", "userInfoEndpoint": "https://login.example.com/userinfo",
        "clientSecret": "oidc-client", "onUnauthenticatedRequest": "deny"}


def authed(secret: dict | None = None, **auth):
    return service(public={"host": "api.shop.example.com", "path": "/orders", "auth": {**AUTH, **auth}},
                   secrets=[secret or {"name": "oidc-client", "rotation": "third-party"}])


def test_auth_annotations_point_the_alb_at_the_provider_and_the_secret():
    from components.edge_auth import auth_annotations

    notes = auth_annotations(authed())
    assert notes["alb.ingress.kubernetes.io/auth-type"] == "oidc"
    assert notes["alb.ingress.kubernetes.io/auth-on-unauthenticated-request"] == "deny"
    assert json.loads(notes["alb.ingress.kubernetes.io/auth-idp-oidc"]) == {
        "issuer": "https://login.example.com", "authorizationEndpoint": "https://login.example.com/auth",
        "tokenEndpoint": "https://login.example.com/token", "userInfoEndpoint": "https://login.example.com/userinfo",
        "secretName": "orders-alb-oidc"}
    assert auth_annotations(public()) == {}


def test_the_client_credentials_come_from_secrets_manager_and_only_the_controller_reads_them():
    from components.edge_auth import oidc_external_secret_spec, reader_rules, reader_subjects

    spec = oidc_external_secret_spec(authed(), "prod", "team-secrets")
    assert spec["target"]["name"] == "orders-alb-oidc"
    assert [(d["secretKey"], d["remoteRef"]) for d in spec["data"]] == [
        ("clientID", {"key": "prod/checkout/orders/oidc-client", "property": "clientID"}),
        ("clientSecret", {"key": "prod/checkout/orders/oidc-client", "property": "clientSecret"})]
    assert reader_rules(authed()) == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["orders-alb-oidc"],
                                       "verbs": ["get", "list", "watch"]}]
    assert reader_subjects() == [{"kind": "ServiceAccount", "name": "aws-load-balancer-controller",
                                  "namespace": "aws-load-balancer"}]


@pytest.mark.parametrize("svc, needle", [
    (lambda: service(public={"host": "a.example.com", "auth": AUTH}), "is not one of the service's secrets"),
    (lambda: authed({"name": "oidc-client"}), "mark it `rotation: third-party`"),
])
def test_auth_secret_must_be_a_declared_third_party_secret(svc, needle):
    from paved.catalog import service_rules

    found = service_rules(svc())
    assert any(p == ("public", "auth", "clientSecret") and needle in m for p, m in found), found


@pytest.mark.parametrize("bad", [{"issuer": "http://login.example.com"}, {"type": "cognito"}, {"clientSecret": "A B"},
                                 {"onUnauthenticatedRequest": "redirect"}])
def test_bad_auth_fields_are_refused(bad):
    with pytest.raises(ValueError):
        authed(**bad)


def test_a_service_with_auth_plans_the_secret_the_role_and_the_annotations(tmp_path):
    from conftest import copy_project

    from paved import plan

    root = copy_project(tmp_path)
    catalog = root / "services_catalog.yaml"
    text = catalog.read_text()
    old = "    public: {host: api.shop.example.com, path: /orders, rateLimit: 1000}\n"
    new = ("    public:\n      host: api.shop.example.com\n      path: /orders\n      rateLimit: 1000\n"
           "      auth: " + json.dumps(AUTH) + "\n")
    text = text.replace(old, new).replace(
        "      - name: db-password\n        description: Password of the orders database user.\n",
        "      - {name: oidc-client, rotation: third-party, description: OIDC client of the ALB.}\n"
        "      - name: db-password\n        description: Password of the orders database user.\n", 1)
    catalog.write_text(text)
    doc = plan.build("dev", catalog, root)[0]
    mine = {(r["type"].rsplit(":", 1)[-1], r["name"]): r for r in doc["resources"] if r["service"] == "orders"}
    ingress = mine[("Ingress", "orders-ingress")]
    assert ingress["inputs"]["metadata"]["annotations"]["alb.ingress.kubernetes.io/auth-type"] == "oidc"
    secret = mine[("ExternalSecret", "orders-alb-oidc")]
    binding = mine[("RoleBinding", "orders-alb-oidc-reader-binding")]
    assert secret["urn"] in ingress["options"]["dependsOn"] and binding["urn"] in ingress["options"]["dependsOn"]
    assert mine[("Role", "orders-alb-oidc-reader")]["inputs"]["rules"][0]["resourceNames"] == ["orders-alb-oidc"]


# --- Alertmanager egress (paved:observability.alertEgress) ----------------------------------


def _with_alert_egress(entries):
    from paved.stack import StackSettings

    data = SETTINGS.model_dump(by_alias=True)
    data["observability"]["alertEgress"] = entries
    return StackSettings.model_validate(data)


def test_alertmanager_egress_is_opened_for_its_pods_only():
    from components.observability import network_policy_specs

    settings = _with_alert_egress([{"cidr": "10.20.30.0/28", "ports": [3128], "description": "Egress proxy"},
                                   {"cidr": "203.0.113.10/32", "ports": [587, 465], "description": "SMTP relay"}])
    spec = network_policy_specs(settings)["allow-alertmanager-egress"]
    assert spec.pod_selector.match_labels == {"paved.dev/observability": "alertmanager"}
    assert spec.policy_types == ["Egress"] and not spec.ingress
    assert [(r.to[0].ip_block.cidr, [p.port for p in r.ports]) for r in spec.egress] == [
        ("10.20.30.0/28", [3128]), ("203.0.113.10/32", [587, 465])]
    assert all(p.protocol == "TCP" for r in spec.egress for p in r.ports)


def test_no_alertmanager_egress_without_the_setting():
    from components.observability import network_policy_specs

    assert "allow-alertmanager-egress" not in network_policy_specs(SETTINGS)


@pytest.mark.parametrize("entry", [{"cidr": "0.0.0.0/0", "ports": [443], "description": "x"},
                                   {"cidr": "10.0.0.1/8", "ports": [443], "description": "host bits"},
                                   {"cidr": "10.20.30.0/28", "ports": [], "description": "no port"}])
def test_bad_alertmanager_egress_is_refused(entry):
    with pytest.raises(ValueError):
        _with_alert_egress([entry])


def test_the_alertmanager_pods_carry_the_label_the_policy_selects():
    from components.addons.prometheus import kube_prometheus_stack_values

    values = kube_prometheus_stack_values(SETTINGS, [], None, ())
    assert values["alertmanager"]["alertmanagerSpec"]["podMetadata"]["labels"] == {"paved.dev/observability": "alertmanager"}
