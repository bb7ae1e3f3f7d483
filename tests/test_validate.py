"""`paved validate`: every error kind, each with its file, line, field path and message.

Every bad catalog is tests/catalogs/minimal.yaml (valid) with one thing changed, so the
expected line is the line of the change. Messages print as
``FILE:LINE:COL: services[<name>].<field path>: <message>``; the CLI exits 1 on problems
and never shows a traceback. Stack caps come from the repo's own stacks/ (dev:
paved:maxReplicas 4, prod: paved:minReplicas 2).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from paved.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "catalogs" / "minimal.yaml").read_text(encoding="utf-8")
SUMMARY = re.compile(r"^paved: (\d+) problem\(s\) found$")


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate against the repo's real stacks/ (dev, staging, prod)."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))


# --- helpers --------------------------------------------------------------------------------


def mutate(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced by ``new``."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in the catalog"
    return text.replace(old, new)


def line_of(text: str, needle: str, last: bool = False) -> int:
    """1-based number of the line containing ``needle`` (the only one, or the last one)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert hits, f"{needle!r} is on no line"
    if not last:
        assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[-1]


@dataclass
class Reported:
    line: int
    col: int
    rest: str  # "FIELD: MESSAGE", or "MESSAGE" when there is no field


@dataclass
class Result:
    rc: int
    out: str
    err: str
    reported: list[Reported]

    def at(self, field: str) -> list[tuple[int, str]]:
        """(line, message) of every problem reported for ``field``."""
        return [(r.line, r.rest[len(field) + 2:]) for r in self.reported if r.rest.startswith(f"{field}: ")]

    def one(self, field: str) -> tuple[int, str]:
        found = self.at(field)
        assert len(found) == 1, f"expected one problem at {field}, got {found}\n{self.err}"
        return found[0]


def parse(rc: int, out: str, err: str, file: str) -> Result:
    """Split stderr into problems; every line must be a problem or the final summary."""
    reported: list[Reported] = []
    lines = err.splitlines()
    for line in lines:
        if SUMMARY.match(line):
            continue
        m = re.match(rf"^{re.escape(file)}:(\d+):(\d+): (.+)$", line)
        assert m, f"not FILE:LINE:COL: ...: {line!r}"
        reported.append(Reported(int(m[1]), int(m[2]), m[3]))
    if rc != 0:
        assert lines and SUMMARY.match(lines[-1]), err
        assert int(SUMMARY.match(lines[-1])[1]) == len(reported)
    return Result(rc, out, err, reported)


def run_cli(capsys: pytest.CaptureFixture[str], path: Path | str) -> Result:
    rc = main(["validate", "--catalog", str(path)])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return parse(rc, cap.out, cap.err, str(path))


def validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> Result:
    """Write ``text`` as a catalog and run `paved validate` on it in-process."""
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return run_cli(capsys, path)


def expect(res: Result, field: str, line: int, *parts: str, total: int | None = 1) -> str:
    """Exit code 1, one problem at ``field`` on ``line`` whose message holds every part."""
    assert res.rc == 1, res.err
    got_line, message = res.one(field)
    assert got_line == line, f"{field} reported on line {got_line}, expected {line}\n{res.err}"
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    if total is not None:
        assert len(res.reported) == total, res.err
    return message


# --- the passing fixture --------------------------------------------------------------------


def test_minimal_catalog_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = validate(tmp_path, capsys, BASE)
    assert res.rc == 0, res.err
    assert res.err == ""
    assert res.out.strip() == f"{tmp_path / 'catalog.yaml'}: 2 teams, 3 services, valid for stacks: dev, staging, prod"


