"""An importer's push receiver for the tests: a real threaded HTTP server on 127.0.0.1 that
verifies the hub's RFC 9421 signature (with the key from GET /v1/hub) as a partner would,
records what it got, and answers with the status codes it is told to, in order."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from silkgate.errors import AuthError
from silkgate.mailbox.delivery import PUSH_COMPONENTS
from silkgate.seal.httpsig import verify_request
from silkgate.seal.keys import ed25519_public_from_bytes


@dataclass
class Push:
    headers: dict[str, str]
    body: bytes
    verified: bool
    refusal: str = ""


@dataclass
class Receiver:
    hub_key_id: str
    hub_key: Ed25519PublicKey
    clock: Callable[[], datetime]
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    pushes: list[Push] = field(default_factory=list)
    url: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)
    _nonces: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, method: str, url: str, headers: dict[str, str], body: bytes) -> int:
        push = Push(headers, body, verified=False)
        try:
            verify_request(
                method, url, headers, body, self._resolve, self.clock(), self._seen,
                required=PUSH_COMPONENTS,
            )  # fmt: skip
            push.verified = True
        except AuthError as exc:
            push.refusal = str(exc)
        with self._lock:
            self.pushes.append(push)
            status = self.statuses.pop(0) if self.statuses else 200
        self.arrived.set()
        return status if push.verified else 401

    def _resolve(self, key_id: str) -> Ed25519PublicKey:
        if key_id != self.hub_key_id:
            raise AuthError(f"{key_id} is not the hub's key")
        return self.hub_key

    def _seen(self, nonce: str, expires_at: int) -> bool:
        with self._lock:
            seen = nonce in self._nonces
            self._nonces.add(nonce)
            return seen


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = f"http://{self.headers['Host']}{self.path}"
            status = receiver.accept("POST", url, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def receiving(hub_identity: dict[str, str], clock: Callable[[], datetime]) -> Iterator[Receiver]:
    """A receiver at ``http://127.0.0.1:<free port>/inbox`` for the hub of `hub_identity`
    (the JSON of GET /v1/hub)."""
    key = ed25519_public_from_bytes(base64.b64decode(hub_identity["signing_key"]))
    receiver = Receiver(hub_key_id=hub_identity["key_id"], hub_key=key, clock=clock)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/inbox"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
