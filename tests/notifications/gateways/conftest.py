"""Real servers on 127.0.0.1 for the gateways to talk to: an HTTP server standing in for a vendor's API
(it records each request and answers what the test's `respond` says), SMTP servers (aiosmtpd) with
STARTTLS and with TLS from the start, and a certificate authority made for the test."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Responder = Callable[[Received], tuple[int, Any]]


@dataclass
class GatewayServer:
    """`respond(request) -> (status, JSON-able answer or bytes)`; every request is kept in `received`."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    respond: Responder = lambda request: (200, {})


@pytest.fixture
def gateway_server() -> Iterator[GatewayServer]:
    state = GatewayServer()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urllib.parse.urlsplit(self.path)
            request = Received(
                method=self.command,
                path=self.path,
                query=dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            state.received.append(request)
            status, answer = state.respond(request)
            data = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:  # the vendor's log is not ours
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- TLS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_file: Path  # the company CA, as EXTRA_CA_CERTS names it
    server_context: ssl.SSLContext  # a server certificate for 127.0.0.1 / localhost signed by that CA


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(tz=datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("CloseLoop test company CA"))
        .issuer_name(_name("CloseLoop test company CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "company-ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file = directory / "server.pem"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file = directory / "server.key"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return Pki(ca_file=ca_file, server_context=context)


# --- SMTP ------------------------------------------------------------------------------------------


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool


class _Recorder:
    def __init__(self) -> None:
        self.messages: list[Delivered] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(
            Delivered(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=bytes(envelope.original_content or b""),
                # After STARTTLS, or on a connection that was TLS from its first byte.
                tls=session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    messages: list[Delivered]


@pytest.fixture
def smtp_server(pki: Pki) -> Iterator[Callable[..., SmtpServer]]:
    """`smtp_server(implicit_tls=False)`: STARTTLS required; `implicit_tls=True`: TLS from the first byte."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    servers: list[asyncio.base_events.Server] = []
    # aiosmtpd logs envelopes (addresses) at INFO: the stand-in server's log is not the application's.
    mail_log = logging.getLogger("mail.log")
    level, mail_log.level = mail_log.level, logging.WARNING

    def start(*, implicit_tls: bool = False) -> SmtpServer:
        recorder = _Recorder()

        def factory() -> SMTP:
            if implicit_tls:
                return SMTP(recorder, hostname="localhost")
            return SMTP(recorder, hostname="localhost", tls_context=pki.server_context, require_starttls=True)

        async def serve() -> asyncio.base_events.Server:
            return await loop.create_server(factory, "127.0.0.1", 0, ssl=pki.server_context if implicit_tls else None)

        server = asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
        servers.append(server)
        return SmtpServer(port=server.sockets[0].getsockname()[1], messages=recorder.messages)

    try:
        yield start
    finally:

        async def stop(server: asyncio.base_events.Server) -> None:
            server.close()
            await server.wait_closed()

        for server in servers:
            asyncio.run_coroutine_threadsafe(stop(server), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        mail_log.level = level
