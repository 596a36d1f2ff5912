"""Timezone-aware UTC time helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes read back from SQLite are UTC by convention."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@overload
def isoformat_z(value: datetime) -> str: ...


@overload
def isoformat_z(value: datetime | None) -> str | None: ...


def isoformat_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")


def parse_timestamp(value: object, *, field: str = "timestamp", bounded: bool = True,
                    ) -> datetime:
    """ISO-8601 with ``Z``, offsets, or fractions down to nanoseconds; naive means UTC.

    Raises ``steward.errors.ValidationError`` naming ``field`` for anything else, and
    (``bounded``) for a time outside what Steward accepts (``steward.inputs``): windows
    are added to and subtracted from times, and must stay within what dates hold.
    """
    moment = _parse(value, field)
    if bounded:
        from steward.errors import ValidationError
        from steward.inputs import in_range

        problem = in_range(moment, field)
        if problem is not None:
            raise ValidationError(problem, field=field)
    return moment


def _parse(value: object, field: str) -> datetime:
    import re

    from steward.errors import ValidationError

    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field}: expected an ISO-8601 time, got {value!r}", field=field)
    text = value.strip()
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?"
        r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?|UTC)?", text)
    if match is None:
        raise ValidationError(f"{field}: {value!r} is not an ISO-8601 time", field=field)
    day, clock, fraction, zone = match.groups()
    if len(clock) == 5:
        clock += ":00"
    micro = (fraction or "0")[:6].ljust(6, "0")
    if zone in (None, "Z", "z", "UTC"):
        offset = "+00:00"
    elif len(zone) == 3:
        offset = zone + ":00"
    elif ":" not in zone:
        offset = f"{zone[:3]}:{zone[3:]}"
    else:
        offset = zone
    try:
        return as_utc(datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}"))
    except OverflowError as exc:  # a valid time whose offset leaves year 1..9999
        raise ValidationError(f"{field}: {value!r} is out of range", field=field) from exc
    except ValueError as exc:
        raise ValidationError(f"{field}: {value!r} is not a valid time ({exc})",
                              field=field) from exc
