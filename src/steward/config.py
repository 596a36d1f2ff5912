"""Settings: every ``STEWARD_*`` environment variable Steward reads, declared once.

Each field of :class:`Settings` is one variable, with its type, default and
meaning; the table in ``docs/operations.md`` is generated from them
(``steward config`` or ``python -m steward.config`` prints it). This is the
only module that reads ``STEWARD_*`` variables: the server and the commands
load them all at start (:func:`load_settings`) and hand the object on; code
with no settings object at hand asks :func:`settings`, which reads a variable
when its field is asked for.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from steward.errors import ValidationError

# A variable's reader: (its name, its value or None when unset, the field's default).
Reader = Callable[[str, "str | None", Any], Any]


def default_database_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "steward" / "steward.db"


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _database_url(name: str, raw: str | None, default: Any) -> str:
    url = (raw or "").strip() or f"sqlite:///{default_database_path()}"
    return normalise_database_url(url)


def _text(name: str, raw: str | None, default: Any) -> Any:
    """Unset means the default; an empty value stays empty (for some settings: off)."""
    return default if raw is None else raw.strip()


def _verbatim(name: str, raw: str | None, default: Any) -> Any:
    return default if raw is None else raw


def _whole(name: str, raw: str | None, default: Any) -> Any:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


def _count(name: str, raw: str | None, default: Any) -> Any:
    """A whole number of at least 1."""
    value = _whole(name, raw, default)
    if value < 1:
        raise SystemExit(f"{name} must be 1 or more, got {raw!r}")
    return value


def _seconds(name: str, raw: str | None, default: Any) -> Any:
    """A number of seconds over 0."""
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not value > 0 or value == float("inf"):
        raise SystemExit(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def _yes(name: str, raw: str | None, default: Any) -> bool:
    return raw in {"1", "true", "yes"}


def _unless(*off: str) -> Reader:
    def read(name: str, raw: str | None, default: Any) -> bool:
        return default if raw is None else raw not in off
    return read


def _names(name: str, raw: str | None, default: Any) -> Any:
    if raw is None:
        return default
    return frozenset(e.strip().lower() for e in raw.split(",") if e.strip())


def _cache_seconds(name: str, raw: str | None, default: Any) -> Any:
    """Never refused: a value that is not a number keeps the default."""
    if raw is None:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        return default


def _var(variable: str, default: Any, kind: str, meaning: str, read: Reader = _text, *,
         shown: str = "") -> Any:
    """A field read from ``variable``; ``kind``, ``meaning`` and ``shown`` (the default as
    the table says it, when the value itself would not) are for the documentation."""
    return field(default=default, metadata={
        "variable": variable, "kind": kind, "meaning": meaning, "read": read, "shown": shown})


@dataclass(frozen=True)
class Settings:
    """The settings, one field per variable, in the order the documentation lists them.

    A bad value of most variables stops the program at start (``SystemExit``
    naming the variable). Those a domain checks when it uses them are kept as the
    text set ("" when unset): the JSON rules and targets, which only their domain
    can read, and the windows and intervals, which the properties below type. A
    bad one is refused where it is used, a 422 naming the variable.
    """

    database_url: str = _var(
        "STEWARD_DATABASE_URL", MISSING, "URL",
        "SQLAlchemy URL; `postgresql://user@host/db` uses psycopg 3",
        _database_url, shown="`sqlite:///$XDG_DATA_HOME/steward/steward.db`")
    secret_key: str = _var(
        "STEWARD_SECRET_KEY", "", "text",
        "the server's secret key itself (it seals webhook secrets); wins over a key file",
        _verbatim)
    secret_key_file: str = _var(
        "STEWARD_SECRET_KEY_FILE", "", "path",
        "a file holding the secret key ([below](#the-secret-key))",
        shown="SQLite: `<database file>.key`; PostgreSQL: none (required)")
    session_hours: int = _var("STEWARD_SESSION_HOURS", 12, "whole number",
                              "web session lifetime, in hours", _whole)
    max_body_bytes: int = _var(
        "STEWARD_MAX_BODY_BYTES", 5 * 1024 * 1024, "whole number",
        "larger request bodies get 413 (ServiceNow imports: 100 MB)", _whole)
    secure_cookies: bool = _var(
        "STEWARD_SECURE_COOKIES", False, "`1`, `true` or `yes` for on",
        "web cookies only over HTTPS even when a request arrives as plain HTTP (requests "
        "that came over HTTPS get them so anyway)", _yes)
    tls_cert: str = _var("STEWARD_TLS_CERT", "", "path",
                         "`steward serve --tls-cert`: certificate chain (PEM) for HTTPS")
    tls_key: str = _var("STEWARD_TLS_KEY", "", "path",
                        "`steward serve --tls-key`: its private key (PEM, unencrypted)")
    # Throttling (docs/operations.md): rates in the ``limits`` notation, several joined by
    # ";", counted per integration key (ingest) and per API token or web session (API);
    # empty turns one off. The storage is process memory, or Redis shared by servers.
    rate_limit_storage: str = _var(
        "STEWARD_RATE_LIMIT_STORAGE", "memory://", "URL",
        "where the request counts live: each process's memory, or `redis://host:6379/0` "
        "shared by every server")
    rate_limit_ingest: str = _var(
        "STEWARD_RATE_LIMIT_INGEST", "100/second;3000/minute", "rates",
        "requests per integration key on `/ingest/*`, `/v2/enqueue`, `/v2/change/enqueue` "
        "and `POST /api/v1/alerts`; empty: no limit")
    rate_limit_api: str = _var(
        "STEWARD_RATE_LIMIT_API", "50/second;3000/minute", "rates",
        "requests per API token, or per web session, on the API and the pages; empty: no "
        "limit")
    # Sign-in: after this many failures in a row an account (or a client address) is
    # locked, first for login_lockout_seconds, twice as long after each further failure,
    # never longer than login_lockout_max_seconds.
    login_max_failures: int = _var("STEWARD_LOGIN_MAX_FAILURES", 5, "whole number",
                                   "failed sign-ins in a row that lock an account name",
                                   _whole)
    login_max_failures_per_address: int = _var(
        "STEWARD_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, "whole number",
        "failed sign-ins (on any names) that lock a client address", _whole)
    login_lockout_seconds: int = _var(
        "STEWARD_LOGIN_LOCKOUT_SECONDS", 60, "whole number",
        "the first lockout, in seconds; each further failure doubles it", _whole)
    login_lockout_max_seconds: int = _var("STEWARD_LOGIN_LOCKOUT_MAX_SECONDS", 3600,
                                          "whole number", "the longest lockout, in seconds",
                                          _whole)
    hsts: str = _var(
        "STEWARD_HSTS", "", "text",
        "`Strict-Transport-Security` value sent on answers to HTTPS requests, e.g. "
        "`max-age=31536000; includeSubDomains` (anything else stops the server at start)")
    production_environments: frozenset[str] = _var(
        "STEWARD_PRODUCTION_ENVIRONMENTS", frozenset({"production", "prod", "live"}),
        "names, comma-separated",
        "environments whose deployments count as production, in any letter case "
        "(unauthorised deployments, DORA, suspects)", _names, shown="`production,prod,live`")
    timezone: str = _var(
        "STEWARD_TIMEZONE", "UTC", "time zone name",
        "working hours (08-18, Mon-Fri) for a change's risk, and the calendar's default zone",
        _verbatim)
    risk_weights: str = _var(
        "STEWARD_RISK_WEIGHTS", "", "JSON object",
        "risk factor weights replacing the defaults, e.g. `{\"freeze\": 60}` "
        "([changes.md](changes.md#risk))", shown="the built-in weights")
    change_policy: str = _var(
        "STEWARD_CHANGE_POLICY", "", "JSON list",
        "approval policy rules, the first that matches decides "
        "([changes.md](changes.md#approval-policies))", shown="the built-in rules")
    group_window_minutes: str = _var(
        "STEWARD_GROUP_WINDOW_MINUTES", "", "minutes (over 0)",
        "alerts with the same group key within this time join one incident", shown="5")
    topology_window_minutes: str = _var(
        "STEWARD_TOPOLOGY_WINDOW_MINUTES", "", "minutes (over 0)",
        "an alert may join an incident of a connected service active within this time",
        shown="5")
    reopen_window_minutes: str = _var(
        "STEWARD_REOPEN_WINDOW_MINUTES", "", "minutes (over 0)",
        "an alert triggering again within this time of its incident's resolution reopens "
        "that incident; later, it opens a new one linked as a recurrence", shown="30")
    event_time_bound_minutes: str = _var(
        "STEWARD_EVENT_TIME_BOUND_MINUTES", "", "minutes (over 0)",
        "an event's reported time counts back at most this far before it was received "
        "(earlier times are kept on the alert as reported)", shown="60")
    correlation_distance: str = _var(
        "STEWARD_CORRELATION_DISTANCE", "", "whole number",
        "dependency hops, either way, across which alerts correlate by topology", shown="2")
    topology_correlation: bool = _var(
        "STEWARD_TOPOLOGY_CORRELATION", True, "`0` or `false` for off",
        "correlate alerts through the dependency graph", _unless("0", "false"))
    auto_mitigate: bool = _var(
        "STEWARD_AUTO_MITIGATE", True, "`0`, `false` or `no` for off",
        "mitigate an incident when all its alerts have resolved", _unless("0", "false", "no"))
    sla: str = _var(
        "STEWARD_SLA", "", "JSON object",
        "respond and resolve targets per priority, e.g. `{\"P1\": {\"respond\": \"10m\"}}` "
        "([incidents.md](incidents.md#incidents))", shown="the built-in targets")
    suspect_lookback_minutes: str = _var(
        "STEWARD_SUSPECT_LOOKBACK_MINUTES", "", "minutes (over 0)",
        "how long before an incident a production deployment is a suspect", shown="1440")
    # Background work (docs/operations.md#background-work): timers in the database, fired
    # by the loop of every server process and by `steward worker`.
    worker_poll_seconds: float = _var(
        "STEWARD_WORKER_POLL_SECONDS", 1.0, "seconds (over 0)",
        "how often each server process and `steward worker` looks for due timers", _seconds)
    worker_batch: int = _var(
        "STEWARD_WORKER_BATCH", 100, "whole number (1 or more)",
        "the most timers one process claims and fires in one transaction", _count)
    timer_max_attempts: int = _var(
        "STEWARD_TIMER_MAX_ATTEMPTS", 8, "whole number (1 or more)",
        "a timer whose handler fails this many times is left `failed` with its last error",
        _count)
    timer_retry_seconds: float = _var(
        "STEWARD_TIMER_RETRY_SECONDS", 10.0, "seconds (over 0)",
        "a failed timer is retried after this long, twice as long after each further "
        "failure, never more than an hour", _seconds)
    slo_evaluate_seconds: str = _var(
        "STEWARD_SLO_EVALUATE_SECONDS", "", "seconds",
        "how often SLO burn alerts are evaluated (a recurring timer, fired by one process); "
        "`0` turns it off",
        shown="60")
    metrics_cache_seconds: float = _var(
        "STEWARD_METRICS_CACHE_SECONDS", 30.0, "seconds",
        "how long `/metrics` serves one computed answer (not a number: the default)",
        _cache_seconds)
    public_url: str = _var(
        "STEWARD_PUBLIC_URL", "", "URL",
        "the address people open Steward at, for links in notifications (emails, webhooks, "
        "chat); unset: `http://localhost:8000`", _verbatim)
    smtp_host: str = _var("STEWARD_SMTP_HOST", "", "host name",
                          "the SMTP server notifications are mailed through; unset: no email "
                          "is sent (each email notification fails and is retried)")
    smtp_port: int = _var("STEWARD_SMTP_PORT", 25, "whole number (1 or more)",
                          "the SMTP server's port", _count)
    smtp_from: str = _var("STEWARD_SMTP_FROM", "steward@localhost", "email address",
                          "the sender of Steward's emails")
    smtp_user: str = _var("STEWARD_SMTP_USER", "", "text",
                          "SMTP user name, when the server wants a login", _verbatim)
    smtp_password: str = _var("STEWARD_SMTP_PASSWORD", "", "text",
                              "SMTP password, with `STEWARD_SMTP_USER`", _verbatim)
    smtp_starttls: bool = _var("STEWARD_SMTP_STARTTLS", False, "`1`, `true` or `yes` for on",
                               "upgrade the SMTP connection with STARTTLS before sending "
                               "(and before any login)", _yes)
    ack_link_hours: int = _var("STEWARD_ACK_LINK_HOURS", 24, "whole number (1 or more)",
                               "how long an email's one-click acknowledge link works, in hours",
                               _count)
    notify_retry_seconds: float = _var(
        "STEWARD_NOTIFY_RETRY_SECONDS", 10.0, "seconds (over 0)",
        "wait before a failed notification's second attempt, in seconds; doubled after "
        "each further failure, at most 15 minutes", _seconds)
    notify_max_attempts: int = _var(
        "STEWARD_NOTIFY_MAX_ATTEMPTS", 10, "whole number (1 or more)",
        "attempts before a notification is given up as dead (it can be retried by hand)",
        _count)
    notify_timeout_seconds: float = _var(
        "STEWARD_NOTIFY_TIMEOUT_SECONDS", 10.0, "seconds (over 0)",
        "how long one delivery attempt may wait for its SMTP server or webhook receiver",
        _seconds)
    url: str = _var("STEWARD_URL", "", "URL",
                    "client commands: the Steward server (`--url`)", _verbatim)
    token: str = _var("STEWARD_TOKEN", "", "text",
                      "client commands: an API token (`--token`)", _verbatim)
    pipeline_run: str = _var(
        "STEWARD_PIPELINE_RUN", "", "text",
        "`steward change gate`: this pipeline run's id, ahead of `GITHUB_RUN_ID`, "
        "`CI_PIPELINE_ID`, `BUILD_ID`, ...", _verbatim)
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

    @property
    def group_window(self) -> timedelta:
        return _minutes("STEWARD_GROUP_WINDOW_MINUTES", self.group_window_minutes, 5)

    @property
    def topology_window(self) -> timedelta:
        return _minutes("STEWARD_TOPOLOGY_WINDOW_MINUTES", self.topology_window_minutes, 5)

    @property
    def reopen_window(self) -> timedelta:
        return _minutes("STEWARD_REOPEN_WINDOW_MINUTES", self.reopen_window_minutes, 30)

    @property
    def event_time_bound(self) -> timedelta:
        return _minutes("STEWARD_EVENT_TIME_BOUND_MINUTES", self.event_time_bound_minutes, 60)

    @property
    def suspect_lookback(self) -> timedelta:
        return _minutes("STEWARD_SUSPECT_LOOKBACK_MINUTES", self.suspect_lookback_minutes,
                        24 * 60)

    @property
    def max_correlation_distance(self) -> int:
        try:
            return int(self.correlation_distance) if self.correlation_distance else 2
        except ValueError as exc:
            raise ValidationError("STEWARD_CORRELATION_DISTANCE: expected a whole number",
                                  field="STEWARD_CORRELATION_DISTANCE") from exc

    @property
    def slo_evaluate_interval(self) -> float:
        """Seconds between evaluations while the server runs; 0 turns them off."""
        name, raw = "STEWARD_SLO_EVALUATE_SECONDS", self.slo_evaluate_seconds
        if not raw:
            return 60.0
        try:
            value = float(raw)
        except ValueError as exc:
            raise ValidationError(f"{name}: expected seconds, got {raw!r}", field=name) from exc
        if value < 0 or value != value:
            raise ValidationError(f"{name}: must be 0 (off) or more", field=name)
        return value


def _minutes(name: str, raw: str, default: float) -> timedelta:
    if not raw:
        return timedelta(minutes=default)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValidationError(f"{name}: expected minutes, got {raw!r}", field=name) from exc
    if value <= 0:
        raise ValidationError(f"{name}: must be positive", field=name)
    return timedelta(minutes=value)


def declared() -> tuple[Field[Any], ...]:
    """The fields that are variables, in the documentation's order."""
    return tuple(f for f in fields(Settings) if "variable" in f.metadata)


