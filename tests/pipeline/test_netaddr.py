"""Address classification and host parsing for the fetcher: pure functions, no network."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authcheck.pipeline import netaddr

# (network, why it must never be fetched) — written out here, independently of the module.
BLOCKED_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]


def _mapped(v4: IPv4Address) -> IPv6Address:
    return IPv6Address((0xFFFF << 32) | int(v4))


def _compatible(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(int(v4))


def _nat64(v4: IPv4Address) -> IPv6Address:
    return IPv6Address(int(IPv6Address("64:ff9b::")) | int(v4))


def _six_to_four(v4: IPv4Address) -> IPv6Address:
    return IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)


def _teredo_client(v4: IPv4Address) -> IPv6Address:
    server = int(IPv4Address("8.8.8.8"))
    return IPv6Address((0x20010000 << 96) | (server << 64) | (~int(v4) & 0xFFFFFFFF))


EMBEDDINGS = [_mapped, _compatible, _nat64, _six_to_four, _teredo_client]


def _in(network: str):
    net = IPv4Network(network)
    return st.integers(int(net.network_address), int(net.broadcast_address)).map(IPv4Address)


blocked_v4 = st.sampled_from(BLOCKED_V4).flatmap(_in)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("0", "0.0.0.0"),
        ("4294967295", "255.255.255.255"),
        ("169.254.43518", "169.254.169.254"),
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_parse_ip_reads_every_spelling_a_resolver_accepts(host: str, expected: str) -> None:
    assert netaddr.parse_ip(host) == ip_address(expected)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "1.2.3.4.5",
        "256.1.1.1",
        "4294967296",
        "08.0.0.1",
        "1..2",
        "",
        "::g",
        "1.2.3.x",
    ],
)
def test_parse_ip_refuses_what_is_not_an_address(host: str) -> None:
    assert netaddr.parse_ip(host) is None


@pytest.mark.parametrize(
    ("host", "numeric"),
    [
        ("1.2.3.08", True),
        ("4294967296", True),
        ("a.0x1F", True),
        ("example.com", False),
        ("1.2.3.4a", False),
    ],
)
def test_ends_in_number_flags_hosts_that_must_be_addresses(host: str, numeric: bool) -> None:
    assert netaddr.ends_in_number(host) is numeric


@given(
    st.lists(
        st.from_regex(r"(0[xX][0-9a-fA-F]{1,9}|[0-9]{1,11})", fullmatch=True),
        min_size=1,
        max_size=5,
    )
)
def test_parse_ipv4_agrees_with_inet_aton_wherever_inet_aton_accepts(parts: list[str]) -> None:
    text = ".".join(parts)
    try:
        packed = socket.inet_aton(text)
    except OSError:
        return
    assert netaddr.parse_ipv4(text) == IPv4Address(packed)


@pytest.mark.parametrize(
    ("address", "reason_word"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade"),
        ("100.100.100.200", "carrier-grade"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::127.0.0.1", "loopback"),
        ("::8.8.8.8", "IPv4-compatible"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b:1::1", "NAT64"),
        ("2002:7f00:1::", "loopback"),
        ("2002:a00:1::1", "private"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
        ("fd00:ec2::254", "unique local"),
        ("fc00::1", "unique local"),
        ("fe80::1", "link-local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("2001:2::1", "IETF"),
        ("100::1", "discard"),
        ("::ffff:0:7f00:1", "IPv4-translated"),
    ],
)
def test_blocked_reason_names_why_an_address_is_refused(address: str, reason_word: str) -> None:
    reason = netaddr.blocked_reason(ip_address(address))
    assert reason is not None and reason_word in reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_and_their_embeddings_are_allowed(address: str) -> None:
    assert netaddr.is_public_ip(ip_address(address))


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::", False),
    ],
)
def test_allow_loopback_admits_only_this_hosts_loopback(address: str, allowed: bool) -> None:
    assert netaddr.is_public_ip(ip_address(address), allow_loopback=True) is allowed


@given(blocked_v4)
def test_every_blocked_ipv4_address_is_refused(address: IPv4Address) -> None:
    assert not netaddr.is_public_ip(address)


@given(blocked_v4, st.sampled_from(EMBEDDINGS))
def test_every_ipv6_embedding_of_a_blocked_ipv4_address_is_refused(
    address: IPv4Address, embed
) -> None:
    wrapped = embed(address)
    assert not netaddr.is_public_ip(wrapped)
    assert not netaddr.is_public_ip(wrapped, allow_loopback=embed is not _mapped)


@given(st.integers(0, 2**32 - 1).map(IPv4Address))
def test_ipv4_rule_matches_is_global_except_where_is_global_is_too_generous(
    address: IPv4Address,
) -> None:
    # ipaddress calls multicast, 192.0.0.9 and the 6to4 relay range global; the fetcher does not.
    extra = address.is_multicast or address in IPv4Network("192.0.0.0/24")
    extra = extra or address in IPv4Network("192.88.99.0/24")
    assert netaddr.is_public_ip(address) == (address.is_global and not extra)


@given(st.integers(0, 2**32 - 1).map(IPv4Address), st.sampled_from([_mapped, _nat64, _six_to_four]))
def test_routable_embeddings_follow_the_embedded_address(address: IPv4Address, embed) -> None:
    assert netaddr.is_public_ip(embed(address)) == netaddr.is_public_ip(address)


_SPECIAL_V6 = [IPv6Network(n) for n in ("2001::/23", "2001:db8::/32", "2002::/16", "3fff::/20")]


@given(st.integers(0x2 << 124, (0x4 << 124) - 1).map(IPv6Address))
def test_global_unicast_ipv6_outside_special_ranges_is_public(address: IPv6Address) -> None:
    if any(address in network for network in _SPECIAL_V6):
        return
    assert netaddr.is_public_ip(address)


@given(st.integers(0, (0x2 << 124) - 1).map(IPv6Address))
def test_ipv6_below_global_unicast_is_public_only_as_mapped_or_nat64(address: IPv6Address) -> None:
    carries_v4 = address in IPv6Network("::ffff:0:0/96") or address in IPv6Network("64:ff9b::/96")
    if not carries_v4:
        assert not netaddr.is_public_ip(address, allow_loopback=address != IPv6Address("::1"))


def test_embedded_ipv4_unwraps_each_form() -> None:
    v4 = IPv4Address("169.254.169.254")
    assert netaddr.embedded_ipv4(_mapped(v4)) == ("IPv4-mapped", v4)
    assert netaddr.embedded_ipv4(_compatible(v4)) == ("IPv4-compatible", v4)
    assert netaddr.embedded_ipv4(_nat64(v4)) == ("NAT64", v4)
    assert netaddr.embedded_ipv4(_six_to_four(v4)) == ("6to4", v4)
    assert netaddr.embedded_ipv4(_teredo_client(v4)) == ("Teredo", v4)
    assert netaddr.embedded_ipv4(IPv6Address("2606:4700::1")) is None
