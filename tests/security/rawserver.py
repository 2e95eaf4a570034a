"""A real HTTP/1.1 server on 127.0.0.1 whose answers misbehave on purpose: a huge body, a
declared huge body, bytes dribbled one at a time, or a plain 200. It records each request's
head and counts the bytes it managed to send."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Behaviour:
    mode: str = "ok"  # ok | status | huge | declared | dribble-head | dribble-body
    status: int = 200
    pause: float = 0.2  # dribble: seconds between two bytes
    limit: int = 200 * 1024 * 1024  # huge: bytes to send at most
    heads: list[bytes] = field(default_factory=list)
    sent: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        b: Behaviour = self.server.behaviour  # type: ignore[attr-defined]
        conn: socket.socket = self.request
        head = _read_request(conn)
        with b.lock:
            b.heads.append(head)
        b.arrived.set()
        with contextlib.suppress(OSError):  # the hub hung up: that is the point
            self._answer(conn, b)

    def _answer(self, conn: socket.socket, b: Behaviour) -> None:
        if b.mode in ("ok", "status"):
            conn.sendall(f"HTTP/1.1 {b.status} X\r\nContent-Length: 2\r\n\r\nok".encode())
        elif b.mode == "declared":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 419430400\r\n\r\n")
            self._flood(conn, b)
        elif b.mode == "huge":
            conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            self._flood(conn, b)
        elif b.mode == "dribble-head":
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                conn.sendall(bytes([byte]))
                b.sent += 1
                time.sleep(b.pause)
        elif b.mode == "dribble-body":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
            for _ in range(10_000):
                conn.sendall(b"x")
                b.sent += 1
                time.sleep(b.pause)

    def _flood(self, conn: socket.socket, b: Behaviour) -> None:
        chunk = b"x" * 65536
        while b.sent < b.limit:
            conn.sendall(chunk)
            b.sent += len(chunk)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


@contextmanager
def raw_server(behaviour: Behaviour) -> Iterator[tuple[int, Behaviour]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server.server_address[1], behaviour
    finally:
        server.shutdown()
        server.server_close()
