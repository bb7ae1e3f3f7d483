"""The drift issue body from `pulumi refresh --preview-only --json` (paved.diff.drift)."""

from __future__ import annotations

import json

from paved.diff import drift

STACK_URN = "urn:pulumi:prod::paved::pulumi:pulumi:Stack::paved-prod"
ROLE = "urn:pulumi:prod::paved::paved:identity:ServiceIdentity$aws:iam/role:Role::orders-identity-role"
NETPOL = "urn:pulumi:prod::paved::paved:service:Microservice$kubernetes:networking.k8s.io/v1:NetworkPolicy::orders-netpol"
REFRESH = {
    "steps": [
        {"op": "same", "urn": STACK_URN},
        {"op": "update", "urn": ROLE, "detailedDiff": {"maxSessionDuration": {"kind": "update"}}},
        {"op": "delete", "urn": NETPOL},
        {"op": "same", "urn": "urn:pulumi:prod::paved::aws:s3/bucket:Bucket::b"},
    ],
    "changeSummary": {"same": 214, "update": 1, "delete": 1},
}


def test_body_summarises_and_lists_the_drifted_resources():
    body = drift.body(REFRESH, "prod", "https://example.com/run/1")
    assert body.startswith("<!-- paved-drift:prod -->\n## Drift in stack `prod`")
    assert "| create | update | replace | delete | unchanged |" in body and "| 0 | 1 | 0 | 1 | 214 |" in body
    assert "iam/Role <code>orders-identity-role</code> | <code>maxSessionDuration</code>" in body
    assert "NetworkPolicy <code>orders-netpol</code>" in body and "[The run](https://example.com/run/1)" in body
    assert "<b>2 drifted resource(s)</b>" in body


def test_exit_codes(tmp_path, capsys):
    found = tmp_path / "refresh.json"
    found.write_text(json.dumps(REFRESH))
    out = tmp_path / "drift.md"
    assert drift.main([str(found), "--stack", "prod", "--output", str(out)]) == 1
    assert out.read_text().startswith("<!-- paved-drift:prod -->")
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"steps": [{"op": "same", "urn": STACK_URN}], "changeSummary": {"same": 1}}))
    assert drift.main([str(clean), "--stack", "prod"]) == 0 and capsys.readouterr().out == ""
    broken = tmp_path / "broken.json"
    broken.write_text("error: no stack named prod\n")
    assert drift.main([str(broken), "--stack", "prod"]) == 2
    assert "the refresh failed" in capsys.readouterr().err


def test_body_stays_within_a_comment():
    many = {"steps": [{"op": "update", "urn": f"{ROLE}-{i}", "detailedDiff": {f"p{j}": {} for j in range(30)}}
                      for i in range(3000)]}
    body = drift.body(many, "dev")
    assert len(body) <= 65_000 and "more not shown" in body
