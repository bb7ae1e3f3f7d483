"""Value formatting shared by the text and markdown renderers.

Values cut to a width around where they differ, money, and one symbol per operation.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from paved.diff.properties import MISSING

SYMBOL = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}


def shown(value: Any, limit: int = 80) -> str:
    """A value for a person: JSON, cut to ``limit`` characters with its length when longer."""
    if value is MISSING:
        return "(none)"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit - 1]}… ({len(text)} chars)"


def shown_pair(before: Any, after: Any, limit: int = 80) -> tuple[str, str]:
    """Two values for a person; long ones cut around where they first differ, so that two
    long strings that differ only at the end (an image tag) still show the difference."""
    if before is MISSING or after is MISSING:
        return shown(before, limit), shown(after, limit)
    old, new = (json.dumps(v, sort_keys=True, ensure_ascii=False) for v in (before, after))
    if len(old) <= limit and len(new) <= limit:
        return old, new
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    start = max(0, same - limit // 3)

    def cut(text: str) -> str:
        part = text[start:]
        cut_end = len(part) > limit
        part = ("…" if start else "") + (part[: limit - 1] + "…" if cut_end else part)
        return part + (f" ({len(text)} chars)" if start or cut_end else "")

    return cut(old), cut(new)



def _money(amount: str | float) -> str:
    value = Decimal(str(amount))
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def before_after(d: dict[str, float]) -> str:
    """``$1,022.09 → $1,030.00 (+$7.91)`` from a ``before`` / ``after`` / ``delta`` summary."""
    sign = "+" if Decimal(str(d["delta"])) >= 0 else ""
    return f"{_money(d['before'])} → {_money(d['after'])} ({sign}{_money(d['delta'])})"

