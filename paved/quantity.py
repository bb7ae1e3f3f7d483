"""Kubernetes resource quantities (CPU and memory), parsed the way the API server does."""

from __future__ import annotations

import re
from decimal import Decimal

_CPU = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>m?)$")
_MEMORY = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?$")
_MEMORY_FACTORS = {
    None: 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def cpu_cores(value: str | int | float) -> Decimal:
    """CPU quantity in cores: ``"250m"`` → 0.25, ``"2"`` → 2. Raises ValueError if malformed."""
    m = _CPU.match(str(value).strip())
    if not m:
        raise ValueError(f"{value!r} is not a CPU quantity (use cores like '1' or '0.5', or millicores like '250m')")
    num = Decimal(m["num"])
    return num / 1000 if m["unit"] == "m" else num


def memory_bytes(value: str | int) -> int:
    """Memory quantity in bytes: ``"256Mi"`` → 268435456. Raises ValueError if malformed."""
    m = _MEMORY.match(str(value).strip())
    if not m:
        raise ValueError(
            f"{value!r} is not a memory quantity (use a number with a unit such as '256Mi' or '1Gi')"
        )
    return int(Decimal(m["num"]) * _MEMORY_FACTORS[m["unit"]])


def plain_number(value: Decimal | float) -> str:
    """A number as a plain decimal literal, without float noise or exponent (0.0144, not
    0.014400000000000001 or 1.44E-2): what PromQL and environment variables get."""
    return format(Decimal(str(value)).normalize(), "f")
