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
    )


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
