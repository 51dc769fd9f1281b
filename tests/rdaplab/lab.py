"""Start, steer and stop the RDAP lab."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from tests.rdaplab.bootstrap_writer import RIRS, write_bootstrap
from tests.rdaplab.catalogue import DEFAULT_GENERATED, Catalogue, GeneratedRange, shared_data_dir
from tests.rdaplab.server import Fault, LabServer

__all__ = ["LabUnavailable", "RdapLab", "start_rdap_lab"]

DOMAIN_REGISTRIES = ("verisign", "afnic", "nominet", "denic", "markmonitor", "norid")


class LabUnavailable(RuntimeError):
    """The recorded data the lab serves is not on this machine."""


class RdapLab:
    """A running RDAP lab: base URL, bootstrap folder, counters and fault knobs.

    Knobs take a registry name (``arin``, ``ripe``, ``apnic``, ``lacnic``,
    ``afrinic``, ``verisign``...) and act on that registry's next ``times``
    requests (None: until :meth:`reset`), in the order they were set.
    """

    def __init__(
        self,
        server: LabServer,
        thread: threading.Thread,
        catalogue: Catalogue,
        bootstrap_dir: Path,
    ) -> None:
        self._server = server
        self.catalogue = catalogue
        """What the lab serves."""
        self._thread = thread
        self.bootstrap_dir = bootstrap_dir
        """An IANA-format bootstrap folder whose services are this lab's."""
        self.base_url = server.origin
        """``http://127.0.0.1:PORT`` (no trailing slash)."""

    def service(self, registry: str) -> str:
        """The base URL of one registry's service, as the bootstrap names it."""
        return f"{self.base_url}/{registry}/"

    # -- counters ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Requests received per registry (first path segment) since the last reset."""
        with self._server.state.lock:
            return dict(self._server.state.counts)

    def path_counts(self) -> dict[str, int]:
        """Requests received per path since the last reset."""
        with self._server.state.lock:
            return dict(self._server.state.paths)

    def total(self) -> int:
        """All requests received since the last reset."""
        return sum(self.counts().values())

    def reset(self) -> None:
        """Zero the counters and drop every fault and latency setting."""
        self._server.state.reset()

    # -- knobs -------------------------------------------------------------------------

    def rate_limit(
        self, registry: str, *, times: int | None = 1, retry_after: str | None = "1"
    ) -> None:
        """Answer 429 Too Many Requests, with ``Retry-After`` (seconds or an HTTP date)."""
        self._server.state.add_fault(registry, Fault("429", times, retry_after=retry_after))

    def server_error(self, registry: str, *, times: int | None = 1, status: int = 500) -> None:
        """Answer with an HTTP error status (5xx by default) and an RDAP error body."""
        self._server.state.add_fault(registry, Fault("status", times, status=status))

    def malformed_json(self, registry: str, *, times: int | None = 1) -> None:
        """Answer 200 with a truncated JSON body."""
        self._server.state.add_fault(registry, Fault("malformed", times))

    def wrong_content_type(self, registry: str, *, times: int | None = 1) -> None:
        """Answer 200 with an HTML page (``text/html``)."""
        self._server.state.add_fault(registry, Fault("content_type", times))

    def oversized(
        self,
        registry: str,
        *,
        size: int = 2_000_000,
        declare_length: bool = True,
        times: int | None = 1,
    ) -> None:
        """Answer 200 with a JSON body of ``size`` bytes, with or without Content-Length."""
        self._server.state.add_fault(
            registry, Fault("oversize", times, size=size, declare_length=declare_length)
        )

    def redirect_loop(self, first: str, second: str) -> None:
        """``first`` redirects every query to ``second`` and back, until reset."""
        self.redirect(first, "{base}/" + second + "/{rest}", times=None)
        self.redirect(second, "{base}/" + first + "/{rest}", times=None)

    def redirect(
        self, registry: str, location: str, *, times: int | None = 1, status: int = 301
    ) -> None:
        """Redirect to ``location``; ``{base}`` is the lab's origin, ``{rest}`` the query path
        after the registry (e.g. ``ip/193.0.6.139``)."""
        self._server.state.add_fault(
            registry, Fault("redirect", times, status=status, location=location)
        )

    def slow_body(self, registry: str, *, seconds: float = 5.0, times: int | None = 1) -> None:
        """Send the right answer, but trickle its body over ``seconds``."""
        self._server.state.add_fault(registry, Fault("slow", times, seconds=seconds))

    def latency(self, registry: str | None, seconds: float) -> None:
        """Delay every answer of ``registry`` (None: all registries) by ``seconds``."""
        with self._server.state.lock:
            self._server.state.latency[registry or "*"] = seconds

    # -- life cycle --------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RdapLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_rdap_lab(
    workdir: Path,
    *,
    data_dir: Path | None = None,
    generated: Sequence[GeneratedRange] = DEFAULT_GENERATED,
) -> RdapLab:
    """Start the lab on a free loopback port and write its bootstrap into ``workdir``.

    ``data_dir`` is the shared data folder (default ``<repo>/../shared/data``);
    raises :class:`LabUnavailable` when its recorded responses or IANA
    bootstrap files are absent.
    """
    data = data_dir or shared_data_dir()
    recorded = data / "rdap-responses"
    iana = data / "rdap-bootstrap"
    if not (recorded / "INDEX.csv").is_file() or not (iana / "ipv4.json").is_file():
        raise LabUnavailable(
            f"recorded RDAP data not found under {data} (rdap-responses/, rdap-bootstrap/)"
        )
    server = LabServer()
    registries = (*RIRS, *DOMAIN_REGISTRIES)
    bases = {name: f"{server.origin}/{name}/" for name in registries}
    try:
        catalogue = Catalogue(recorded, bases=bases, generated=generated)
        bootstrap_dir = write_bootstrap(
            Path(workdir) / "bootstrap",
            base=server.origin,
            iana_dir=iana,
            domain_registries=catalogue.domain_registries,
        )
    except BaseException:
        server.server_close()
        raise
    server.catalogue = catalogue
    server.bootstrap_dir = bootstrap_dir
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="rdap-lab", daemon=True
    )
    thread.start()
    return RdapLab(server, thread, catalogue, bootstrap_dir)
