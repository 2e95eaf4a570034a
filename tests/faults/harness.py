"""A real `silkgate serve` in a subprocess on a loopback port, over a data directory with
the API tests' cast registered, that the fault tests kill -9 and start again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from api.cast import NOW, register_cast

from silkgate.hub import init_hub, open_hub
from silkgate.seal.keys import KeyRing, create_keyring, save_keyring

SERVE = (sys.executable, "-c", "from silkgate.cli import main; main()", "serve")
STARTUP_LIMIT = 60.0
NAMES = ("cn-exporter", "vn-importer", "cn-other-exporter", "th-other-importer", "regulator",
         "operator")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    data: Path
    rings: dict[str, KeyRing]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.data.parent / f"serve-{self.starts}.log").open("wb")
        self.starts += 1
        self.process = subprocess.Popen(
            [*SERVE, "--host", "127.0.0.1", "--port", str(self.port), "--data-dir",
             str(self.data), "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_LIMIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not come up in {STARTUP_LIMIT} s")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self) -> str:
        logs = sorted(self.data.parent.glob("serve-*.log"))
        return logs[-1].read_text("utf-8", errors="replace")[-3000:] if logs else ""


def prepare(directory: Path, settings: str = "") -> Served:
    """A data directory with the cast and its flows registered; not served yet."""
    data = directory / "data"
    init_hub(data)
    (data / "silkgate.toml").write_text(
        'push_allow_hosts = ["127.0.0.1"]\npush_backoff_seconds = 0.2\n'
        "rate_limit_ip_per_second = 0\nrate_limit_participant_per_second = 0\n" + settings,
        "utf-8",
    )
    rings = {name: create_keyring(name, NOW - timedelta(days=1)) for name in NAMES}
    keys = directory / "keys"
    keys.mkdir()
    for name, ring in rings.items():
        save_keyring(ring, keys / f"{name}.json")
    hub = open_hub(data)
    try:
        register_cast(hub, rings)
    finally:
        hub.close()
    return Served(data, rings)
