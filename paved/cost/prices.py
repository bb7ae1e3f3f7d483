"""The price file ``paved/data/prices.json``, loaded: every list price the estimate uses.

Each price has its value, unit, region, source and date, so a total can be recomputed by
hand from the file. Money stays ``Decimal``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from paved.errors import PavedError

PRICE_FILE = "paved/data/prices.json"


class CostError(PavedError):
    """A resource the price file cannot price (an instance or broker type it does not list)."""


@dataclass(frozen=True)
class Price:
    """One list price from the price file."""

    key: str
    value: Decimal
    unit: str
    region: str
    source: str
    date: str


@dataclass(frozen=True)
class Prices:
    """The price file, loaded: hours per month and every price by dotted key."""

    hours_per_month: Decimal
    currency: str
    region: str
    entries: Mapping[str, Price]
    path: str = PRICE_FILE

    def get(self, key: str, what: str) -> Price:
        """The price at ``key`` (``"ec2Instance.t3.medium"``), or CostError naming the file."""
        price = self.entries.get(key)
        if price is None:
            group, _, name = key.partition(".")
            listed = sorted(k.partition(".")[2] for k in self.entries if k.startswith(group + ".") and k != group)
            hint = f"; it lists {', '.join(listed)}" if listed else ""
            raise CostError(f"{what}: no price for {name or group!r} in {self.path} ({group}){hint}. "
                            "Add it there with its value, unit, region, source and date.")
        return price


def _price(key: str, raw: Mapping[str, Any], path: str) -> Price:
    try:
        return Price(key, Decimal(str(raw["value"])), raw["unit"], raw["region"], raw["source"], raw["date"])
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise CostError(f"{path}: {key}: every price needs value, unit, region, source and date ({exc})") from None


def load_prices(path: str | Path | None = None) -> Prices:
    """The price file (``paved/data/prices.json`` unless ``path`` is given)."""
    return _default_prices() if path is None else _load(path)


@functools.cache
def _default_prices() -> Prices:
    # Read once per process: the budget rules estimate the stack on every preview.
    return _load(None)


def _load(path: str | Path | None) -> Prices:
    if path is None:
        text = importlib_resources.files("paved").joinpath("data", "prices.json").read_text(encoding="utf-8")
        display = PRICE_FILE
    else:
        text, display = Path(path).read_text(encoding="utf-8"), str(path)
    data = json.loads(text, parse_float=Decimal)
    entries: dict[str, Price] = {}
    for group, value in data.items():
        if not isinstance(value, dict) or group == "hoursPerMonth":
            continue
        if "value" in value:
            entries[group] = _price(group, value, display)
        else:
            for name, raw in value.items():
                entries[f"{group}.{name}"] = _price(f"{group}.{name}", raw, display)
    hours = data["hoursPerMonth"]
    return Prices(Decimal(str(hours["value"] if isinstance(hours, dict) else hours)), data["currency"], data["region"],
                  entries, display)

