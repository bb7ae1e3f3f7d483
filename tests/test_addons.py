"""Chart add-ons against what their upstreams need: IAM actions, HA values, spread selectors."""

from __future__ import annotations

import pytest

from components.addons.aws_load_balancer_controller import controller_statements
from conftest import STACKS, planned

# Every action of upstream's docs/install/iam_policy.json at the pinned controller (v3.5.0,
# kubernetes-sigs/aws-load-balancer-controller), as action names: the controller calls these.
UPSTREAM_LB_ACTIONS = {
    "acm:DescribeCertificate", "acm:ListCertificates", "cognito-idp:DescribeUserPoolClient",
    "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteSecurityGroup",
    "ec2:DeleteTags", "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
    "ec2:DescribeCoipPools", "ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeIpamPools",
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
    "ec2:DescribeTags", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeVpcs", "ec2:GetCoipPoolUsage",
    "ec2:GetSecurityGroupsForVpc", "ec2:RevokeSecurityGroupIngress", "elasticloadbalancing:AddListenerCertificates",
    "elasticloadbalancing:AddTags", "elasticloadbalancing:CreateListener", "elasticloadbalancing:CreateLoadBalancer",
    "elasticloadbalancing:CreateRule", "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteListener",
    "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:DeleteTargetGroup",
    "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeTrustStores",
    "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
    "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
    "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:ModifyRule",
    "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
    "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:RemoveListenerCertificates",
    "elasticloadbalancing:RemoveTags", "elasticloadbalancing:SetIpAddressType", "elasticloadbalancing:SetRulePriorities",
    "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:SetWebAcl",
    "iam:CreateServiceLinkedRole", "iam:GetServerCertificate", "iam:ListServerCertificates", "shield:CreateProtection",
    "shield:DeleteProtection", "shield:DescribeProtection", "shield:GetSubscriptionState", "waf-regional:AssociateWebACL",
    "waf-regional:DisassociateWebACL", "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource",
    "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACL", "wafv2:GetWebACLForResource",
}
# What paved leaves out on purpose, each for a feature the values turn off or the platform does
# not use. Anything else upstream needs must be granted.
LB_NOT_NEEDED = {
    # Certificates come from the stack's certificateArn (DescribeCertificate on it), never discovered.
    "acm:ListCertificates", "iam:GetServerCertificate", "iam:ListServerCertificates",
    # No Cognito authentication on the ALB, no Outposts (customer-owned IP pools), no IPAM pools,
    # no load balancer capacity reservations.
    "cognito-idp:DescribeUserPoolClient", "ec2:GetCoipPoolUsage", "elasticloadbalancing:ModifyIpPools",
    "elasticloadbalancing:ModifyCapacityReservation",
    # enableShield and enableWaf (Classic) are false in the chart values; WAFv2 is on with a web ACL.
    "shield:CreateProtection", "shield:DeleteProtection", "shield:DescribeProtection", "shield:GetSubscriptionState",
    "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL", "waf-regional:GetWebACL",
    "waf-regional:GetWebACLForResource",
}
WAFV2_ACTIONS = {"wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACL", "wafv2:GetWebACLForResource",
                 "elasticloadbalancing:SetWebAcl"}
WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/paved-prod-edge/0a1b"


def _granted(action: str, statements: list[dict]) -> bool:
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for granted in actions:
            if granted == action or (granted.endswith("*") and action.startswith(granted[:-1])):
                return True
    return False


def test_load_balancer_controller_has_every_upstream_action_it_uses():
    statements = controller_statements("aws", "us-east-1", "123456789012", "vpc-0abc", "sg-0abc",
                                       "arn:aws:acm:us-east-1:123456789012:certificate/x", WEB_ACL)
    missing = sorted(a for a in UPSTREAM_LB_ACTIONS - LB_NOT_NEEDED if not _granted(a, statements))
    assert missing == []
    assert LB_NOT_NEEDED <= UPSTREAM_LB_ACTIONS and WAFV2_ACTIONS <= UPSTREAM_LB_ACTIONS  # no stale entry
    assert not [a for a in LB_NOT_NEEDED if _granted(a, statements)]
    # The WAFv2 actions name the environment's web ACL and the ALBs, not "*" (SetWebAcl has no resource).
    (waf,) = [st for st in statements if st["Sid"] == "AssociateWebAcl"]
    assert waf["Resource"] == [WEB_ACL, "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/*/*"]
    # Without a web ACL (no public service), no WAF permission at all.
    bare = controller_statements("aws", "us-east-1", "123456789012", "vpc-0abc", "sg-0abc",
                                 "arn:aws:acm:us-east-1:123456789012:certificate/x")
    assert not [a for a in WAFV2_ACTIONS if _granted(a, bare)]


