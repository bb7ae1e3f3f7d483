"""Stack settings: `stacks/Pulumi.<env>.yaml` read by `load_stack` (with key and line on
every problem) and by `settings_from_config` (the Pulumi program's path, string values).

Bad stack files live in a temporary project root, each one line away from a valid dev
stack, so the expected line is the line of the change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paved.cli import main
from paved.errors import InputError, Issue, UsageError
from paved.stack import StackSettings, list_stacks, load_stack, pulumi_config, read_config, settings_from_config

ROOT = Path(__file__).resolve().parents[1]
FILE = "stacks/Pulumi.dev.yaml"

DEV = """\
# A dev stack for tests.
config:
  aws:region: us-east-1
  paved:environment: dev
  paved:kubernetesVersion: "1.31"
  paved:clusterName: paved-dev
  paved:maxReplicas: 4
  paved:minReplicas: 1
  paved:zoneSpread: ScheduleAnyway
  paved:protectStateful: false
  paved:imagePullPolicy: IfNotPresent
  kubernetes:enableServerSideApply: true
  paved:platformOwner: platform@example.com
  paved:platformCostCenter: cc-0100
  paved:kmsDeletionWindowDays: 7
  paved:network:
    mode: create
    cidr: 10.10.0.0/16
    zones: 2
    natGateways: single
  paved:cluster:
    mode: create
    endpointPublicAccessCidrs: [203.0.113.0/24]
    logRetentionDays: 14
    deletionProtection: false
    identity: podIdentity
    nodeGroups:
      - {name: general, instanceTypes: [t3.large], minSize: 2, maxSize: 4, desiredSize: 2, capacityType: SPOT, diskSizeGib: 30}
  paved:kafka:
    version: 3.6.0
    brokerType: kafka.t3.small
    brokersPerZone: 1
    volumeSizeGib: 20
    replicationFactor: 2
    minInsyncReplicas: 1
    enhancedMonitoring: DEFAULT
    logRetentionDays: 7
  paved:secrets:
    recoveryWindowDays: 7
  paved:observability:
    prometheusRetention: 7d
    prometheusStorageGib: 20
    prometheusReplicas: 1
    jaegerStorage: memory
    jaegerStorageGib: 1
    traceSamplingRatio: 1.0
