"""The server secret key: where it is kept, and sealing secrets with it.

The key never lives in the database, so a copy of the database (a dump, a
backup, a stolen file) is not enough to use the secrets sealed in it. It
comes from ``STEWARD_SECRET_KEY``, else from a key file:
``STEWARD_SECRET_KEY_FILE``, or on SQLite ``<database file>.key`` beside the
database. On SQLite the file is created (mode 0600) the first time a key is
needed; on PostgreSQL, whose database several servers may share, the operator
gives every server the same key.

Sealing is AES-256-GCM under a key derived from the server secret with HKDF.
A sealed value names the key that sealed it by a key id (a hash of the key,
not the key), so a wrong key is reported as such and a rotation can tell what
is left to re-seal.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from steward.config import Settings
from steward.errors import StewardError

ENV_KEY = "STEWARD_SECRET_KEY"
ENV_FILE = "STEWARD_SECRET_KEY_FILE"
# Keys Steward is given to rotate to must be at least this long (a generated key has 64).
MIN_NEW_KEY_LENGTH = 32
SEAL_VERSION = "v1"
NONCE_BYTES = 12


class SecretKeyProblem(StewardError):
    """The server secret key is missing, unreadable, or not the one the database needs.

    A problem of the server's set-up, not of a request: 503."""

    status_code = 503


@dataclass(frozen=True)
class KeySource:
    """Where this process takes its secret key from."""

    value: str = field(repr=False)  # STEWARD_SECRET_KEY, "" when unset
    file: Path | None  # the key file, used when the variable is unset
    may_create: bool  # SQLite: create the file when the key is first needed

    @property
    def origin(self) -> str:
        if self.value:
            return ENV_KEY
        if self.file is not None:
            return f"key file {self.file}"
        return "nowhere"


def key_source(settings: Settings) -> KeySource:
    if settings.secret_key_file:
        file: Path | None = Path(settings.secret_key_file).expanduser()
    elif settings.sqlite_path is not None:
        file = default_key_file(settings.sqlite_path)
    else:
        file = None
    return KeySource(settings.secret_key, file, may_create=settings.is_sqlite)


def default_key_file(database: Path) -> Path:
    return database.with_name(database.name + ".key")


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ServerKey:
    secret: bytes = field(repr=False)
    origin: str

    @cached_property
    def key_id(self) -> str:
        """Names the key in sealed values, the audit log and messages; reveals nothing of it."""
        return _derive(self.secret, b"steward key id v1")[:8].hex()

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(_derive(self.secret, b"steward sealed secrets v1"))

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt ``plaintext``; ``context`` (what it belongs to) must be given again to open
        it, so a sealed value moved to another row does not open."""
        nonce = os.urandom(NONCE_BYTES)
        box = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{SEAL_VERSION}.{self.key_id}.{_b64(nonce + box)}"

    def unseal(self, sealed: str, context: str) -> str:
        key_id = sealed_key_id(sealed)
        if key_id != self.key_id:
            raise SecretKeyProblem(f"{context}: sealed with key {key_id}, not with the key from "
                                   f"{self.origin} (key {self.key_id})")
        blob = _unb64(sealed.split(".", 2)[2])
        try:
            plain = self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise SecretKeyProblem(f"{context}: its sealed secret was altered") from None
        return plain.decode()


def sealed_key_id(sealed: str) -> str:
    parts = sealed.split(".", 2)
    if len(parts) != 3 or parts[0] != SEAL_VERSION:
        raise SecretKeyProblem(f"not a sealed value of this Steward version: {sealed[:12]!r}...")
    return parts[1]


def generate_key() -> str:
    return secrets.token_hex(32)


def check_new_key(value: str) -> str:
    value = value.strip()
    if len(value) < MIN_NEW_KEY_LENGTH:
        raise SecretKeyProblem(f"the new key must have at least {MIN_NEW_KEY_LENGTH} "
                               "characters (`steward secret generate` makes one)")
    return value


def read_key(source: KeySource) -> ServerKey | None:
    """The configured key, or None when there is none (yet)."""
    if source.value:
        return ServerKey(source.value.encode(), ENV_KEY)
    if source.file is None:
        return None
    try:
        text = source.file.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SecretKeyProblem(f"cannot read the key file {source.file}: {reason}") from None
    value = text.strip()
    if not value:
        raise SecretKeyProblem(f"the key file {source.file} is empty")
    return ServerKey(value.encode(), source.origin)


def create_key_file(path: Path, value: str) -> bool:
    """Write a key file that does not exist yet, readable by its owner only.

    Returns False, writing nothing, when the file is already there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
        out.flush()
        os.fsync(out.fileno())
    return True


def staged_key_file(path: Path) -> Path:
    """Where a rotation writes the new key before the database is re-sealed."""
    return path.with_name(path.name + ".new")


def stage_key_file(path: Path, value: str) -> Path:
    staged = staged_key_file(path)
    if not create_key_file(staged, value):
        raise SecretKeyProblem(
            f"{staged} exists: an earlier rotation stopped before finishing. If `steward "
            f"secret status` says the database is sealed with the key in it, move it over "
            f"{path}; otherwise delete it. Then rotate again.")
    return staged


def install_staged_key_file(path: Path) -> None:
    os.replace(staged_key_file(path), path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