def test_repo_catalog_is_valid_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["validate"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert cap.out.strip() == "services_catalog.yaml: 4 teams, 6 services, valid for stacks: dev, staging, prod"


# --- the document itself ------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path, capsys):
    bad = mutate("      requests: {cpu: 250m, memory: 256Mi}", "      requests: {cpu: 250m,, memory: 256Mi}")
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 1
    assert len(res.reported) == 1
    (r,) = res.reported
    assert r.line == line_of(bad, "250m,,")
    assert r.rest.startswith("YAML syntax error: ")


@pytest.mark.parametrize(
    ("text", "got"),
    [("- teams\n- services\n", "list"), ("just a string\n", "str"), ("42\n", "int"), ("", "NoneType"), ("# only a comment\n", "NoneType")],
    ids=["list", "string", "number", "empty", "comment-only"],
)
def test_document_not_a_mapping(tmp_path, capsys, text, got):
    res = validate(tmp_path, capsys, text)
    assert res.rc == 1
    assert [(r.line, r.rest) for r in res.reported] == [
        (1, f"the catalog must be a mapping with `teams` and `services` (got {got})")
    ]


def test_file_does_not_exist(tmp_path, capsys):
    res = run_cli(capsys, tmp_path / "nope.yaml")
    assert res.rc == 1
    assert [(r.line, r.rest) for r in res.reported] == [(1, "file not found")]


def test_file_not_utf8(tmp_path, capsys):
    path = tmp_path / "catalog.yaml"
    path.write_bytes(b"teams: \xff\xfe\n")
    res = run_cli(capsys, path)
    assert res.rc == 1
    assert len(res.reported) == 1 and res.reported[0].rest.startswith("not UTF-8 text")


def test_recursive_alias_is_an_error_not_a_crash(tmp_path, capsys):
    res = validate(tmp_path, capsys, "teams: &a [*a]\n")
    assert res.rc == 1
    assert [r.rest for r in res.reported] == ["YAML error: an alias refers to the node that contains it (recursive alias)"]


# --- unknown keys, with suggestions -------------------------------------------------------


def test_unknown_top_level_key(tmp_path, capsys):
    bad = BASE + "servces: []\n"
    res = validate(tmp_path, capsys, bad)
    expect(res, "servces", line_of(bad, "servces:"), "unknown field 'servces'", "did you mean 'services'?")


def test_unknown_team_key(tmp_path, capsys):
    bad = mutate("    owner: checkout@example.com\n", "    owner: checkout@example.com\n    ownr: me\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].ownr", line_of(bad, "ownr:"), "unknown field 'ownr'", "did you mean 'owner'?")


def test_unknown_service_key(tmp_path, capsys):
    bad = mutate("    description: Takes orders.\n", "    description: Takes orders.\n    descripton: typo\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].descripton", line_of(bad, "descripton:"), "did you mean 'description'?")


def test_unknown_nested_key(tmp_path, capsys):
    bad = mutate("    scaling: {min: 2, max: 4}", "    scaling: {min: 2, max: 4, mni: 1}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].scaling.mni", line_of(bad, "mni: 1"), "unknown field 'mni'", "did you mean 'min'?")


def test_unknown_key_inside_override(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}", "        scaling: {min: 2, max: 6, mxa: 6}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.scaling.mxa", line_of(bad, "mxa: 6"),
           "unknown field 'mxa'", "did you mean 'max'?")


def test_unknown_override_section(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}", "        scalng: {min: 2, max: 6}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.scalng", line_of(bad, "scalng:"), "did you mean 'scaling'?")


# --- duplicate keys and names -------------------------------------------------------------


def test_duplicate_yaml_key(tmp_path, capsys):
    bad = mutate("    port: 8080\n", "    port: 8080\n    port: 8082\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].port", line_of(bad, "port: 8082"), "duplicate key 'port'")


def test_duplicate_yaml_key_later_block_is_the_one_located(tmp_path, capsys):
    # The later `scaling` wins; its min > max must point at its own line, not the first block's.
    bad = mutate("    scaling: {min: 2, max: 3}\n", "    scaling: {min: 2, max: 3}\n    scaling: {min: 3, max: 1}\n")
    res = validate(tmp_path, capsys, bad)
    second = line_of(bad, "{min: 3, max: 1}")
    assert res.at("services[inventory].scaling") == [(second, "duplicate key 'scaling'")]
    expect(res, "services[inventory].scaling.min", second, "min (3) is greater than max (1)", total=2)


