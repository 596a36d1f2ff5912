"""The server's own TLS: a certificate and key file, checked before anything listens.

uvicorn serves HTTPS itself when given the two files; every server process of
``steward serve --workers N`` loads them. They are checked here first, in the
command's process, so a wrong path or a key of another certificate stops the
command with a sentence naming the file (exit status 1) rather than a worker's
traceback, and an encrypted key cannot make the server wait for a passphrase
typed on a terminal.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CERT_OPTION = "--tls-cert"
KEY_OPTION = "--tls-key"


class TlsProblem(Exception):
    """A certificate or key Steward cannot serve with; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def uvicorn_options(self) -> dict[str, Any]:
        return {"ssl_certfile": str(self.cert), "ssl_keyfile": str(self.key)}


def tls_files(cert: str | Path | None, key: str | Path | None) -> TlsFiles | None:
    """The checked pair, or None when neither is given; raises :class:`TlsProblem`."""
    cert = str(cert or "").strip() or None
    key = str(key or "").strip() or None
    if cert is None and key is None:
        return None
    if cert is None:
        raise TlsProblem(f"{KEY_OPTION} needs {CERT_OPTION} too (the certificate, PEM)")
    if key is None:
        raise TlsProblem(f"{CERT_OPTION} needs {KEY_OPTION} too (the certificate's private "
                         "key, PEM)")
    files = TlsFiles(Path(cert).expanduser(), Path(key).expanduser())
    _readable(files.cert, CERT_OPTION)
    _readable(files.key, KEY_OPTION)
    _holds_certificate(files.cert)
    _key_matches(files)
    return files


def _readable(path: Path, option: str) -> None:
    try:
        with path.open("rb") as file:
            file.read(1)
    except FileNotFoundError:
        raise TlsProblem(f"{option}: no such file: {path}") from None
    except IsADirectoryError:
        raise TlsProblem(f"{option}: {path} is a folder, not a file") from None
    except OSError as exc:
        raise TlsProblem(f"{option}: cannot read {path}: {exc.strerror or exc}") from None


def _holds_certificate(path: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cafile=str(path))
    except ssl.SSLError:
        raise TlsProblem(f"{CERT_OPTION}: {path} holds no PEM certificate "
                         "(-----BEGIN CERTIFICATE-----)") from None


class _Encrypted(Exception):
    pass


def _no_passphrase() -> str:
    raise _Encrypted


def _key_matches(files: TlsFiles) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(files.cert), str(files.key), _no_passphrase)
    except _Encrypted:
        raise TlsProblem(f"{KEY_OPTION}: {files.key} is encrypted with a passphrase; give "
                         "Steward the key unencrypted, in a file only its user can "
                         "read") from None
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsProblem(f"{KEY_OPTION}: the key in {files.key} does not match the "
                             f"certificate in {files.cert}") from None
        # The certificate loaded on its own, so what OpenSSL could not read is the key.
        raise TlsProblem(f"{KEY_OPTION}: {files.key} holds no PEM private key "
                         "(-----BEGIN PRIVATE KEY-----)") from None
