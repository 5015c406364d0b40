"""Which IP addresses the fetcher may connect to, and what a host string really names.

A pure module (no sockets, no DNS): the fetcher calls it on literal hosts at submit time and on
every address the resolver returns at connect time. Python's ``ipaddress.is_global`` is not used
as the rule because it calls multicast and NAT64 forms of private addresses global; the tables
below are explicit instead (IANA special-purpose registries, RFC 6890 and successors).

Hosts are parsed the way resolvers parse them: ``getaddrinfo`` follows ``inet_aton``, so
``2130706433``, ``0x7f.1``, ``0177.0.0.1`` and ``127.1`` all name 127.0.0.1.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IPAddress = IPv4Address | IPv6Address

_V4_BLOCKED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "unspecified (this network)"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
    )
)

_V4_LOOPBACK = IPv4Network("127.0.0.0/8")
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")

# Outside 2000::/3 everything is refused; these name the reason.
_V6_OUTSIDE_REASONS: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
        ("100::/64", "discard-only"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("::/96", "IPv4-compatible (deprecated)"),
    )
)

# Special ranges inside 2000::/3 that are not reachable public hosts.
_V6_INSIDE_BLOCKED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        # Teredo, benchmarking (2001:2::/48), ORCHID and other protocol assignments.
        ("2001::/23", "IETF protocol assignment"),
    )
)

_MAPPED = IPv6Network("::ffff:0:0/96")
_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")

_DECIMAL = re.compile(r"[0-9]+")
_OCTAL = re.compile(r"0[0-7]*")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


def _ipv4_part(text: str) -> int | None:
    """One dotted part as ``inet_aton`` reads it: 0x hex, leading-zero octal, or decimal."""
    if _HEX.fullmatch(text):
        # WHATWG reads a bare "0x" as zero; glibc refuses it. Zero is the safer reading.
        return int(text[2:] or "0", 16)
    if text.startswith("0"):
        return int(text, 8) if _OCTAL.fullmatch(text) else None
    return int(text) if _DECIMAL.fullmatch(text) else None


def parse_ipv4(text: str) -> IPv4Address | None:
    """Parse every IPv4 form a resolver accepts (``127.1``, ``0x7f.1``, ``2130706433`` ...).

    Returns None when ``text`` is not an IPv4 address in any of those forms.
    """
    labels = text.split(".")
    if not 1 <= len(labels) <= 4:
        return None
    parts = [_ipv4_part(label) for label in labels]
    if any(part is None for part in parts):
        return None
    numbers = [part for part in parts if part is not None]
    # Every part but the last is one byte; the last fills the remaining bytes.
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return IPv4Address(value)


def ends_in_number(host: str) -> bool:
    """True when the last label looks numeric, so the host must be an IPv4 address or invalid.

    This is the WHATWG URL rule: ``1.2.3.08`` is neither a valid address nor a name to look up.
    """
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(_DECIMAL.fullmatch(last) or _HEX.fullmatch(last))


def parse_ip(host: str) -> IPAddress | None:
    """The address a literal host names (IPv6 without brackets, IPv4 in any form), else None.

    An IPv6 zone identifier (``fe80::1%eth0``) is dropped: the address alone decides.
    """
    if ":" in host:
        try:
            return IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4(host)


def embedded_ipv4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the form's name, if it carries one.

    Forms: IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo
    (2001::/32, whose client address is stored inverted). For Teredo the client is returned.
    """
    value = int(ip)
    low32 = IPv4Address(value & 0xFFFFFFFF)
    if ip in _MAPPED:
        return "IPv4-mapped", low32
    if ip in _COMPATIBLE and value > 1:
        return "IPv4-compatible", low32
    if ip in _NAT64:
        return "NAT64", low32
    if ip in _SIX_TO_FOUR:
        return "6to4", IPv4Address((value >> 80) & 0xFFFFFFFF)
    if ip in _TEREDO:
        return "Teredo", IPv4Address(~value & 0xFFFFFFFF)
    return None


def _v4_reason(ip: IPv4Address, allow_loopback: bool) -> str | None:
    if allow_loopback and ip in _V4_LOOPBACK:
        return None
    for network, reason in _V4_BLOCKED:
        if ip in network:
            return reason
    return None


def _embedded_reason(ip: IPv6Address, allow_loopback: bool) -> str | None:
    """Why the IPv4 address inside ``ip`` is refused, if it is."""
    found = embedded_ipv4(ip)
    if found is None:
        return None
    form, inner = found
    # Only the mapped form reaches this host's own loopback; the others go through a gateway.
    reason = _v4_reason(inner, allow_loopback and form == "IPv4-mapped")
    if reason is None and ip in _TEREDO:
        reason = _v4_reason(IPv4Address((int(ip) >> 64) & 0xFFFFFFFF), False)
    return f"{reason}, in {form} form" if reason else None


def _v6_reason(ip: IPv6Address, allow_loopback: bool) -> str | None:
    if ip == IPv6Address("::"):
        return "unspecified"
    if ip == IPv6Address("::1"):
        return None if allow_loopback else "loopback"
    embedded = _embedded_reason(ip, allow_loopback)
    if embedded:
        return embedded
    if ip in _MAPPED or ip in _NAT64:
        return None  # carries a public IPv4 address
    if ip not in _V6_GLOBAL_UNICAST:
        for network, reason in _V6_OUTSIDE_REASONS:
            if ip in network:
                return reason
        return "reserved"
    for network, reason in _V6_INSIDE_BLOCKED:
        if ip in network:
            return reason
    return None


def blocked_reason(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why the fetcher must not connect to ``ip`` ("private", "loopback", ...), or None if it may.

    ``allow_loopback`` admits 127.0.0.0/8, ::1 and their IPv4-mapped forms (tests only);
    0.0.0.0 stays refused because connecting to it reaches this host too.
    """
    if isinstance(ip, IPv4Address):
        return _v4_reason(ip, allow_loopback)
    return _v6_reason(ip, allow_loopback)


def is_public_ip(ip: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True when the fetcher may connect to ``ip``."""
    return blocked_reason(ip, allow_loopback=allow_loopback) is None
