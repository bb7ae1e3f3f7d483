"""Issue 17, anchors: every validation pattern matches the whole string.

With ``re.match`` (or ``search``) and ``$``, ``"v1.31\\n"`` passes: ``$`` also matches before
a trailing newline. The scan below finds any anchored pattern used that way in paved,
components or policies; the cases after it test a trailing newline on each checker that
used to, through its public behaviour.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGES = ("paved", "components", "policies")


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _compiled(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound to ``re.compile("<literal>")``."""
    out = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "compile"
                and node.value.args and _literal(node.value.args[0]) is not None):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = _literal(node.value.args[0])
    return out


def _anchored(pattern: str) -> bool:
    return pattern.endswith("$") and not pattern.endswith("\\$")


def test_no_anchored_pattern_is_matched_by_prefix():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            compiled = _compiled(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("match", "search")):
                    continue
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id == "re":
                    pattern = _literal(node.args[0]) if node.args else None
                else:
                    pattern = compiled.get(owner.id) if isinstance(owner, ast.Name) else None
                if pattern is not None and _anchored(pattern):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {pattern!r} with .{node.func.attr}()")
    assert not found, "use fullmatch for anchored patterns:\n" + "\n".join(found)


def test_the_scan_sees_a_prefix_match():
    tree = ast.parse('import re\nP = re.compile(r"^a$")\nP.match(x)\n')
    assert _compiled(tree) == {"P": "^a$"} and _anchored("^a$")
    assert re.match("^a$", "a\n") and not re.fullmatch("^a$", "a\n")


DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        ("digest", DIGEST, DIGEST + "\n"),
        ("registry", "public.ecr.aws/team/app", "public.ecr.aws/team/app\n"),
        ("rule id", "PAVED-SEC-001", "PAVED-SEC-001\n"),
        ("rule name", "no-privileged", "no-privileged\n"),
        ("backstage system", "shop", "shop\n"),
        ("backstage url", "https://grafana.example.com/d", "https://grafana.example.com/d\nx"),
        ("sdk path key", "metadata", "metadata\n"),
    ],
)
def test_trailing_newline_is_refused_by_every_checker(check, good, bad):
    assert _accepts(check, good), f"{check} refuses the valid {good!r}"
    assert not _accepts(check, bad), f"{check} accepts {bad!r}"


def _accepts(check: str, value: str) -> bool:
    if check == "digest":
        from policies.rules.kubernetes.sec_020_image_digest import DIGEST as pattern

        return bool(pattern.fullmatch(value))
    if check == "registry":
        from policies.rules.kubernetes.sec_021_allowed_registries import pattern

        return bool(pattern("public.ecr.aws").fullmatch(value))
    if check in ("rule id", "rule name"):
        from policies.framework import Rule

        fields = {"id": "PAVED-SEC-999", "name": "some-rule"} | ({"id": value} if check == "rule id" else {"name": value})
        try:
            Rule(**fields, description="Checks whether x.", severity="low", remediation="Fix it.", anchors=("CKV_K8S_1",),
                 validate=lambda args, report: None)
        except (ValueError, TypeError):
            return False
        return True
    if check in ("backstage system", "backstage url"):
        import argparse

        from paved import backstage
        from paved.errors import UsageError

        args = argparse.Namespace(system="shop", grafana_url="https://grafana.example.com",
                                  runbooks_url="https://runbooks.example.com")
        if check == "backstage system":
            args.system = value
        else:
            args.grafana_url = value
        try:
            backstage.run(args, Path("/nonexistent-paved-root"), Path("/nonexistent-paved-root/c.yaml"))
        except UsageError:
            return False
        except Exception:  # past the argument checks: the missing root is the next error
            return True
        return True
    if check == "sdk path key":
        from paved.sdk_inputs import _join

        return _join("spec", value) == f"spec.{value}"
    raise AssertionError(check)