@pytest.mark.parametrize(
    ("old", "new", "field", "needle", "kind"),
    [
        ("  - name: orders\n", "  - name: Orders_Svc\n", "services[Orders_Svc].name", "Orders_Svc", "DNS-1035"),
        ("\nservices:\n",
         '  - name: Data_Team\n    owner: data@example.com\n    costCenter: cc-3\n    quota: {cpu: "1", memory: 1Gi, pods: 5}\n'
         '    alerts: {slack: {channel: "#data"}}\n\nservices:\n',
         "teams[Data_Team].name", "Data_Team", "DNS-1123"),
        ("    secrets: [db-password]", "    secrets: [DB_Password]", "services[orders].secrets[0].name", "DB_Password", "DNS-1123"),
        ("  - name: shipping\n", "  - name: shipping-\n", "services[shipping-].name", "shipping-", "DNS-1035"),
        ("  - name: shipping\n", "  - name: 9shipping\n", "services[9shipping].name", "9shipping", "DNS-1035"),
        ("  - name: shipping\n", f"  - name: {'s' * 64}\n", f"services[{'s' * 64}].name", "s" * 64, "DNS-1035"),
        ("    secrets: [db-password]", f"    secrets: [{'d' * 64}]", "services[orders].secrets[0].name", "d" * 64, "DNS-1123"),
    ],
    ids=["service", "team", "secret", "trailing-dash", "leading-digit", "service-too-long", "secret-too-long"],
)
def test_name_not_dns_label(tmp_path, capsys, old, new, field, needle, kind):
    bad = mutate(old, new)
    res = validate(tmp_path, capsys, bad)
    expect(res, field, line_of(bad, needle), f"{needle!r} is not a {kind} label")


def test_duplicate_service_name(tmp_path, capsys):
    shipping = BASE[BASE.index("  - name: shipping"):]
    bad = BASE + "\n" + shipping
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[shipping].name", line_of(bad, "- name: shipping", last=True),
           "duplicate name 'shipping'", "services[2]")


def test_duplicate_team_name(tmp_path, capsys):
    team = BASE[BASE.index("  - name: checkout"):BASE.index("  - name: fulfillment")]
    bad = mutate("\nservices:\n", team + "\nservices:\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "teams[checkout].name", line_of(bad, "- name: checkout", last=True),
           "duplicate name 'checkout'", "teams[0]")


def test_duplicate_team_is_listed_once_in_suggestions(tmp_path, capsys):
    team = BASE[BASE.index("  - name: checkout"):BASE.index("  - name: fulfillment")]
    bad = mutate("\nservices:\n", team + "\nservices:\n")
    bad = mutate("    team: checkout\n", "    team: data\n", bad)
    res = validate(tmp_path, capsys, bad)
    msg = expect(res, "services[orders].team", line_of(bad, "team: data"), total=2)
    assert msg == "unknown team 'data'; teams are: checkout, fulfillment"


# --- references between entries ------------------------------------------------------------


def test_unknown_team(tmp_path, capsys):
    bad = mutate("    team: checkout\n", "    team: checkuot\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].team", line_of(bad, "checkuot"),
           "unknown team 'checkuot'", "did you mean 'checkout'?", "teams are: checkout, fulfillment")


def test_empty_team_list_leaves_every_team_unknown(tmp_path, capsys):
    bad = "teams: []\n\n" + BASE[BASE.index("services:"):]
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 1
    assert [(line, field_msg) for line, field_msg in res.at("services[orders].team")] == [
        (line_of(bad, "team: checkout"), "unknown team 'checkout'; teams are: (none)")
    ]
    assert len(res.reported) == 3  # orders, inventory, shipping


def test_call_to_unknown_service(tmp_path, capsys):
    bad = mutate("    calls: [inventory]", "    calls: [inventroy]")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].calls[0]", line_of(bad, "inventroy"),
           "unknown service 'inventroy'", "did you mean 'inventory'?")


def test_call_to_itself(tmp_path, capsys):
    bad = mutate("    calls: [inventory]", "    calls: [orders]")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].calls[0]", line_of(bad, "calls: [orders]"), "cannot declare a call to itself")


def test_calls_as_a_string_is_one_error_not_one_per_letter(tmp_path, capsys):
    bad = mutate("    calls: [inventory]", "    calls: inventory")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].calls", line_of(bad, "calls: inventory"), "should be a list", "got str 'inventory'")


