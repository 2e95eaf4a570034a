"""Finding 6 over TLS: the push connects to the address that was checked, yet TLS still
names the receiver: the server name (SNI) and the certificate check are the URL's host, not
the IP connected to. A real TLS server on 127.0.0.1 with a certificate for `receiver.test`."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.x509.oid import NameOID

from silkgate.mailbox.delivery import PushPolicy, resolve_push_destination, send_push


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = generate_private_key(SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pkcs8, none = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, none))
    return cert_path, key_path


@dataclass
class Seen:
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


@contextmanager
def tls_server(cert: Path, key: Path, seen: Seen) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        seen.server_names.append(name)

    context.sni_callback = sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _policy(trusted: Path) -> PushPolicy:
    context = ssl.create_default_context(cafile=str(trusted))
    return PushPolicy(timeout=3.0, deadline=5.0, tls_context=context,
                      allow_hosts=frozenset({"receiver.test"}))  # fmt: skip


def _push(url: str, policy: PushPolicy) -> tuple[bool, str]:
    address = resolve_push_destination(url, policy.allow_hosts, lambda h, p: ["127.0.0.1"])
    request = httpx.Request("POST", url, content=b"sealed")
    result = send_push(request, address, policy)
    return result.ok, result.detail


def test_tls_names_the_receiver_while_connecting_to_the_checked_address(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "receiver.test")
    seen = Seen()
    with tls_server(cert, key, seen) as port:
        ok, detail = _push(f"https://receiver.test:{port}/in", _policy(cert))
    assert ok, detail
    assert seen.server_names == ["receiver.test"]
    assert seen.hosts == [f"receiver.test:{port}"]


def test_a_certificate_for_another_name_is_refused(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "other.test")
    seen = Seen()
    with tls_server(cert, key, seen) as port:
        ok, detail = _push(f"https://receiver.test:{port}/in", _policy(cert))
    assert not ok
    assert "certificate" in detail.lower() or "hostname" in detail.lower(), detail
    assert seen.hosts == []


def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "receiver.test")
    other, _ = _certificate(tmp_path, "unrelated.test")
    with tls_server(cert, key, Seen()) as port:
        ok, _ = _push(f"https://receiver.test:{port}/in", _policy(other))
    assert not ok
