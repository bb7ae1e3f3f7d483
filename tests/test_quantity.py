"""paved.quantity parses Kubernetes quantities as the API server does (issue 17, family 6).

Checked against the installed ``kubernetes`` client's ``parse_quantity`` on every form both
accept, and stricter than it where it is laxer than the API server (spaces, non-ASCII
digits, ``K``).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kubernetes.utils import parse_quantity as client_parse

from paved.quantity import cpu_cores, memory_bytes, parse_quantity

VALID = ["1", "0", "250m", "0.5", ".5", "5.", "1.5", "1e9", "1E3", "2e-3", "1e+3", "+1", "100n", "5u",
         "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "256Mi", "1.5Gi", "1Ti", "1Pi", "1Ei", "128974848000m", "-1"]


@pytest.mark.parametrize("value", VALID)
def test_agrees_with_the_kubernetes_client(value):
    assert parse_quantity(value) == client_parse(value)


@pytest.mark.parametrize("value", [" 100m", "100m ", "١", "１Gi", "1K", "1ki", "1.5e3m", "1 Gi", "1_000", "0x10", "",
                                   "m", "Gi", "1e", "1e999", "inf", "nan", "1" * 70, "250m\n", "1.2.3"])
def test_refuses_what_the_api_server_refuses(value):
    with pytest.raises(ValueError):
        parse_quantity(value)


@pytest.mark.parametrize(("value", "cores"), [("250m", "0.25"), ("1", "1"), ("0.5", "0.5"), ("100m", "0.1"), (2, "2"), (0.5, "0.5")])
def test_cpu_cores_keeps_its_results(value, cores):
    assert str(cpu_cores(value)) == cores


@pytest.mark.parametrize(("value", "size"), [("256Mi", 268435456), ("1Gi", 2**30), ("1.5Gi", 1610612736), ("0.5Ki", 512),
                                             ("100M", 10**8), ("1000", 1000), (1024, 1024), ("1e9", 10**9)])
def test_memory_bytes_keeps_its_results(value, size):
    assert memory_bytes(value) == size


def test_errors_name_the_resource():
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_cores("250x")
    with pytest.raises(ValueError, match="not a memory quantity"):
        memory_bytes("1GB")
    assert parse_quantity("1e-3") == Decimal("0.001")
