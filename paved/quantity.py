"""Kubernetes resource quantities (CPU and memory), parsed the way the API server does.

The grammar is apimachinery's (``resource.Quantity``): an optionally signed decimal number
(``1``, ``1.5``, ``.5``, ``5.``) and one suffix, binary (``Ki`` … ``Ei``), decimal SI
(``n u m k M G T P E``) or an exponent (``1e9``, ``2E-3``). ASCII only, nothing around it:
``" 100m"`` or ``"１Gi"`` is what the API server refuses, so it is refused here too.
(``kubernetes.utils.parse_quantity`` is laxer: it strips spaces and reads any Unicode digit.)
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
_QUANTITY = re.compile(
    r"(?P<num>[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+))"
    r"(?P<unit>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE](?P<exp>[+-]?[0-9]+))?",
    re.ASCII,
)
# Fractions divide (not multiply by 1e-3) so that "250m" gives Decimal("0.25") exactly as
# before, digits and all: cost output prints these values.
_DIVISORS = {"n": 10**9, "u": 10**6, "m": 10**3}
_FACTORS = {
    None: Decimal(1), "k": Decimal(10**3), "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
    "P": Decimal(10**15), "E": Decimal(10**18),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}
# apimachinery keeps quantities in an int64 of the smallest unit; nothing real comes close.
_MAX = Decimal(2**63 - 1)
_MAX_TEXT = 64


def parse_quantity(value: str | int | float) -> Decimal:
    """A quantity's exact value: ``"250m"`` → 0.25, ``"1Ki"`` → 1024, ``"1e3"`` → 1000.

    Raises ValueError for anything the Kubernetes API server would refuse, and for values
    beyond its range.
    """
    text = str(value)
    m = _QUANTITY.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if not m:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    try:
        num = Decimal(m["num"])
        if m["exp"] is not None:
            exp = int(m["exp"])
            if abs(exp) > 30:
                raise ValueError(f"{value!r} is out of range")
            result = num.scaleb(exp)
        elif m["unit"] in _DIVISORS:
            result = num / _DIVISORS[m["unit"]]
        else:
            result = num * _FACTORS[m["unit"]]
    except (InvalidOperation, ArithmeticError):
        raise ValueError(f"{value!r} is out of range") from None
    if abs(result) > _MAX:
        raise ValueError(f"{value!r} is out of range")
    return result


def cpu_cores(value: str | int | float) -> Decimal:
    """CPU quantity in cores: ``"250m"`` → 0.25, ``"2"`` → 2. Raises ValueError if malformed."""
    try:
        return parse_quantity(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a CPU quantity (use cores like '1' or '0.5', or millicores like '250m')"
        ) from None


def memory_bytes(value: str | int) -> int:
    """Memory quantity in bytes: ``"256Mi"`` → 268435456. Raises ValueError if malformed."""
    try:
        return int(parse_quantity(value))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a memory quantity (use a number with a unit such as '256Mi' or '1Gi')"
        ) from None


def plain_number(value: Decimal | float) -> str:
    """A number as a plain decimal literal, without float noise or exponent (0.0144, not
    0.014400000000000001 or 1.44E-2): what PromQL and environment variables get."""
    return format(Decimal(str(value)).normalize(), "f")