def env_name(field_name: str) -> str:
    """The variable a field is read from (for command options, which read it themselves)."""
    return str(_BY_FIELD[field_name].metadata["variable"])


def _read(f: Field[Any]) -> Any:
    variable = f.metadata["variable"]
    return f.metadata["read"](variable, os.environ.get(variable), f.default)


def load_settings() -> Settings:
    """The settings of the environment; a value that cannot be read stops the program,
    naming the variable."""
    return Settings(**{f.name: _read(f) for f in declared()})


_BY_FIELD = {f.name: f for f in declared()}


class _Current:
    """Settings read from the environment at each access, one variable at a time.

    Costs what reading the variable itself costs, so hot paths (a deployment's
    environment, an alert's correlation) may ask every time, and a variable set
    while the process runs counts at once."""

    def __getattr__(self, name: str) -> Any:
        declared_field = _BY_FIELD.get(name)
        if declared_field is not None:
            return _read(declared_field)
        typed = getattr(Settings, name, None)
        if isinstance(typed, property) and typed.fget is not None:
            return typed.fget(self)  # the property reads its fields through this object
        raise AttributeError(name)


_CURRENT = _Current()


def settings() -> Settings:
    """The settings as the environment has them now, for code with no settings at hand;
    reads only the variables asked for, so a client command never trips on a server's."""
    return cast(Settings, _CURRENT)


