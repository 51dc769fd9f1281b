"""Start, stop and restart Debian's ``redis-server`` on loopback.

The server binds 127.0.0.1 on a free port, with no persistence (``save ""``,
no append-only file), a password (so the tests see that it never leaks), and
its configuration, log and PID file in one working folder.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.netlab.lab import find_binary

__all__ = ["LabError", "LabUnavailable", "RedisLab", "start_redis_lab"]

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
INSTALL_HINT = "apt-get install redis-server"


class LabError(RuntimeError):
    """redis-server could not start; the message holds its log."""


class LabUnavailable(LabError):
    """redis-server is not installed."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class RedisLab:
    """A running redis-server: its URL (with the password), and stop/start."""

    def __init__(self, binary: str, workdir: Path, *, tls_cert: Path | None = None) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.password = secrets.token_hex(12)
        self.tls_cert = tls_cert
        """A self-signed certificate for 127.0.0.1, when the server also speaks TLS."""
        self.tls_port = _free_port() if tls_cert is not None else None
        self._process: subprocess.Popen[bytes] | None = None
        self._config = workdir / "redis.conf"
        tls = (
            f"tls-port {self.tls_port}\ntls-cert-file {tls_cert}\n"
            f"tls-key-file {tls_cert.with_suffix('.key')}\ntls-ca-cert-file {tls_cert}\n"
            "tls-auth-clients no\n"
            if tls_cert is not None
            else ""
        )
        self._config.write_text(
            tls + f"bind {HOST}\n"
            f"port {self.port}\n"
            "protected-mode yes\n"
            f"requirepass {self.password}\n"
            'save ""\n'
            "appendonly no\n"
            f"dir {workdir}\n"
            f"logfile {workdir / 'redis.log'}\n"
            "databases 64\n"
            "daemonize no\n",
            encoding="utf-8",
        )

    def url(self, db: int = 0, *, password: bool = True) -> str:
        """``redis://:PASSWORD@127.0.0.1:PORT/DB`` (without the password if asked)."""
        auth = f":{self.password}@" if password else ""
        return f"redis://{auth}{HOST}:{self.port}/{db}"

    def tls_url(self, db: int = 0) -> str:
        """``rediss://:PASSWORD@127.0.0.1:TLS_PORT/DB?ssl_ca_certs=CERT`` (a TLS lab only)."""
        if self.tls_cert is None:
            raise LabError("this lab was started without TLS")
        query = f"ssl_ca_certs={self.tls_cert}"
        return f"rediss://:{self.password}@{HOST}:{self.tls_port}/{db}?{query}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it answers."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [self.binary, str(self._config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end:
            if self._process.poll() is not None:
                raise LabError(f"redis-server exited at start:\n{self._log()}")
            if self._ping():
                return
            time.sleep(0.05)
        self.stop()
        raise LabError(f"redis-server did not answer within {START_TIMEOUT} s:\n{self._log()}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would; its data is gone."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(5)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def flush(self) -> None:
        """Empty every database."""
        self.command("FLUSHALL")

    def command(self, *words: str, db: int = 0) -> bytes:
        """One command over a plain socket (RESP); the raw reply line(s)."""
        with socket.create_connection((HOST, self.port), timeout=5) as sock:
            payload = b""
            for parts in (("AUTH", self.password), ("SELECT", str(db)), words):
                payload += f"*{len(parts)}\r\n".encode()
                for part in parts:
                    data = part.encode()
                    payload += b"$%d\r\n%s\r\n" % (len(data), data)
            sock.sendall(payload)
            reply = b""
            sock.settimeout(5)
            while reply.count(b"\r\n") < 3:
                chunk = sock.recv(65_536)
                if not chunk:
                    break
                reply += chunk
            return reply.split(b"\r\n", 2)[2]

    def _ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def _log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.workdir / "redis.log").read_text(errors="replace")[-4000:]
        return ""


def _self_signed(workdir: Path) -> Path:
    """A certificate (and its key beside it) for 127.0.0.1, valid for a day."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LabUnavailable("openssl not installed: apt-get install openssl")
    cert = workdir / "tls.crt"
    key = cert.with_suffix(".key")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={HOST}"),
            *("-addext", f"subjectAltName=IP:{HOST}"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert


def start_redis_lab(workdir: Path, *, tls: bool = False) -> RedisLab:
    """A redis-server on a free loopback port, running (with a TLS port too if asked);
    LabUnavailable if redis-server (or, for TLS, openssl) is not installed."""
    binary = find_binary("redis-server")
    if binary is None:
        raise LabUnavailable(f"redis-server not installed: {INSTALL_HINT}")
    workdir.mkdir(parents=True, exist_ok=True)
    lab = RedisLab(binary, workdir, tls_cert=_self_signed(workdir) if tls else None)
    lab.start()
    return lab
