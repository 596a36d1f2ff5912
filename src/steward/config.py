"""Settings read from ``STEWARD_*`` environment variables (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def default_database_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "steward" / "steward.db"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


def _env_text(name: str, default: str) -> str:
    """The variable's value; unset means the default, an empty value stays empty (off)."""
    raw = os.environ.get(name)
    return default if raw is None else raw.strip()


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str = ""
    secret_key_file: str = ""
    session_hours: int = 12
    max_body_bytes: int = 5 * 1024 * 1024
    secure_cookies: bool = False
    tls_cert: str = ""
    tls_key: str = ""
    # Throttling (docs/operations.md): rates in the ``limits`` notation, several joined by
    # ";", counted per integration key (ingest) and per API token or web session (API);
    # empty turns one off. The storage is process memory, or Redis shared by servers.
    rate_limit_storage: str = "memory://"
    rate_limit_ingest: str = "100/second;3000/minute"
    rate_limit_api: str = "50/second;3000/minute"
    # Sign-in: after this many failures in a row an account (or a client address) is
    # locked, first for login_lockout_seconds, twice as long after each further failure,
    # never longer than login_lockout_max_seconds.
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_seconds: int = 60
    login_lockout_max_seconds: int = 3600
    hsts: str = ""  # Strict-Transport-Security on HTTPS answers, e.g. "max-age=31536000"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        _, _, path = self.database_url.partition(":///")
        return Path(path) if path and path != ":memory:" else None


def load_settings() -> Settings:
    url = os.environ.get("STEWARD_DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{default_database_path()}"
    url = normalise_database_url(url)
    return Settings(
        database_url=url,
        secret_key=os.environ.get("STEWARD_SECRET_KEY", ""),
        secret_key_file=os.environ.get("STEWARD_SECRET_KEY_FILE", "").strip(),
        session_hours=_env_int("STEWARD_SESSION_HOURS", 12),
        max_body_bytes=_env_int("STEWARD_MAX_BODY_BYTES", 5 * 1024 * 1024),
        secure_cookies=os.environ.get("STEWARD_SECURE_COOKIES", "") in {"1", "true", "yes"},
        tls_cert=os.environ.get("STEWARD_TLS_CERT", "").strip(),
        tls_key=os.environ.get("STEWARD_TLS_KEY", "").strip(),
        rate_limit_storage=_env_text("STEWARD_RATE_LIMIT_STORAGE", "memory://"),
        rate_limit_ingest=_env_text("STEWARD_RATE_LIMIT_INGEST", Settings.rate_limit_ingest),
        rate_limit_api=_env_text("STEWARD_RATE_LIMIT_API", Settings.rate_limit_api),
        login_max_failures=_env_int("STEWARD_LOGIN_MAX_FAILURES", 5),
        login_max_failures_per_address=_env_int("STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        login_lockout_seconds=_env_int("STEWARD_LOGIN_LOCKOUT_SECONDS", 60),
        login_lockout_max_seconds=_env_int("STEWARD_LOGIN_LOCKOUT_MAX_SECONDS", 3600),
        hsts=_env_text("STEWARD_HSTS", ""),
    )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
