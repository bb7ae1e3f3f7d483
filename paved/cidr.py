"""CIDR blocks: parsing, and whether a set of blocks opens something to the whole internet.

One definition for the stack files (the cluster endpoint's allow-list) and the catalog
(a service's declared egress), so "world-open" means the same everywhere.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

OPEN_WORLD = {"0.0.0.0/0", "::/0"}
# IPv4 space that is not reachable from the internet (RFC 1918, RFC 6890 special purpose,
# multicast, reserved). Blocks that, with these, cover everything are open to the world.
NON_PUBLIC_IPV4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
# Every public IPv6 address is global unicast (RFC 4291, IANA): 2000::/3.
GLOBAL_UNICAST_IPV6 = ipaddress.IPv6Network("2000::/3")
_WHOLE_IPV4 = [ipaddress.IPv4Network("0.0.0.0/0")]


def ip_network(value: str) -> IpNetwork:
    """``value`` as an IPv4 or IPv6 network; ValueError unless it is one, with a prefix length
    and no host bits set (``10.0.0.1/16`` is a typo for some network, not a network)."""
    if not isinstance(value, str) or "/" not in value or value != value.strip():
        raise ValueError(f"{value!r} is not a CIDR block like 10.0.0.0/16")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a CIDR block like 10.0.0.0/16 ({exc})") from None


def ipv4_network(value: str) -> ipaddress.IPv4Network:
    """``value`` as an IPv4 network; ValueError unless it is one, written with no host bits."""
    if isinstance(value, str) and "/" not in value:
        raise ValueError(f"{value!r} is not an IPv4 CIDR block like 10.0.0.0/16")
    net = ip_network(value)
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"{value!r} is not an IPv4 CIDR block like 10.0.0.0/16")
    return net


def covers_public_internet(networks: Iterable[IpNetwork]) -> bool:
    """Whether ``networks`` together cover every public IPv4 address, or every public IPv6 one."""
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    if v4 and list(ipaddress.collapse_addresses([*v4, *NON_PUBLIC_IPV4])) == _WHOLE_IPV4:
        return True
    return bool(v6) and any(GLOBAL_UNICAST_IPV6.subnet_of(n) for n in ipaddress.collapse_addresses(v6))
