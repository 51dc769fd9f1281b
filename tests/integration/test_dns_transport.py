"""The bulk UDP transport on loopback: hostile paths, lost queries, closed ports, bursts.

Against the lab's real unbound through misbehaving relays (tests/netlab/relays.py),
and against small resolvers of the test's own on loopback where a property
(queries in flight, source ports) must be watched from the resolver's side.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from typing import cast

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from hostlocate.models import DnsPart
from hostlocate.sources._dns_path import INITIAL_WINDOW, MAX_WINDOW
from hostlocate.sources._dns_transport import SOCKETS_PER_RESOLVER
from hostlocate.sources._dns_wire import Answer, parse, query_wire
from hostlocate.sources.dns import DnsClient
from tests.integration._budget import MARGIN, timed_verdict
from tests.netlab import DnsLab, bulk_address, bulk_name
from tests.rdaplab import RdapLab

pytestmark = pytest.mark.integration


def resolve(
    client: DnsClient, names: Sequence[str], rdtype: str = "A", budget: float = 5.0
) -> tuple[list[DnsPart], float]:
    async def run() -> list[DnsPart]:
        deadline = time.monotonic() + budget
        return list(
            await asyncio.gather(
                *(client.resolve_part(n, rdtype, deadline=deadline) for n in names)
            )
        )

    started = time.monotonic()
    parts = asyncio.run(run())
    return parts, time.monotonic() - started


def closed_port() -> str:
    """A loopback UDP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"


# -- #12 item 4: unexpected packets are ignored until the deadline -----------------------------


def test_noise_and_near_misses_before_the_answer_are_ignored(dns_lab: DnsLab) -> None:
    """Before each answer the path sends noise, a wrong ID, another question, a broken body."""
    hostile = dns_lab.start_forwarder(0, garbage=True)
    client = DnsClient([hostile])
    names = [dns_lab.names[k] for k in ("fr", "cn", "cname_chain", "nxdomain")]
    parts, _ = resolve(client, names)
    assert [p.addresses for p in parts[:3]] == [("164.132.1.1",), ("61.181.2.38",), ("88.198.1.1",)]
    assert parts[2].chain == ("www.brand-shop.com", "shop.edge-host.net", "origin.hetzner-host.de")
    assert (parts[3].rcode, parts[3].error) == ("NXDOMAIN", "nxdomain")
    assert [p.queries for p in parts] == [1, 1, 1, 1]
    assert client.transport.ignored >= 4 * len(names)  # every decoy was read and dropped


def test_a_hostile_path_still_gives_a_verdict(dns_lab: DnsLab, lab: RdapLab) -> None:
    hostile = dns_lab.start_forwarder(0, garbage=True)
    v, _ = timed_verdict([hostile], lab, dns_lab.names["fr"])
    assert (v.status, v.jurisdiction.country) == ("located", "FR")


# -- lost queries are sent again ------------------------------------------------------------------


def test_a_dropped_query_is_sent_again(dns_lab: DnsLab) -> None:
    """The path drops the first copy of every query: only a retransmit is answered."""
    lossy = dns_lab.start_forwarder(0, drop_first=True)
    client = DnsClient([lossy])
    names = [bulk_name(i) for i in range(40)]
    parts, elapsed = resolve(client, names)
    assert [p.addresses for p in parts] == [(bulk_address(i),) for i in range(40)]
    assert all(p.error is None for p in parts)
    path = client.transport.paths[("127.0.0.1", int(lossy.rsplit(":", 1)[1]))]
    assert path.losses >= len(names)
    assert elapsed < 2.0  # one retransmit timeout, not one query timeout per name


def test_a_lossy_path_loses_no_answer(dns_lab: DnsLab) -> None:
    """A fifth of the queries dropped at random; the budget leaves room for several sends."""
    lossy = dns_lab.start_forwarder(5, loss=0.2)
    client = DnsClient([lossy], query_timeout=5.0)
    names = [f"loss-{i}.wild.corp-site.com" for i in range(150)]
    parts, _ = resolve(client, names, budget=8.0)
    assert [p.addresses for p in parts] == [("193.0.6.139",)] * len(names)


# -- #12 item 17: a closed resolver port is dns_refused, at once --------------------------------


def test_a_closed_resolver_port_is_refused_at_once() -> None:
    client = DnsClient([closed_port()])
    parts, elapsed = resolve(client, ["www.ovh-site.fr", "www.cn-site.com"], budget=5.0)
    assert [(p.error, p.addresses) for p in parts] == [("dns_refused", ())] * 2
    assert elapsed < 1.0  # told by ICMP, not waited for
    assert client.transport.open_sockets() == 0