def _chart_deployments(stack: str) -> list[dict]:
    return [r for r in planned(stack)[0]["resources"]
            if r["type"] == "kubernetes:apps/v1:Deployment" and "kubernetes:helm.sh/v4:Chart$" in r["urn"]]


@pytest.mark.parametrize("stack", STACKS)
def test_every_chart_spread_selects_its_own_pods(stack):
    # A topologySpreadConstraint counts only the pods its labelSelector matches: the charts' own
    # selector labels differ, so each add-on passes them (components/addons/chart.zone_spread).
    for r in _chart_deployments(stack):
        template = r["inputs"]["spec"]["template"]
        labels = template["metadata"]["labels"]
        for constraint in template["spec"].get("topologySpreadConstraints") or []:
            wanted = constraint["labelSelector"]["matchLabels"]
            assert wanted and all(labels.get(k) == v for k, v in wanted.items()), (r["urn"], wanted, labels)


def test_prod_operators_are_highly_available_with_a_budget():
    resources = planned("prod")[0]["resources"]
    budgets = [r["inputs"] for r in resources if r["type"] == "kubernetes:policy/v1:PodDisruptionBudget"]
    for r in _chart_deployments("prod"):
        spec, name = r["inputs"]["spec"], r["inputs"]["metadata"]["name"]
        if spec.get("replicas") == 1:
            continue  # the recorded singletons (docs/exceptions.md)
        labels = spec["template"]["metadata"]["labels"]
        assert any(b["metadata"]["namespace"] == r["inputs"]["metadata"]["namespace"]
                   and all(labels.get(k) == v for k, v in b["spec"]["selector"]["matchLabels"].items())
                   for b in budgets), f"{name} has no PodDisruptionBudget"
    replicas = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"].get("replicas") for r in _chart_deployments("prod")}
    for name in ("paved-secrets-eso-external-secrets", "paved-secrets-eso-external-secrets-webhook",
                 "paved-secrets-reloader-reloader", "paved-metrics-server",
                 "paved-cluster-autoscaler-aws-cluster-autoscaler"):
        assert replicas[name] == 2, (name, replicas[name])
    reloader = next(r for r in _chart_deployments("prod") if r["inputs"]["metadata"]["name"] == "paved-secrets-reloader-reloader")
    args = reloader["inputs"]["spec"]["template"]["spec"]["containers"][0].get("args") or []
    env = {e["name"] for e in reloader["inputs"]["spec"]["template"]["spec"]["containers"][0].get("env") or []}
    # Two Reloaders without leader election would each restart the same pods.
    assert any("leader" in str(a).lower() for a in args) or any("LEADER" in e or "POD_NAME" in e for e in env), (args, env)


def test_dev_operators_run_one_replica():
    replicas = {r["inputs"]["metadata"]["name"]: r["inputs"]["spec"].get("replicas") for r in _chart_deployments("dev")}
    assert replicas["paved-secrets-eso-external-secrets"] == 1 and replicas["paved-metrics-server"] == 1


def test_grafana_reads_no_secrets():
    resources = planned("prod")[0]["resources"]
    roles = {r["inputs"]["metadata"]["name"]: r["inputs"] for r in resources
             if r["type"] == "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"}
    for r in resources:
        if r["type"].endswith("RoleBinding") and any(s.get("name") == "grafana" for s in r["inputs"].get("subjects") or []):
            role = roles[r["inputs"]["roleRef"]["name"]]
            assert all("secrets" not in rule.get("resources", []) for rule in role["rules"]), r["urn"]
