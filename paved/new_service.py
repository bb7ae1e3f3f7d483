"""``paved new-service``: add a catalog entry and scaffold the service's code.

The catalog is read with a round-trip YAML parser (ruamel.yaml), and the new entry, dumped
by it in the file's own indentation, is inserted after the last service: every other byte
of the file (comments, order, formatting) stays as it was. The new document is validated
against every stack before anything is written; then the catalog is replaced atomically
and ``sample_services/NAME/`` is rendered from ``sample_services/_template/``; every sample
service's image is built from the one ``sample_services/Dockerfile`` (:func:`build_command`).

The defaults pass every mandatory policy in every stack: two to four replicas (one to
two in dev), small requests within every stack's caps, the probes and metrics path the
template serves.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import shutil
import string
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from paved.errors import InputError, PavedError, UsageError

TEMPLATE_DIR = Path("sample_services") / "_template"
SERVICES_DIR = Path("sample_services")
DEFAULT_REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop"
DEFAULT_VERSION = "0.1.0"
DEFAULT_PORT = 8080
# Files of a scaffolded service: template name → file name.
TEMPLATE_FILES = {"app.py.tmpl": "app.py"}
DOCKERFILE = SERVICES_DIR / "Dockerfile"


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the long lines already in the file
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _flow(**items: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    m = CommentedMap(items)
    m.fa.set_flow_style()
    return m


def default_image(name: str) -> str:
    """Where CI pushes the service's image: the shop's registry, first version."""
    return f"{DEFAULT_REGISTRY}/{name}:{DEFAULT_VERSION}"


def entry(name: str, team: str, port: int, image: str, description: str) -> Any:
    """The catalog entry for a new service (12 lines of YAML)."""
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap([
        ("name", name),
        ("team", team),
        ("description", _text_scalar(description)),
        ("image", image),
        ("port", port),
        ("resources", CommentedMap([
            ("requests", _flow(cpu="100m", memory="128Mi")),
            ("limits", _flow(cpu="200m", memory="256Mi")),
        ])),
        # prod's floor is two replicas; dev runs one or two to stay in its budget.
        ("scaling", _flow(min=2, max=4)),
        ("slo", _flow(availability=99.5, latencyP99Ms=500)),
        ("overrides", CommentedMap([("dev", _flow(scaling=_flow(min=1, max=2)))])),
    ])


def build_command(name: str, port: int, metrics_port: int | None = None) -> str:
    """The ``docker build`` of a service's image from the shared Dockerfile, run from the repository root."""
    args = [f"--build-arg SERVICE={name}"]
    if port != DEFAULT_PORT:
        args.append(f"--build-arg PORT={port}")
    if (metrics_port or port) != DEFAULT_PORT:
        args.append(f"--build-arg METRICS_PORT={metrics_port or port}")
    return f"docker build -f {DOCKERFILE.as_posix()} {' '.join(args)} -t shop/{name}:dev {SERVICES_DIR.as_posix()}"


def _docstring_text(text: str) -> str:
    # Inside a (non-raw) docstring: backslashes and quotes escaped, and characters Python source
    # cannot hold or would end the line with (NUL, other controls, NEL, separators) as escapes
    # that read back as themselves.
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return "".join(f"\\x{ord(ch):02x}" if ch in _ESCAPE_ONLY and ord(ch) < 0x100 else
                   f"\\u{ord(ch):04x}" if ch in _ESCAPE_ONLY else ch for ch in text)


def render(template_dir: Path, name: str, port: int, description: str = "") -> dict[str, str]:
    """The scaffold's files (file name → text) for a service, from the shared template."""
    values = {
        "name": name,
        "port": str(port),
        # It lands in a docstring.
        "description": _docstring_text(description),
    }
    out = {}
    for tmpl, target in TEMPLATE_FILES.items():
        path = template_dir / tmpl
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PavedError(f"{path}: template not found; pass --no-scaffold to add only the catalog entry") from None
        out[target] = string.Template(text).substitute(values)
    return out


@dataclass(frozen=True)
class Added:
    """What ``add_service`` wrote."""

    catalog: Path
    first_line: int
    entry_text: str
    scaffold: Path | None
    quota: dict[str, str] | None = None  # the team's raised quota (--raise-quota), if it was raised