def test_consumed_topic_without_producer(tmp_path, capsys):
    bad = mutate("      consumes: [order-placed]", "      consumes: [order-placd]")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].kafka.consumes[0]", line_of(bad, "order-placd"),
           "topic 'order-placd' is produced by no service", "did you mean 'order-placed'?")


def test_consumes_as_a_string_is_one_error(tmp_path, capsys):
    bad = mutate("      consumes: [order-placed]", "      consumes: order-placed")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].kafka.consumes", line_of(bad, "consumes: order-placed"), "should be a list")


def test_topic_with_two_producers(tmp_path, capsys):
    bad = BASE.rstrip("\n") + "\n    kafka:\n      produces:\n        - {name: order-placed, partitions: 2}\n"
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[shipping].kafka.produces[order-placed].name", line_of(bad, "partitions: 2"),
           "topic 'order-placed' is already produced by service 'orders'")


# --- scaling --------------------------------------------------------------------------------


def test_scaling_min_above_max(tmp_path, capsys):
    bad = mutate("    scaling: {min: 2, max: 4}", "    scaling: {min: 4, max: 3}")
    res = validate(tmp_path, capsys, bad)
    msg = expect(res, "services[orders].scaling.min", line_of(bad, "{min: 4, max: 3}"), "min (4) is greater than max (3)")
    assert "environment" not in msg  # wrong everywhere: reported once, for the base entry


def test_scaling_min_above_max_in_one_environment(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}", "        scaling: {min: 7, max: 6}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.scaling.min", line_of(bad, "{min: 7, max: 6}"),
           "min (7) is greater than max (6)", "(in environment prod)")


def test_scaling_max_above_dev_cap(tmp_path, capsys):
    bad = mutate("    scaling: {min: 2, max: 3}", "    scaling: {min: 2, max: 5}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].scaling.max", line_of(bad, "{min: 2, max: 5}"),
           "max (5) is above this stack's cap paved:maxReplicas (4)", "(in environment dev)")


def test_scaling_min_below_prod_floor(tmp_path, capsys):
    bad = mutate("    scaling: {min: 2, max: 3}", "    scaling: {min: 1, max: 3}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[inventory].scaling.min", line_of(bad, "{min: 1, max: 3}"),
           "min (1) is below this stack's floor paved:minReplicas (2)", "(in environment prod)")


def test_scaling_min_below_prod_floor_in_override(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}", "        scaling: {min: 1, max: 6}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.scaling.min", line_of(bad, "{min: 1, max: 6}"),
           "paved:minReplicas (2)", "(in environment prod)")


def test_override_for_unknown_stack(tmp_path, capsys):
    bad = mutate("      prod:\n", "      qa:\n")
    res = validate(tmp_path, capsys, bad)
    msg = expect(res, "services[orders].overrides.qa", line_of(bad, "qa:"), "no stack 'qa'", "stacks/Pulumi.qa.yaml")
    assert "stacks are: " in msg
    assert set(msg.split("stacks are: ")[1].split(", ")) == {"dev", "staging", "prod"}


# --- field values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "message"),
    [("0", "greater than or equal to 1"), ("70000", "less than or equal to 65535"), ("-1", "greater than or equal to 1")],
)
def test_port_out_of_range(tmp_path, capsys, port, message):
    bad = mutate("    port: 8080\n", f"    port: {port}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].port", line_of(bad, f"port: {port}"), message)


@pytest.mark.parametrize(
    ("old", "new", "field", "parts"),
    [
        ("    port: 8080\n", '    port: "8080"\n', "services[orders].port", ("valid integer", "got str '8080'")),
        ("    scaling: {min: 2, max: 4}", "    scaling: {min: true, max: 4}", "services[orders].scaling.min", ("valid integer", "got bool True")),
        ("      LOG_LEVEL: info", "      LOG_LEVEL: 3", "services[orders].env.LOG_LEVEL", ("valid string", "got int 3")),
        ("    description: Tracks stock.", "    description: 2024-01-01", "services[inventory].description", ("valid string", "got date")),
    ],
    ids=["port-string", "min-bool", "env-number", "description-date"],
)
def test_wrong_type(tmp_path, capsys, old, new, field, parts):
    bad = mutate(old, new)
    res = validate(tmp_path, capsys, bad)
    expect(res, field, line_of(bad, new.strip()), *parts)


