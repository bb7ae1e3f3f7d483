"""Quota room for rollouts (issue 11): `paved validate` refuses a team whose ResourceQuota
cannot hold every service at maximum replicas plus one rolling-update surge pod each, on
the line of the quota field, with the same computation as PAVED-DEP-008."""

from __future__ import annotations

import pytest

from test_validate import line_of, mutate, validate  # noqa: F401  (fixture)
from test_validate_families import refused_at

CHECKOUT_QUOTA = '    quota: {cpu: "4", memory: 8Gi, pods: 20}\n'


def _with(quota: str) -> str:
    from test_validate import BASE

    head, tail = BASE.split(CHECKOUT_QUOTA, 1)
    return head + f"    quota: {quota}\n" + tail


@pytest.mark.parametrize(
    ("quota", "field", "need"),
    [
        # prod: orders at 6 replicas + 1 surge = 7 pods of 250m / 256Mi.
        ('{cpu: "1.5", memory: 8Gi, pods: 20}', "quota.cpu", "need 1.75"),
        ('{cpu: "4", memory: 1536Mi, pods: 20}', "quota.memory", "need 1792Mi"),
        ('{cpu: "4", memory: 8Gi, pods: 6}', "quota.pods", "need 7"),
    ],
)
def test_quota_without_room_for_the_surge_is_refused(tmp_path, capsys, quota, field, need):
    text = _with(quota)
    msg = refused_at(validate(tmp_path, capsys, text), line_of(text, f"    quota: {quota}"), need, "surge",
                     "(in environment prod)")
    assert field in msg


def test_quota_exactly_at_max_replicas_is_refused(tmp_path, capsys):
    # 6 pods is what prod's max alone needs: the rollout's seventh pod has no room.
    text = _with('{cpu: "1.5", memory: 1536Mi, pods: 6}')
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    for field in ("teams[checkout].quota.cpu", "teams[checkout].quota.memory", "teams[checkout].quota.pods"):
        assert res.at(field), res.err


def test_quota_with_room_for_the_surge_is_valid(tmp_path, capsys):
    text = _with('{cpu: "1.75", memory: 1792Mi, pods: 7}')
    assert validate(tmp_path, capsys, text).rc == 0


def test_validate_and_the_deploy_rule_share_one_computation():
    from decimal import Decimal

    from paved.catalog import rollout_need
    from paved.resources import surge_pods
    from policies.rules.deploy import dep_008_quota_covers_rollout as rule

    assert rule.surge_pods is surge_pods
    assert surge_pods("Deployment", "RollingUpdate", None, 10) == 3  # 25% rounded up
    assert surge_pods("Deployment", "Recreate", 5, 10) == 0
    assert surge_pods("StatefulSet", None, None, 10) == 0
    from paved.catalog import load_catalog
    from conftest import ROOT

    catalog = load_catalog(ROOT / "services_catalog.yaml", {env: None for env in ("dev", "staging", "prod")})
    catalog = catalog.for_environment("prod")
    need = rollout_need(list(catalog.services_of("checkout")))
    assert need.pods == sum(s.scaling.max + 1 for s in catalog.services_of("checkout"))
    assert need.cpu > Decimal(0)