def _check_args(doc: Any, name: str, team: str, port: int, image: str, catalog: Path) -> None:
    from paved.model import DNS_1035_LABEL, _image

    if len(name) > 63 or not DNS_1035_LABEL.fullmatch(name):
        raise UsageError(f"invalid service name {name!r}: use lowercase letters, digits and '-', starting with a "
                         "letter and ending with a letter or digit, at most 63 characters (e.g. 'reviews')")
    if not 1 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is between 1 and 65535")
    try:
        _image(image)
    except ValueError as exc:
        raise UsageError(f"--image: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list) or not isinstance(doc.get("teams"), list):
        raise PavedError(f"{catalog}: not a catalog with `teams` and `services` lists; run `paved validate`")
    for svc in doc["services"]:
        if not isinstance(svc, dict):
            continue
        if svc.get("name") == name:
            line = svc.lc.line + 1 if hasattr(svc, "lc") else 0
            raise UsageError(f"service {name!r} already exists ({catalog}:{line})")
        if name in (svc.get("formerNames") or []):
            raise UsageError(f"{name!r} is a former name of service {svc.get('name')!r}; choose another name")
    teams = [t.get("name") for t in doc["teams"] if isinstance(t, dict)]
    if team not in teams:
        close = difflib.get_close_matches(team, [t for t in teams if isinstance(t, str)], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"unknown team {team!r}{hint}; teams are: {', '.join(map(str, teams))}")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _document_end(lines: list[str]) -> int:
    """The index of the document end marker (``...``) closing the file, or the line count:
    the new entry goes before the marker, not after it (where YAML expects a new document)."""
    i = len(lines)
    while i > 0 and (not lines[i - 1].strip() or lines[i - 1].lstrip().startswith("#")):
        i -= 1
    if i > 0 and (lines[i - 1].rstrip() == "..." or lines[i - 1].startswith(("... ", "...\t"))):
        return i - 1
    return len(lines)


# Characters a YAML reader may take as a line break or drop from a plain or single-quoted
# scalar (NEL, the Unicode line and paragraph separators, controls, BOM): a description
# holding one is written double-quoted, where the dumper escapes them, so it reads back exactly.
_ESCAPE_ONLY = set("\x85\u2028\u2029\ufeff") | {chr(c) for c in range(0x20) if c not in (0x09, 0x0A)} | {"\x7f"}


def _text_scalar(value: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(value) if _ESCAPE_ONLY & set(value) or "\n" in value else value


def _with_entry(yaml: Any, original: str, doc: Any, new: Any) -> str:
    """``original`` with ``new`` inserted after the last service, every other byte kept.

    The entry goes after the last service's own lines (its comments included) and before
    comments that stand at the list's level or the file's, set off by a blank line.
    """
    services = doc["services"]
    if not services or services.fa.flow_style():
        # `services: []` or a flow list: let the round-trip dumper lay the list out.
        services.append(new)
        services.fa.set_block_style()
        buf = io.StringIO()
        yaml.dump(doc, buf)
        return buf.getvalue()
    lines = original.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    last_line, content_col = services.lc.item(len(services) - 1)
    dash_col = _indent(lines[last_line])
    keys = list(doc)
    after = keys.index("services") + 1
    end = doc.lc.key(keys[after])[0] if after < len(keys) else _document_end(lines)
    while end > last_line + 1 and (not lines[end - 1].strip() or
                                   (lines[end - 1].lstrip().startswith("#") and _indent(lines[end - 1]) <= dash_col)):
        end -= 1
    from ruamel.yaml import YAML

    dumper = YAML(typ="rt")
    dumper.width = 4096
    dumper.indent(mapping=content_col - dash_col, sequence=content_col, offset=dash_col)
    buf = io.StringIO()
    dumper.dump([new], buf)
    block = buf.getvalue()
    return "".join(lines[:end]) + "\n" + block + "".join(lines[end:])


def _entry_lines(yaml: Any, text: str) -> tuple[int, str]:
    """The 1-based first line of the last service entry in ``text``, and its lines."""
    doc = yaml.load(text)
    lines = text.splitlines(keepends=True)
    start = doc["services"][-1].lc.line
    keys = list(doc)
    after = keys.index("services") + 1
    end = doc.lc.key(keys[after])[0] if after < len(keys) else _document_end(lines)
    block = lines[start:end]
    while block and (not block[-1].strip() or block[-1].lstrip().startswith("#")):
        block.pop()
    return start + 1, "".join(block)


def _environments(root: Path) -> dict[str, Any]:
    from paved.stack import list_stacks, load_stack

    return {env: load_stack(root, env) for env in list_stacks(root)}


# A leftover older than this is from a run that died (a crash, a kill -9): a running
# new-service writes its temporary file and staged folder within a second or two.
STALE_SECONDS = 60


def clean_leftovers(catalog: Path, services_dir: Path, now: float | None = None) -> list[Path]:
    """Remove what an interrupted run left: ``.<catalog>.*`` temporary catalogs beside the
    catalog, ``.<name>.*`` staged scaffolds in ``services_dir``. Returns what was removed."""
    import time

    now = time.time() if now is None else now
    removed = []
    candidates = [*catalog.parent.glob(f".{catalog.name}.*")]
    if services_dir.is_dir():
        candidates += [p for p in services_dir.glob(".*.*") if p.is_dir() and not p.is_symlink()]
    for path in candidates:
        try:
            if now - path.lstat().st_mtime < STALE_SECONDS:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
        except OSError:
            continue
    return removed


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _raised_quota(text: str, team: str, environments: dict[str, Any]) -> dict[str, str]:
    """The team's quota (cpu, memory, pods as catalog text) raised to hold every one of its
    services at maximum replicas plus surge in every stack (the validator's computation)."""
    import math

    from paved.catalog import effective_service, rollout_need
    from paved.model import Service, Team
    from paved.quantity import cpu_cores, memory_bytes
    from paved.resources import memory_text
    from paved.yamlsrc import load_located

    data = load_located(text, "catalog").data
    current = Team.model_validate(next(t for t in data["teams"] if t.get("name") == team)).quota
    services = [Service.model_validate(s) for s in data["services"] if s.get("team") == team]
    needs = [rollout_need([effective_service(s, env) for s in services]) for env in environments] or [rollout_need(services)]
    cpu = max([cpu_cores(current.cpu), *(n.cpu for n in needs)])
    memory = max([memory_bytes(current.memory), *(int(n.memory) for n in needs)])
    pods = max([current.pods, *(n.pods for n in needs)])
    cpu_text = str(int(cpu)) if cpu == cpu.to_integral_value() else f"{math.ceil(cpu * 1000)}m"
    return {"cpu": cpu_text, "memory": memory_text(math.ceil(memory / 2**20) * 2**20), "pods": str(pods)}


def _set_quota(yaml: Any, text: str, team: str, quota: dict[str, str]) -> str:
    """``text`` with the team's quota values replaced in place, every other byte kept."""
    doc = yaml.load(text)
    node = next(t for t in doc["teams"] if t.get("name") == team)["quota"]
    lines = text.splitlines(keepends=True)
    # Right to left on each line, so earlier columns stay valid.
    for key in sorted(quota, key=lambda k: node.lc.value(k), reverse=True):
        line, col = node.lc.value(key)
        row = lines[line]
        if row[col] in "\"'":
            end = row.index(row[col], col + 1) + 1
            token = row[col] + quota[key] + row[col]
        else:
            end = col
            while end < len(row) and row[end] not in ",}#\n\r":
                end += 1
            while end > col and row[end - 1] == " ":
                end -= 1
            token = f'"{quota[key]}"' if key == "cpu" else quota[key]
        lines[line] = row[:col] + token + row[end:]
    return "".join(lines)


def add_service(root: Path, catalog: Path, name: str, team: str, port: int = DEFAULT_PORT, image: str | None = None,
                description: str | None = None, scaffold: bool = True, raise_quota: bool = False) -> Added:
    """Append a validated entry to ``catalog`` and scaffold ``sample_services/NAME``.

    Nothing is written when an argument is wrong (UsageError) or the resulting catalog
    does not validate against every stack (InputError).
    """
    from paved.catalog import validate_document
    from paved.yamlsrc import load_located

    image = image or default_image(name)
    description = description or f"The {name} service of team {team}."
    if catalog.is_dir():
        raise UsageError(f"--catalog {catalog}: is a folder; give the catalog file")
    clean_leftovers(catalog, root / SERVICES_DIR)
    try:
        original = catalog.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{catalog}: file not found") from None
    yaml = _yaml()
    try:
        doc = yaml.load(original)
    except Exception as exc:  # ruamel's parser and scanner errors
        raise PavedError(f"{catalog}: not valid YAML ({exc}); run `paved validate`") from None
    _check_args(doc, name, team, port, image, catalog)
    target = root / SERVICES_DIR / name
    files: dict[str, str] = {}
    if scaffold:
        if target.exists():
            raise UsageError(f"{target} already exists; remove it or pass --no-scaffold")
        files = render(root / TEMPLATE_DIR, name, port, description=description)

    text = _with_entry(yaml, original, doc, entry(name, team, port, image, description))
    environments = _environments(root)
    issues, _ = validate_document(load_located(text, str(catalog)), environments)
    quota_field = f"teams[{team}].quota."
    if issues and all(i.field.startswith(quota_field) for i in issues):
        # The entry is fine, but the team's quota has no room for it at full scale plus surge.
        raised = _raised_quota(text, team, environments)
        if not raise_quota:
            shown = ", ".join(f"{k} {v}" for k, v in raised.items())
            raise InputError([replace(i, message=f"{i.message}; pass --raise-quota to set the team's quota to "
                                                 f"{{{shown}}}") for i in issues])
        text = _set_quota(yaml, text, team, raised)
        issues, _ = validate_document(load_located(text, str(catalog)), environments)
    else:
        raised = None
    if issues:
        raise InputError(issues)  # nothing was written

    first_line, entry_text = _entry_lines(yaml, text)
    staged: Path | None = None
    if scaffold:
        staged = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=target.parent))
        for fname, body in files.items():
            (staged / fname).write_text(body, encoding="utf-8")
        staged.chmod(0o755)
    try:
        _atomic_write(catalog, text)
    except BaseException:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        raise
    if staged is not None:
        staged.rename(target)
    return Added(catalog=catalog, first_line=first_line, entry_text=entry_text, scaffold=target if scaffold else None,
                 quota=raised)