def test_a_closed_port_verdict_is_dns_refused(dns_lab: DnsLab, lab: RdapLab) -> None:
    v, elapsed = timed_verdict([closed_port()], lab, dns_lab.names["fr"], timeout=5.0)
    assert (v.status, v.error.code if v.error else None) == ("unresolved", "dns_refused")
    assert "dns_failure" in v.jurisdiction.flags
    assert any("port unreachable" in reason for reason in v.jurisdiction.reasons)
    assert elapsed < 1.0


def test_a_closed_first_resolver_falls_through_at_once(dns_lab: DnsLab, lab: RdapLab) -> None:
    v, elapsed = timed_verdict(
        [closed_port(), dns_lab.resolver], lab, dns_lab.names["fr"], query_timeout=2.0
    )
    assert (v.status, v.jurisdiction.country) == ("located", "FR")
    assert elapsed < 2.0 - MARGIN  # the closed port did not cost a query timeout


# -- bursts: a window per resolver, a few sockets ---------------------------------------------


class _SmallResolver(asyncio.DatagramProtocol):
    """A resolver of the test's own that answers every A query after ``delay``.

    It records the most queries it held at once and the source ports it saw;
    with ``capacity`` it drops what arrives while that many are held, as a
    resolver whose receive buffer is full.
    """

    def __init__(self, delay: float, capacity: int | None = None) -> None:
        self.delay = delay
        self.capacity = capacity
        self.held = 0
        self.most_held = 0
        self.dropped = 0
        self.ports: set[int] = set()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.ports.add(addr[1])
        if self.capacity is not None and self.held >= self.capacity:
            self.dropped += 1
            return
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        name = query.question[0].name
        reply.answer.append(
            dns.rrset.from_text(name, 300, dns.rdataclass.IN, dns.rdatatype.A, "192.0.2.7")
        )
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        asyncio.get_running_loop().call_later(self.delay, self._send, reply.to_wire(), addr)

    def _send(self, wire: bytes, addr: tuple[str, int]) -> None:
        self.held -= 1
        assert self.transport is not None
        self.transport.sendto(wire, addr)


def _burst(
    count: int, delay: float, capacity: int | None
) -> tuple[_SmallResolver, DnsClient, list[DnsPart]]:
    async def run() -> tuple[_SmallResolver, DnsClient, list[DnsPart]]:
        loop = asyncio.get_running_loop()
        transport, server = await loop.create_datagram_endpoint(
            lambda: _SmallResolver(delay, capacity), local_addr=("127.0.0.1", 0)
        )
        try:
            port = transport.get_extra_info("sockname")[1]
            # Several retransmits fit in a query's time: the test is about the window.
            client = DnsClient([f"127.0.0.1:{port}"], query_timeout=5.0)
            deadline = time.monotonic() + 10.0
            parts = await asyncio.gather(
                *(
                    client.resolve_part(f"n{i}.example.net", "A", deadline=deadline)
                    for i in range(count)
                )
            )
            return server, client, list(parts)
        finally:
            transport.close()

    return asyncio.run(run())


def test_a_burst_is_held_to_the_window_on_a_few_sockets() -> None:
    server, client, parts = _burst(2000, delay=0.02, capacity=None)
    assert [p.addresses for p in parts] == [("192.0.2.7",)] * 2000
    assert server.most_held <= MAX_WINDOW
    assert next(iter(client.transport.paths.values())).window > INITIAL_WINDOW  # it opened up
    assert len(server.ports) == SOCKETS_PER_RESOLVER
    assert client.transport.open_sockets() == 0  # idle: every socket closed


def test_a_resolver_that_drops_when_full_loses_no_answer() -> None:
    """It holds 48 queries at most and drops the rest: the window backs off and sends again."""
    server, client, parts = _burst(2000, delay=0.02, capacity=48)
    assert [p.addresses for p in parts] == [("192.0.2.7",)] * 2000
    assert server.dropped > 0
    path = next(iter(client.transport.paths.values()))
    assert path.losses > 0
    assert path.window < MAX_WINDOW / 2  # it learnt the resolver's size


# -- the hot-path reader on real answers ----------------------------------------------------------


@pytest.mark.parametrize("rdtype", [1, 28], ids=["A", "AAAA"])
def test_every_lab_answer_reads_as_dnspython_reads_it(dns_lab: DnsLab, rdtype: int) -> None:
    """Each scenario's answer from unbound (NSD for the loop), by both readers."""
    host, port = dns_lab.resolver.rsplit(":", 1)
    compared = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3.0)
        sock.connect((host, int(port)))
        for i, name in enumerate(sorted(dns_lab.names.values())):
            sock.send(query_wire(name, rdtype, i))
            wire = sock.recv(65535)
            reference = Answer.from_message(dns.message.from_wire(wire, raise_on_truncation=False))
            ours = parse(wire)
            if ours.truncated:
                assert ours.question == reference.question
                continue
            assert ours == reference, name
            compared += 1
    assert compared >= len(dns_lab.names) - 1