@pytest.mark.parametrize(
    ("new", "field", "message"),
    [
        ("{cpu: 250x, memory: 256Mi}", "services[orders].resources.requests.cpu", "'250x' is not a CPU quantity"),
        ("{cpu: 250m, memory: 1GB}", "services[orders].resources.requests.memory", "'1GB' is not a memory quantity"),
    ],
    ids=["cpu", "memory"],
)
def test_malformed_quantity(tmp_path, capsys, new, field, message):
    bad = mutate("      requests: {cpu: 250m, memory: 256Mi}", f"      requests: {new}")
    res = validate(tmp_path, capsys, bad)
    expect(res, field, line_of(bad, new), message)


@pytest.mark.parametrize(
    ("limits", "resource", "message"),
    [
        ("{cpu: 100m, memory: 512Mi}", "cpu", "limit 100m is below the request 250m"),
        ("{cpu: 500m, memory: 128Mi}", "memory", "limit 128Mi is below the request 256Mi"),
        ('{cpu: "2", memory: 512Mi}', "cpu", "limit 2 is more than 4x the request 250m; the namespace LimitRange would reject the pod"),
        ("{cpu: 500m, memory: 1Gi}", "memory", "limit 1Gi is more than 2x the request 256Mi; the namespace LimitRange would reject the pod"),
    ],
    ids=["cpu-below", "memory-below", "cpu-ratio", "memory-ratio"],
)
def test_limits_against_requests(tmp_path, capsys, limits, resource, message):
    bad = mutate("      limits: {cpu: 500m, memory: 512Mi}", f"      limits: {limits}")
    res = validate(tmp_path, capsys, bad)
    msg = expect(res, f"services[orders].resources.limits.{resource}", line_of(bad, limits), message)
    assert msg == message


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("registry.example.com/shop/orders", "has no tag; pin a version"),
        ("registry.example.com/shop/orders:latest", "uses the floating tag 'latest'"),
    ],
    ids=["no-tag", "latest"],
)
def test_image_must_be_pinned(tmp_path, capsys, image, message):
    bad = mutate("    image: registry.example.com/shop/orders:1.0.0", f"    image: {image}")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].image", line_of(bad, "image: registry.example.com/shop/orders"), message)


def test_image_pinned_by_digest_is_valid(tmp_path, capsys):
    bad = mutate("registry.example.com/shop/orders:1.0.0", "registry.example.com/shop/orders@sha256:" + "a" * 64)
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 0, res.err


# --- secrets in plain env vars ----------------------------------------------------------------


@pytest.mark.parametrize("var", ["DB_PASSWORD", "API_TOKEN", "CLIENT_SECRET", "SIGNING_KEY", "db_password"])
def test_secret_looking_env_var(tmp_path, capsys, var):
    bad = mutate("    description: Tracks stock.\n", f"    description: Tracks stock.\n    env: {{{var}: hunter2}}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, f"services[inventory].env.{var}", line_of(bad, var),
           f"{var} looks like a credential", "declare it under `secrets`")


def test_secret_looking_env_var_in_override(tmp_path, capsys):
    bad = mutate("        scaling: {min: 2, max: 6}\n", "        scaling: {min: 2, max: 6}\n        env: {API_TOKEN: abc}\n")
    res = validate(tmp_path, capsys, bad)
    expect(res, "services[orders].overrides.prod.env.API_TOKEN", line_of(bad, "API_TOKEN"),
           "looks like a credential", "(in environment prod)")


@pytest.mark.parametrize("var", ["KEYBOARD_LAYOUT", "TOKENIZER_MODEL", "SECRETARY_EMAIL", "TURKEY_MODE", "PASSWORDLESS_LOGIN"])
def test_harmless_env_var_is_not_flagged(tmp_path, capsys, var):
    # The rule is segment-based: KEYBOARD is not the segment KEY.
    bad = mutate("    description: Tracks stock.\n", f"    description: Tracks stock.\n    env: {{{var}: x}}\n")
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 0, res.err
    assert "KEYBOARD_LAYOUT: us" in BASE and "LOG_LEVEL: info" in BASE  # the fixture's own, also passing


