"""Shared fixtures: the program run offline once per stack, the way `paved plan` runs it.

The offline engine calls ``pulumi.runtime.set_mocks`` itself (Pulumi's documented unit-test
mechanism), so a program-level test is a run of ``platform/__main__.py`` for a stack and
assertions on the recorded resources.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")


def _chart_defaults() -> None:
    """helm, the chart archives and the render cache for every project the tests plan (copies
    in tmp folders included), when the environment does not name them (`make test` does)."""
    import os

    shared = ROOT.parent / "shared" / "charts"
    if "PAVED_CHART_CACHE" not in os.environ and not (ROOT / ".paved" / "charts").is_dir() and shared.is_dir():
        os.environ["PAVED_CHART_CACHE"] = str(shared)
    os.environ.setdefault("PAVED_CHART_CACHE", str(ROOT / ".paved" / "charts"))
    if "PAVED_HELM" not in os.environ and (ROOT / ".tools" / "bin" / "helm").is_file():
        os.environ["PAVED_HELM"] = str(ROOT / ".tools" / "bin" / "helm")
    os.environ.setdefault("PAVED_RENDER_CACHE", str(ROOT / ".paved" / "cache"))


_chart_defaults()


@pytest.fixture(autouse=True)
def _project_root(monkeypatch):
    monkeypatch.setenv("PAVED_ROOT", str(ROOT))


_cache: dict[str, tuple] = {}


def planned(stack: str):
    """(plan document, RunResult) for a stack of the repo's own catalog, computed once."""
    if stack not in _cache:
        import os

        from paved import plan

        os.environ["PAVED_ROOT"] = str(ROOT)
        _cache[stack] = plan.build(stack, ROOT / "services_catalog.yaml", ROOT)
    return _cache[stack]


@pytest.fixture(params=STACKS)
def stack_plan(request):
    """The plan document of each stack in turn."""
    return planned(request.param)[0]


def copy_project(tmp_path: Path, program: str | None = None) -> Path:
    """A copy of the project's inputs (Pulumi.yaml, stacks/, catalog, sample_services/, platform/) to change in a test.

    ``program`` replaces ``platform/__main__.py``; the copy still imports this repo's
    paved and components packages.
    """
    import shutil

    root = tmp_path / "proj"
    root.mkdir()
    for name in ("Pulumi.yaml", "services_catalog.yaml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "stacks", root / "stacks")
    # API definitions the catalog points at live beside the services.
    shutil.copytree(ROOT / "sample_services", root / "sample_services",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if program is None:
        shutil.copytree(ROOT / "platform", root / "platform")
    else:
        (root / "platform").mkdir()
        (root / "platform" / "__main__.py").write_text(program)
    return root


def by_type(plan: dict, type_token: str) -> list[dict]:
    """Resources of one type in a plan document."""
    return [r for r in plan["resources"] if r["type"] == type_token]


@pytest.fixture(scope="session")
def planned_stack():
    """``planned``, as a session fixture: ``planned_stack("prod")`` → (plan document, RunResult)."""
    return planned
