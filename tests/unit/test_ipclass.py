"""Special-purpose address and name classes."""

from __future__ import annotations

import ipaddress
import random

import pytest

from hostlocate.ipclass import ADDRESS_CLASSES, NAME_CLASSES, classify_host, classify_ip

ADDRESSES = [
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "reserved"),
    ("10.20.30.40", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("172.32.0.1", None),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "cgnat"),
    ("100.127.255.255", "cgnat"),
    ("100.128.0.0", None),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link_local"),
    ("192.0.0.8", "reserved"),
    ("192.0.0.9", None),
    ("192.0.0.10", None),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.255", "documentation"),
    ("192.88.99.1", "reserved"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.254", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::ffff:192.0.2.1", "ipv4_mapped"),
    ("::ffff:c000:201", "ipv4_mapped"),
    ("::192.0.2.1", "reserved"),
    ("64:ff9b::808:808", None),
    ("64:ff9b:1::1", "reserved"),
    ("100::1", "reserved"),
    ("2001::1", "reserved"),
    ("2001:2::1", "benchmarking"),
    ("2001:20::1", None),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("2606:4700:4700::1111", None),
    ("2a00:1450:4001:81b::200e", None),
    ("4000::1", "reserved"),
    ("5f00::1", "reserved"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fe80::1", "link_local"),
    ("fe80::1%eth0", "link_local"),
    ("fec0::1", "reserved"),
    ("ff02::1", "multicast"),
    ("[2001:db8::1]", "documentation"),
]


@pytest.mark.parametrize(("ip", "expected"), ADDRESSES, ids=[a for a, _ in ADDRESSES])
def test_classify_ip(ip: str, expected: str | None) -> None:
    assert classify_ip(ip) == expected


@pytest.mark.parametrize(
    "bad", ["", "example.com", "1.2.3", "256.1.1.1", "1.2.3.4.5", ":::", "[::1"]
)
def test_classify_ip_refuses_non_addresses(bad: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        classify_ip(bad)


def test_every_class_is_documented() -> None:
    seen = {cls for _, cls in ADDRESSES if cls is not None}
    assert seen == ADDRESS_CLASSES


def test_agrees_with_ipaddress_outside_documented_differences() -> None:
    """Random addresses: global here exactly when Python calls them global.

    Documented differences: multicast (Python calls most of it global, it is
    never a hosting address) and the deprecated 6to4 relay range.
    """
    rng = random.Random(7)
    for _ in range(20_000):
        v4 = ipaddress.IPv4Address(rng.getrandbits(32))
        if v4.is_multicast or v4 in ipaddress.IPv4Network("192.88.99.0/24"):
            continue
        assert (classify_ip(str(v4)) is None) == v4.is_global, v4
    for _ in range(5_000):
        v6 = ipaddress.IPv6Address(rng.getrandbits(128) >> 3 | (1 << 125))  # 2000::/3
        if v6.is_multicast or v6 in ipaddress.IPv6Network("2002::/16"):
            continue
        assert (classify_ip(str(v6)) is None) == v6.is_global, v6


NAMES = [
    # RFC 6761 sections 6.2 and 6.5: test and example names are resolved as any other
    ("example.net", None),
    ("www.example.com", None),
    ("EXAMPLE.ORG.", None),
    ("notexample.com", None),
    ("foo.test", None),
    ("a.b.example", None),
    ("test", None),
    ("printer.local", "reserved_name"),
    ("x.invalid", "reserved_name"),
    ("router.home.arpa", "reserved_name"),
    ("thing.alt", "reserved_name"),
    ("corp.internal", "reserved_name"),
    ("localhost", "localhost"),
    ("app.localhost", "localhost"),
    ("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", "onion"),
    ("www.abc.onion.", "onion"),
    ("site.i2p", "i2p"),
    ("onion.example.com", None),
    ("github.io", None),
    ("evil.github.io", None),
    ("xn--bcher-kva.de", None),
]


@pytest.mark.parametrize(("host", "expected"), NAMES, ids=[n for n, _ in NAMES])
def test_classify_host(host: str, expected: str | None) -> None:
    assert classify_host(host) == expected


def test_name_classes_documented() -> None:
    assert {cls for _, cls in NAMES if cls} == NAME_CLASSES
