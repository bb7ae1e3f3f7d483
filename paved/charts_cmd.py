"""``paved charts pull``: fill the chart cache with every chart pinned in components/versions.py."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from paved import charts
from paved.errors import PavedError


def add_parser(sub: argparse._SubParsersAction) -> None:
    """``paved charts pull [--cache DIR]``."""
    p = sub.add_parser("charts", help="the local chart cache `paved plan` renders from")
    actions = p.add_subparsers(dest="charts_command", required=True, metavar="ACTION")
    pull = actions.add_parser("pull", help="download every pinned chart archive into the cache (needs the repositories)")
    pull.add_argument("--cache", metavar="DIR", help="the cache folder (default: $PAVED_CHART_CACHE, else .paved/charts)")


def pull_command(helm: str, pinned: dict[str, str], cache: Path) -> list[str]:
    """The ``helm pull`` command line for one pinned chart (OCI repositories name the chart in the URL)."""
    repo, chart, version = pinned["repo"], pinned["chart"], pinned["version"]
    if repo.startswith("oci://"):
        return [helm, "pull", f"{repo.rstrip('/')}/{chart}", "--version", version, "--destination", str(cache)]
    return [helm, "pull", chart, "--repo", repo, "--version", version, "--destination", str(cache)]


def run(args: argparse.Namespace, root: Path) -> int:
    """Pull each pinned chart that is not in the cache yet; 1 when any pull fails."""
    from components.versions import CHARTS

    cache = Path(args.cache).resolve() if args.cache else charts.chart_cache(root)
    helm = charts.find_helm(root)
    cache.mkdir(parents=True, exist_ok=True)
    failed = []
    for pinned in CHARTS.values():
        name = charts.archive_name(pinned["chart"], pinned["version"])
        if (cache / name).is_file():
            print(f"{name}: already in {cache}")
            continue
        proc = subprocess.run(pull_command(helm, pinned, cache), capture_output=True, text=True)
        if proc.returncode != 0:
            failed.append(name)
            print(f"{name}: helm pull failed: {(proc.stderr or proc.stdout).strip()}")
        else:
            print(f"{name}: pulled into {cache}")
    if failed:
        raise PavedError(f"{len(failed)} chart(s) could not be pulled into {cache}: {', '.join(failed)}")
    return 0