# --- command line ----------------------------------------------------------------------------


def add_parser(sub: Any, catalog_arg: Any) -> None:
    """Register ``paved new-service`` on the CLI's subparsers."""
    p = sub.add_parser("new-service", help="add a service to the catalog and scaffold its code",
                       description="Append a validated entry to the catalog (comments and order kept) and scaffold "
                                   "sample_services/NAME from the shared template.")
    p.add_argument("name", metavar="NAME", help="service name (a DNS label, e.g. reviews)")
    p.add_argument("--team", required=True, metavar="TEAM", help="owning team (one of the catalog's teams)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"HTTP port (default {DEFAULT_PORT})")
    p.add_argument("--image", metavar="REF", help=f"image reference (default {DEFAULT_REGISTRY}/NAME:{DEFAULT_VERSION})")
    p.add_argument("--description", metavar="TEXT", help="one sentence on what the service does")
    p.add_argument("--no-scaffold", action="store_true", help="only add the catalog entry")
    p.add_argument("--raise-quota", action="store_true",
                   help="raise the team's quota when it has no room for the new service at maximum replicas "
                        "plus rolling-update surge")
    catalog_arg(p)


def run(args: argparse.Namespace, root: Path, catalog: Path) -> int:
    """The ``paved new-service`` command."""
    added = add_service(root, catalog, args.name, args.team, args.port, args.image, args.description,
                        scaffold=not args.no_scaffold, raise_quota=args.raise_quota)
    lines = added.entry_text.rstrip("\n").count("\n") + 1
    print(f"{added.catalog}:{added.first_line}: added service {args.name!r} of team {args.team!r} ({lines} lines):\n")
    print(added.entry_text.rstrip("\n"))
    if added.quota:
        print(f"\nraised team {args.team!r}'s quota to {{{', '.join(f'{k}: {v}' for k, v in added.quota.items())}}} "
              "(its services at maximum replicas plus one rolling-update surge pod each)")
    if added.scaffold is not None:
        rel = os.path.relpath(added.scaffold) if added.scaffold.is_absolute() else added.scaffold
        print(f"\nscaffolded {rel}/: {', '.join(TEMPLATE_FILES.values())}; its image: {build_command(args.name, args.port)}")
    print("\nnext: paved validate && paved plan --stack dev && paved check --stack dev, then open a pull request")
    return 0