# --- missing fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "field", "entry"),
    [
        ("    description: Takes orders.\n", "services[orders].description", "- name: orders"),
        ("    port: 9090\n", "services[shipping].port", "- name: shipping"),
        ("    owner: checkout@example.com\n", "teams[checkout].owner", "- name: checkout"),
    ],
    ids=["service-description", "service-port", "team-owner"],
)
def test_missing_required_field(tmp_path, capsys, old, field, entry):
    bad = mutate(old, "")
    res = validate(tmp_path, capsys, bad)
    expect(res, field, line_of(bad, entry), "required field is missing")


def test_missing_services_list(tmp_path, capsys):
    bad = BASE[:BASE.index("services:")]
    res = validate(tmp_path, capsys, bad)
    expect(res, "services", line_of(bad, "teams:"), "required field is missing")


# --- everything at once ---------------------------------------------------------------------


def three_errors() -> tuple[str, list[tuple[int, str, str]]]:
    bad = mutate("orders:1.0.0", "orders:latest")
    bad = mutate("    port: 8081\n", "    port: 0\n", bad)
    bad = mutate("    team: fulfillment\n    description: Books carriers.", "    team: fulfilment\n    description: Books carriers.", bad)
    expected = [
        (line_of(bad, "orders:latest"), "services[orders].image", "floating tag 'latest'"),
        (line_of(bad, "port: 0"), "services[inventory].port", "greater than or equal to 1"),
        (line_of(bad, "team: fulfilment"), "services[shipping].team", "did you mean 'fulfillment'?"),
    ]
    return bad, expected


def test_all_errors_reported_at_once(tmp_path, capsys):
    bad, expected = three_errors()
    res = validate(tmp_path, capsys, bad)
    assert res.rc == 1
    assert len(res.reported) == 3, res.err
    for line, field, part in expected:
        got_line, message = res.one(field)
        assert got_line == line and part in message
    assert res.err.splitlines()[-1] == "paved: 3 problem(s) found"


def test_subprocess_reports_all_errors_without_traceback(tmp_path):
    bad, expected = three_errors()
    path = tmp_path / "catalog.yaml"
    path.write_text(bad, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "paved", "validate", "--catalog", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    res = parse(proc.returncode, proc.stdout, proc.stderr, str(path))
    assert [(r.line, r.rest.split(": ")[0]) for r in res.reported] == [(line, field) for line, field, _ in expected]


def test_subprocess_valid_catalog(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(BASE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "paved", "validate", "--catalog", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.strip().endswith("2 teams, 3 services, valid for stacks: dev, staging, prod")


def test_api_definition_must_exist(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))
    text = (ROOT / "services_catalog.yaml").read_text().replace(
        "definition: sample_services/orders/openapi.yaml", "definition: sample_services/orders/missing.yaml")
    catalog = tmp_path / "services_catalog.yaml"
    catalog.write_text(text)
    assert main(["validate", "--catalog", str(catalog)]) == 1
    err = capsys.readouterr().err
    assert "services[orders].api.definition: file 'sample_services/orders/missing.yaml' not found" in err


def test_a_cached_catalog_is_not_returned_for_stricter_settings():
    """The in-process cache of validated catalogs must never skip a stack's caps."""
    from paved.catalog import load_catalog
    from paved.errors import InputError
    from paved.stack import load_stack

    dev = load_stack(ROOT, "dev")
    envs = {"dev": None, "staging": None, "prod": None}
    load_catalog(ROOT / "services_catalog.yaml", envs)  # cached without caps
    strict = dev.model_copy(update={"max_replicas": 1})
    with pytest.raises(InputError, match="above this stack's cap paved:maxReplicas \\(1\\)"):
        load_catalog(ROOT / "services_catalog.yaml", {**envs, "dev": strict})
    # ... while the same or weaker settings are a cache hit.
    first = load_catalog(ROOT / "services_catalog.yaml", {**envs, "dev": dev})
    assert load_catalog(ROOT / "services_catalog.yaml", {**envs, "dev": dev}) is first
    assert load_catalog(ROOT / "services_catalog.yaml", envs) is not None
