"""Real peers for notification tests: an SMTP server (aiosmtpd) and an HTTP receiver
on 127.0.0.1, each on a free port, each keeping what it received."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content or envelope.content,
                                          policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on 127.0.0.1 (``port``, or a free one)."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller.port, box
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Received]
    status: list[int]  # the status answered, settable by the test


@contextmanager
def http_receiver(status: int = 200) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 that keeps every POST and answers ``status``."""
    requests: list[Received] = []
    answer = [status]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                     raw))
            self.send_response(answer[0])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_port}/hook", requests, answer)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_server_tls(folder: Any, user: str, password: str
                    ) -> Iterator[tuple[int, Mailbox, Any, list[str]]]:
    """An SMTP server that requires STARTTLS and a login (``user``/``password``), with a
    certificate for 127.0.0.1 from a test authority; yields (port, mailbox, the
    authority's PEM file, the logins it accepted)."""
    import ssl
    from pathlib import Path

    import trustme
    from aiosmtpd.smtp import AuthResult

    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issued.configure_cert(context)
    ca_file = Path(folder) / "smtp-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    logins: list[str] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        ok = data.login.decode() == user and data.password.decode() == password
        if ok:
            logins.append(data.login.decode())
        return AuthResult(success=ok)

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticate,
                            auth_required=True)
    controller.start()
    try:
        yield controller.port, box, ca_file, logins
    finally:
        controller.stop()