TABLE_START = ("<!-- settings table: generated from src/steward/config.py; update with "
               "`python -m steward.config --write docs/operations.md` -->")
TABLE_END = "<!-- end of the settings table -->"


def _shown(f: Field[Any]) -> str:
    if f.metadata["shown"]:
        return str(f.metadata["shown"])
    if isinstance(f.default, bool):
        return "on" if f.default else "off"
    if isinstance(f.default, int):
        return str(f.default)
    if isinstance(f.default, float):
        return f"{f.default:g}"
    return f"`{f.default}`" if f.default else "none"


def settings_table() -> str:
    """Every variable as a Markdown table: variable, type, default, meaning."""
    rows = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{f.metadata['variable']}` | {f.metadata['kind']} | {_shown(f)} | "
             f"{f.metadata['meaning']} |" for f in declared()]
    return "\n".join(rows) + "\n"


def with_settings_table(document: str) -> str:
    """``document`` with the text between the table's markers replaced by the table."""
    start = document.index(TABLE_START) + len(TABLE_START)
    end = document.index(TABLE_END, start)
    return f"{document[:start]}\n{settings_table()}{document[end:]}"


def main(args: list[str]) -> None:
    if not args:
        sys.stdout.write(settings_table())
    elif args[0] == "--write" and len(args) == 2:
        path = Path(args[1])
        path.write_text(with_settings_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        raise SystemExit("usage: python -m steward.config [--write FILE]")


if __name__ == "__main__":
    main(sys.argv[1:])