"""

DEV_SETTINGS = StackSettings(
    environment="dev", aws_region="us-east-1", kubernetes_version="1.31", cluster_name="paved-dev",
    max_replicas=4, min_replicas=1, zone_spread="ScheduleAnyway", protect_stateful=False,
    image_pull_policy="IfNotPresent", platform_owner="platform@example.com", platform_cost_center="cc-0100",
    kms_deletion_window_days=7,
    network={"mode": "create", "cidr": "10.10.0.0/16", "zones": 2, "nat_gateways": "single"},
    cluster={"mode": "create", "endpoint_public_access_cidrs": ["203.0.113.0/24"], "log_retention_days": 14,
             "deletion_protection": False, "identity": "podIdentity",
             "node_groups": [{"name": "general", "instance_types": ["t3.large"], "min_size": 2, "max_size": 4,
                              "desired_size": 2, "capacity_type": "SPOT", "disk_size_gib": 30}]},
    kafka={"version": "3.6.0", "broker_type": "kafka.t3.small", "brokers_per_zone": 1, "volume_size_gib": 20,
           "replication_factor": 2, "min_insync_replicas": 1, "enhanced_monitoring": "DEFAULT", "log_retention_days": 7},
    secrets={"recovery_window_days": 7},
    observability={"prometheus_retention": "7d", "prometheus_storage_gib": 20, "prometheus_replicas": 1,
                   "jaeger_storage": "memory", "jaeger_storage_gib": 1, "trace_sampling_ratio": 1.0},
)


def make_root(tmp_path: Path, stacks: dict[str, str]) -> Path:
    """A project root the CLI recognises, with the given stack files."""
    root = tmp_path / "project"
    (root / "platform").mkdir(parents=True)
    (root / "stacks").mkdir()
    (root / "Pulumi.yaml").write_text("name: paved\nruntime: python\nmain: platform/\nstackConfigDir: stacks\n")
    (root / "platform" / "__main__.py").write_text("# placeholder\n")
    for env, text in stacks.items():
        (root / "stacks" / f"Pulumi.{env}.yaml").write_text(text, encoding="utf-8")
    return root


def mutate(old: str, new: str, text: str = DEV) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


def problems(tmp_path: Path, text: str, env: str = "dev") -> list[Issue]:
    root = make_root(tmp_path, {env: text})
    with pytest.raises(InputError) as info:
        load_stack(root, env)
    return info.value.issues


def only(issues: list[Issue], key: str) -> Issue:
    found = [i for i in issues if i.field == key]
    assert len(found) == 1, f"expected one problem for {key}, got {issues}"
    return found[0]


# --- load_stack -------------------------------------------------------------------------------


def test_valid_stack(tmp_path):
    root = make_root(tmp_path, {"dev": DEV})
    assert load_stack(root, "dev") == DEV_SETTINGS


@pytest.mark.parametrize("key", ["paved:maxReplicas", "paved:zoneSpread", "paved:clusterName", "aws:region"])
def test_missing_setting(tmp_path, key):
    bad = "".join(line for line in DEV.splitlines(keepends=True) if not line.startswith(f"  {key}:"))
    assert bad != DEV
    issues = problems(tmp_path, bad)
    assert issues == [Issue(FILE, line_of(bad, "config:"), 1, key, "required setting is missing")]


def test_misspelled_setting(tmp_path):
    bad = mutate("  paved:maxReplicas: 4", "  paved:maxReplica: 4")
    issues = problems(tmp_path, bad)
    typo = only(issues, "paved:maxReplica")
    assert (typo.file, typo.line, typo.col) == (FILE, line_of(bad, "paved:maxReplica:"), 3)
    assert typo.message == "unknown setting; did you mean 'paved:maxReplicas'?"
    # ...and the real key is then missing.
    assert only(issues, "paved:maxReplicas").message == "required setting is missing"
    assert len(issues) == 2


def test_misspelled_optional_setting(tmp_path):
    bad = mutate("  paved:imagePullPolicy: IfNotPresent", "  paved:imagePulPolicy: Always")
    issues = problems(tmp_path, bad)
    assert issues == [Issue(FILE, line_of(bad, "imagePulPolicy"), 3, "paved:imagePulPolicy",
                            "unknown setting; did you mean 'paved:imagePullPolicy'?")]


@pytest.mark.parametrize(
    ("old", "new", "key", "part"),
    [
        ("paved:maxReplicas: 4", "paved:maxReplicas: lots", "paved:maxReplicas", "valid integer"),
        ("paved:minReplicas: 1", "paved:minReplicas: 0", "paved:minReplicas", "greater than or equal to 1"),
        ("paved:protectStateful: false", "paved:protectStateful: maybe", "paved:protectStateful", "valid boolean"),
        ("paved:zoneSpread: ScheduleAnyway", "paved:zoneSpread: Sometimes", "paved:zoneSpread", "'ScheduleAnyway' or 'DoNotSchedule'"),
        ('paved:kubernetesVersion: "1.31"', "paved:kubernetesVersion: 1.31", "paved:kubernetesVersion", "valid string"),
        ("paved:clusterName: paved-dev", "paved:clusterName: Paved_Dev", "paved:clusterName", "not a DNS-1123 label"),
        ("aws:region: us-east-1", "aws:region: Virginia", "aws:region", "should match pattern"),
    ],
    ids=["int", "int-range", "bool", "literal", "version-as-float", "name", "region"],
)
def test_wrong_type_or_value(tmp_path, old, new, key, part):
    bad = mutate(old, new)
    issues = problems(tmp_path, bad)
    issue = only(issues, key)
    assert len(issues) == 1
    assert (issue.file, issue.line) == (FILE, line_of(bad, new))
    assert part in issue.message


def test_unsupported_kubernetes_version(tmp_path):
    bad = mutate('paved:kubernetesVersion: "1.31"', 'paved:kubernetesVersion: "1.19"')
    issues = problems(tmp_path, bad)
    assert issues == [Issue(FILE, line_of(bad, "1.19"), 3, "paved:kubernetesVersion",
                            "'1.19' is not a supported Kubernetes version (1.25..1.37)")]


def test_environment_must_match_stack_name(tmp_path):
    bad = mutate("paved:environment: dev", "paved:environment: staging")
    issues = problems(tmp_path, bad)
    assert issues == [Issue(FILE, line_of(bad, "paved:environment"), 3, "paved:environment",
                            "is 'staging' but the stack is 'dev'")]


def test_several_problems_at_once(tmp_path):
    bad = mutate("paved:maxReplicas: 4", "paved:maxReplicas: lots")
    bad = mutate('"1.31"', '"1.19"', bad)
    bad = mutate("paved:zoneSpread: ScheduleAnyway", "paved:zoneSpred: ScheduleAnyway", bad)
    issues = problems(tmp_path, bad)
    assert sorted((i.field, i.line) for i in issues) == sorted([
        ("paved:maxReplicas", line_of(bad, "lots")),
        ("paved:kubernetesVersion", line_of(bad, "1.19")),
        ("paved:zoneSpred", line_of(bad, "zoneSpred")),
        ("paved:zoneSpread", line_of(bad, "config:")),
    ])


def test_stack_file_syntax_error(tmp_path):
    bad = mutate("  paved:maxReplicas: 4", "  paved:maxReplicas: [4")
    issues = problems(tmp_path, bad)
    # The unclosed `[` is noticed on the next line, where the parser meets the next key.
    assert [(i.file, i.line, i.message) for i in issues] == [
        (FILE, line_of(bad, "[4") + 1, "YAML syntax error: expected ',' or ']', but got ':'")
    ]


def test_stack_file_without_config_mapping(tmp_path):
    issues = problems(tmp_path, "config: [a, b]\n")
    assert [(i.file, i.field, i.message) for i in issues] == [
        (FILE, "config", "a stack file must be a mapping with a `config:` mapping")
    ]


def test_stack_file_duplicate_key(tmp_path):
    bad = mutate("  paved:maxReplicas: 4\n", "  paved:maxReplicas: 4\n  paved:maxReplicas: 6\n")
    issues = problems(tmp_path, bad)
    assert [(i.line, i.message) for i in issues] == [(line_of(bad, "maxReplicas: 6"), "duplicate key 'paved:maxReplicas'")]


def test_stack_file_not_utf8(tmp_path):
    root = make_root(tmp_path, {})
    (root / "stacks" / "Pulumi.dev.yaml").write_bytes(b"config:\n  aws:region: \xff\n")
    with pytest.raises(InputError) as info:
        load_stack(root, "dev")
    assert info.value.issues[0].message.startswith("not UTF-8 text")


# --- unknown stacks ---------------------------------------------------------------------------


def test_unknown_stack_lists_existing_ones(tmp_path):
    root = make_root(tmp_path, {"dev": DEV, "prod": DEV.replace("dev", "prod")})
    for read in (load_stack, read_config):
        with pytest.raises(UsageError) as info:
            read(root, "qa")
        assert str(info.value) == "unknown stack 'qa': stacks/Pulumi.qa.yaml does not exist; stacks are: dev, prod"


def test_unknown_stack_in_repo_lists_all_three():
    assert list_stacks(ROOT) == ["dev", "staging", "prod"]
    with pytest.raises(UsageError, match=r"stacks are: dev, staging, prod$"):
        load_stack(ROOT, "qa")


def test_cli_plan_unknown_stack_exits_2(monkeypatch, capsys):
    pytest.importorskip("paved.plan")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))
    rc = main(["plan", "--stack", "qa"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert err.strip() == "paved: error: unknown stack 'qa': stacks/Pulumi.qa.yaml does not exist; stacks are: dev, staging, prod"


def test_cli_validate_reports_stack_file_problems(tmp_path, monkeypatch, capsys):
    bad = mutate("paved:maxReplicas: 4", "paved:maxReplicas: lots")
    root = make_root(tmp_path, {"dev": bad})
    catalog = (ROOT / "tests" / "catalogs" / "minimal.yaml").read_text(encoding="utf-8")
    catalog = catalog.replace("    overrides:\n      prod:\n        scaling: {min: 2, max: 6}\n", "")
    (root / "services_catalog.yaml").write_text(catalog, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("PAVED_ROOT")  # found by walking up from the working directory
    rc = main(["validate"])
    err = capsys.readouterr().err.splitlines()
    assert rc == 1
    assert err == [
        f"{FILE}:{line_of(bad, 'lots')}:3: paved:maxReplicas: Input should be a valid integer, unable to parse string as an integer",
        "paved: 1 problem(s) found",
    ]


# --- settings_from_config: the Pulumi program's path ----------------------------------------


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_settings_from_config_matches_load_stack(env):
    config = pulumi_config(ROOT, env)
    assert all(isinstance(v, str) for v in config.values())  # as Pulumi hands them over
    assert settings_from_config(config.get) == load_stack(ROOT, env)


def test_nested_setting_errors_name_the_path_and_line(tmp_path):
    text = mutate("    natGateways: single", "    natGateways: several")
    root = make_root(tmp_path, {"dev": text})
    with pytest.raises(InputError) as exc:
        load_stack(root, "dev")
    (issue,) = exc.value.issues
    assert issue.field == "paved:network.natGateways"
    assert issue.line == line_of(text, "natGateways: several")
    assert "single" in issue.message and "perZone" in issue.message


def test_open_world_endpoint_is_refused(tmp_path):
    text = mutate("    endpointPublicAccessCidrs: [203.0.113.0/24]\n", "    endpointPublicAccessCidrs: [0.0.0.0/0]\n")
    root = make_root(tmp_path, {"dev": text})
    with pytest.raises(InputError) as exc:
        load_stack(root, "dev")
    (issue,) = exc.value.issues
    assert issue.field == "paved:cluster.endpointPublicAccessCidrs[0]"
    assert "whole internet" in issue.message


def test_repo_stacks_have_the_expected_values():
    config = pulumi_config(ROOT, "dev")
    assert (config["paved:maxReplicas"], config["paved:protectStateful"]) == ("4", "false")
    dev = settings_from_config(config.get)
    assert (dev.max_replicas, dev.min_replicas, dev.protect_stateful, dev.zone_spread) == (4, 1, False, "ScheduleAnyway")
    prod = settings_from_config(pulumi_config(ROOT, "prod").get)
    assert (prod.min_replicas, prod.protect_stateful, prod.zone_spread) == (2, True, "DoNotSchedule")


def test_settings_from_config_keeps_text_settings_as_text(tmp_path):
    # A number-looking value of a text setting must not be turned into a number.
    text = mutate("paved:platformCostCenter: cc-0100", 'paved:platformCostCenter: "1234"')
    root = make_root(tmp_path, {"dev": text})
    config = pulumi_config(root, "dev")
    assert config["paved:platformCostCenter"] == "1234" and config["paved:maxReplicas"] == "4"
    from_config = settings_from_config(config.get)
    assert from_config.platform_cost_center == "1234"
    assert from_config == load_stack(root, "dev") == DEV_SETTINGS.model_copy(update={"platform_cost_center": "1234"})


# --- issue 17: CIDRs, world-open endpoints, hostile files ---------------------------------------


ENDPOINT = "    endpointPublicAccessCidrs: [203.0.113.0/24]\n"


def endpoint_cidrs(cidrs: str) -> str:
    return mutate(ENDPOINT, f"    endpointPublicAccessCidrs: {cidrs}\n")


@pytest.mark.parametrize(
    ("cidrs", "message"),
    [
        ("[0.0.0.0/0]", "whole internet"),
        ('["::/0"]', "whole internet"),
        ("[0.0.0.0/1, 128.0.0.0/1]", "wider than a /8"),
        ("[2.0.0.0/7]", "wider than a /8"),
        ("[" + ", ".join(f"{i}.0.0.0/8" for i in range(1, 224)) + "]", "together cover every public IPv4 address"),
        ("[10.0.0.1/8]", "not a CIDR block"),
        ("[300.0.0.0/8]", "not a CIDR block"),
        ("[203.0.113.0/33]", "not a CIDR block"),
        ("[203.0.113.5]", "not an IPv4 CIDR block"),
        ("[2001:db8::/32]", "not an IPv4 CIDR block"),
        ('["203.0.113.0/24\\n"]', "not a CIDR block"),
        ('["２03.0.113.0/24"]', "not a CIDR block"),
    ],
    ids=["open", "open-v6", "two-halves", "slash-7", "all-slash-8s", "host-bits", "octet", "prefix", "no-prefix",
         "ipv6", "newline", "fullwidth"],
)
def test_endpoint_cidrs_are_valid_and_not_world_open(tmp_path, cidrs, message):
    text = endpoint_cidrs(cidrs)
    issues = problems(tmp_path, text)
    assert issues and all(i.field.startswith("paved:cluster.endpointPublicAccessCidrs") for i in issues), issues
    assert {i.line for i in issues} == {line_of(text, "endpointPublicAccessCidrs")}
    assert all(message in i.message for i in issues), issues


def test_union_rule_is_named_in_the_message(tmp_path):
    text = endpoint_cidrs("[" + ", ".join(f"{i}.0.0.0/8" for i in range(1, 224)) + "]")
    assert "rule: the union of the ranges" in only(problems(tmp_path, text), "paved:cluster.endpointPublicAccessCidrs").message


@pytest.mark.parametrize("cidrs", ["[203.0.113.0/24]", "[198.51.100.7/32, 203.0.113.0/24]", "[8.0.0.0/8]",
                                   "[" + ", ".join(f"{i}.0.0.0/8" for i in range(1, 223)) + "]"])
def test_narrow_endpoint_cidrs_are_accepted(tmp_path, cidrs):
    root = make_root(tmp_path, {"dev": endpoint_cidrs(cidrs)})
    assert load_stack(root, "dev").cluster.endpoint_public_access_cidrs


@pytest.mark.parametrize("cidr", ["10.10.0.1/16", "999.10.0.0/16", "10.10.0.0/15", "10.10.0.0/25", "10.10.0.0", "fd00::/16",
                                  '"10.10.0.0/16\\n"'])
def test_vpc_cidr_must_be_a_valid_block(tmp_path, cidr):
    text = mutate("    cidr: 10.10.0.0/16", f"    cidr: {cidr}")
    issue = only(problems(tmp_path, text), "paved:network.cidr")
    assert issue.line == line_of(text, "    cidr:")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("  aws:region: us-east-1", '  aws:region: "us-east-1\\n"', "aws:region"),
        ("  paved:environment: dev", '  paved:environment: "dev\\n"', "paved:environment"),
        ("  paved:clusterName: paved-dev", '  paved:clusterName: "paved-dev\\n"', "paved:clusterName"),
        ("    version: 3.6.0", '    version: "3.6.0\\n"', "paved:kafka.version"),
        ("    version: 3.6.0", '    version: "٣.6.0"', "paved:kafka.version"),
        ("    brokerType: kafka.t3.small", '    brokerType: "kafka.t3.small\\n"', "paved:kafka.brokerType"),
        ("    prometheusRetention: 7d", '    prometheusRetention: "7d\\n"', "paved:observability.prometheusRetention"),
        ("  paved:platformCostCenter: cc-0100", '  paved:platformCostCenter: "cc 0100"', "paved:platformCostCenter"),
        ("  paved:platformOwner: platform@example.com", '  paved:platformOwner: "<platform@example.com>"', "paved:platformOwner"),
        ("    recoveryWindowDays: 7", '    recoveryWindowDays: 7\n    rotationLambdaArn: "arn:aws:lambda:x\\n"',
         "paved:secrets.rotationLambdaArn"),
    ],
    ids=["region", "environment", "cluster-name", "kafka-version", "kafka-version-digits", "broker-type",
         "retention", "cost-center-label", "owner-tag", "lambda-arn"],
)
def test_stack_patterns_match_the_whole_value(tmp_path, old, new, key):
    text = mutate(old, new)
    issue = only(problems(tmp_path, text), key)
    assert issue.line == line_of(text, new.strip().splitlines()[-1])


def test_stack_file_not_utf8_is_located(tmp_path):
    root = make_root(tmp_path, {})
    (root / "stacks" / "Pulumi.dev.yaml").write_bytes(b"config:\n  aws:region: \xff\n")
    with pytest.raises(InputError) as info:
        load_stack(root, "dev")
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.col) == (FILE, 2, 15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("config:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
         + "".join(f"  b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n" for i in range(7)),
         "aliases expand"),
        ("config:\n  paved:network: " + "[" * 500 + "]" * 500 + "\n", "nesting deeper"),
        ("config:\n  paved:network: &n [*n]\n", "recursive alias"),
    ],
    ids=["billion-laughs", "deep", "recursive"],
)
def test_hostile_stack_file_is_refused(tmp_path, text, message):
    issues = problems(tmp_path, text)
    assert len(issues) == 1 and message in issues[0].message and issues[0].file == FILE


def test_stack_file_larger_than_the_cap_is_refused(tmp_path):
    from paved.yamlsrc import MAX_FILE_BYTES

    root = make_root(tmp_path, {"dev": DEV + "#" * MAX_FILE_BYTES})
    with pytest.raises(InputError) as info:
        load_stack(root, "dev")
    assert "larger than" in info.value.issues[0].message


def test_stack_merge_keys_are_supported(tmp_path):
    text = mutate("  paved:kafka:\n", "  paved:kafka: &kafka\n")
    text = text.replace("  paved:secrets:\n", "  x-unused:\n    <<: *kafka\n  paved:secrets:\n")
    root = make_root(tmp_path, {"dev": text})
    assert load_stack(root, "dev") == DEV_SETTINGS


LAMBDA = "    rotationLambdaArn: arn:aws:lambda:us-east-1:123456789012:function:rotate"


def test_a_rotation_lambda_needs_its_role(tmp_path):
    """The rotation function's role gets a grant on the customer-managed secrets key; without the
    setting it could not read the secrets it rotates."""
    text = mutate("    recoveryWindowDays: 7", f"    recoveryWindowDays: 7\n{LAMBDA}")
    issue = only(problems(tmp_path, text), "paved:secrets")
    assert "rotationRoleArn is required with rotationLambdaArn" in issue.message
    assert issue.line == line_of(text, "  paved:secrets:")
    role = "    rotationRoleArn: arn:aws:iam::123456789012:role/paved-dev-secret-rotation"
    root = make_root(tmp_path / "ok", {"dev": mutate("    recoveryWindowDays: 7", f"    recoveryWindowDays: 7\n{LAMBDA}\n{role}")})
    assert load_stack(root, "dev").secrets.rotation_role_arn.endswith(":role/paved-dev-secret-rotation")


def test_rotation_role_must_be_a_role_arn(tmp_path):
    bad = "    rotationRoleArn: arn:aws:iam::123456789012:user/someone"
    text = mutate("    recoveryWindowDays: 7", f"    recoveryWindowDays: 7\n{LAMBDA}\n{bad}")
    issue = only(problems(tmp_path, text), "paved:secrets.rotationRoleArn")
    assert issue.line == line_of(text, bad.strip())


@pytest.mark.parametrize("cidr", ["8.8.0.0/16", "203.0.113.0/24", "100.128.0.0/16"])
def test_vpc_cidr_must_be_private_space(tmp_path, cidr):
    text = mutate("    cidr: 10.10.0.0/16", f"    cidr: {cidr}")
    issue = only(problems(tmp_path, text), "paved:network.cidr")
    assert issue.line == line_of(text, "    cidr:") and "not private address space" in issue.message


@pytest.mark.parametrize("cidr", ["172.16.0.0/16", "192.168.0.0/20", "100.64.0.0/16"])
def test_private_vpc_cidrs_are_accepted(tmp_path, cidr):
    root = make_root(tmp_path, {"dev": mutate("    cidr: 10.10.0.0/16", f"    cidr: {cidr}")})
    assert load_stack(root, "dev").network.cidr == cidr


def test_endpoint_cidr_listed_twice_is_refused(tmp_path):
    text = endpoint_cidrs("[203.0.113.0/24, 198.51.100.0/24, 203.0.113.0/24]")
    issue = only(problems(tmp_path, text), "paved:cluster.endpointPublicAccessCidrs")
    assert "203.0.113.0/24 listed more than once" in issue.message


def test_node_group_names_are_distinct(tmp_path):
    group = "      - {name: general, instanceTypes: [t3.large], minSize: 2, maxSize: 4, desiredSize: 2, capacityType: SPOT, diskSizeGib: 30}\n"
    text = mutate(group, group + group)
    issue = only(problems(tmp_path, text), "paved:cluster")
    assert "'general' more than once" in issue.message


@pytest.mark.parametrize(("old", "key"), [("    logRetentionDays: 14", "paved:cluster.logRetentionDays"),
                                          ("    logRetentionDays: 7", "paved:kafka.logRetentionDays")])
@pytest.mark.parametrize("days", [2, 13, 366, 3000])
def test_log_retention_is_one_cloudwatch_offers(tmp_path, old, key, days):
    text = mutate(old, old.replace(old.split(": ")[1], str(days)))
    issue = only(problems(tmp_path, text), key)
    assert "not a retention CloudWatch Logs offers" in issue.message
