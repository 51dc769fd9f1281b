"""The pure core keeps to its layer: parsing and the decision module open no socket and
load no source, HTTP, DNS, database or registry library (proven in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = ("hostlocate.sources", "httpx", "dns", "sqlite3", "maxminddb", "ipwhois")
"""Module trees the core must not load; imported, each would raise in the child."""

INPUTS = (
    "https://www.example.co.uk/a b",
    "hxxps://evil[.]github[.]io/x",
    "http://xn--bcher-kva.de./",
    "ｈｔｔｐｓ：／／ｅｖｉｌ．ｃｏｍ／",
    "http://[::ffff:8.8.8.8]/",
    "http://[64:ff9b::808:808]/",
    "http://0x7f.1/",
    "abc.onion",
    "shop.test",
    "javascript:alert(1)",
    "",
)

_CHILD = textwrap.dedent(
    """
    import importlib.abc
    import socket
    import sys

    BLOCKED = {blocked!r}

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"the pure core imported {{name}}")
            return None

    sys.meta_path.insert(0, Blocker())

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise OSError("the pure core opened a socket")

    socket.socket = NoSocket
    socket.create_connection = NoSocket
    socket.socketpair = NoSocket

    from hostlocate.errors import InvalidURLError
    from hostlocate.parse import parse_reported_url
    import hostlocate.decide

    parsed = 0
    for text in {inputs!r}:
        try:
            parse_reported_url(text)
            parsed += 1
        except InvalidURLError:
            pass
    loaded = sorted(
        name for name in sys.modules
        if any(name == b or name.startswith(b + ".") for b in BLOCKED + ("tldextract", "requests"))
    )
    assert not loaded, loaded
    print(parsed)
    """
)


def test_parsing_and_deciding_need_no_socket_and_no_source() -> None:
    code = _CHILD.format(blocked=BLOCKED, inputs=INPUTS)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(INPUTS) - 2  # all but the javascript: URL and the empty text


def test_the_guard_catches_a_socket_and_a_blocked_import() -> None:
    """The same child fails when the core does what it must not (the guard can fail)."""
    opens_socket = _CHILD.format(blocked=BLOCKED, inputs=()) + "\nsocket.socket()\n"
    done = subprocess.run(
        [sys.executable, "-c", opens_socket], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "opened a socket" in done.stderr
    imports_dns = _CHILD.format(blocked=BLOCKED, inputs=()) + "\nimport dns.resolver\n"
    done = subprocess.run(
        [sys.executable, "-c", imports_dns], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "imported dns" in done.stderr
