"""What the change pages share: badges in text and colour, form helpers, errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData

from steward.errors import StewardError, ValidationError
from steward.request.validation import describe_validation_errors
from steward.timeutil import as_utc, parse_timestamp
from steward.web.render import TEMPLATES

# (tone, label): the tone picks the colour, the label says the same in words.
BADGES: dict[str, dict[str, tuple[str, str]]] = {
    "state": {
        "new": ("neutral", "new"),
        "assess": ("neutral", "assess"),
        "authorize": ("warn", "authorize"),
        "scheduled": ("info", "scheduled"),
        "implement": ("info", "implement"),
        "review": ("info", "review"),
        "closed": ("ok", "closed"),
        "rejected": ("bad", "\u2715 rejected"),
        "canceled": ("muted", "canceled"),
    },
    "outcome": {
        "successful": ("ok", "\u2713 successful"),
        "successful_with_issues": ("warn", "! successful with issues"),
        "failed": ("bad", "\u2715 failed"),
        "rolled_back": ("bad", "\u21ba rolled back"),
    },
    "risk": {
        "low": ("ok", "low"),
        "moderate": ("warn", "moderate"),
        "high": ("bad", "high"),
        "very high": ("bad", "very high"),
    },
    "deployment": {
        "succeeded": ("ok", "\u2713 succeeded"),
        "failed": ("bad", "\u2715 failed"),
        "rolled_back": ("bad", "\u21ba rolled back"),
        "in_progress": ("info", "\u2026 in progress"),
    },
    "gate": {
        "allowed": ("ok", "\u2713 allowed"),
        "denied": ("bad", "\u2715 denied"),
        "pending": ("warn", "? pending"),
    },
    "decision": {
        "approve": ("ok", "\u2713 approved"),
        "reject": ("bad", "\u2715 rejected"),
    },
    "window": {
        "freeze": ("bad", "freeze"),
        "maintenance": ("info", "maintenance"),
    },
}


def badge_parts(kind: str, value: str | None) -> tuple[str, str]:
    if not value:
        return "neutral", ""
    return BADGES.get(kind, {}).get(value, ("neutral", value.replace("_", " ")))


TEMPLATES.env.globals["badge_parts"] = badge_parts

COMMON_ZONES = ("UTC", "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York",
                "America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Singapore",
                "Asia/Tokyo", "Australia/Sydney")


def form_values(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form in again after an error (lists stay lists)."""
    values: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        items = [str(v) for v in form.getlist(key)]
        values[key] = items if len(items) > 1 or key in ("services", "weekdays") else items[0]
    return values


def names_from(form: FormData, field: str) -> list[str]:
    """A multi-select and comma-separated text both work: ``a,b`` or ``a`` + ``b``."""
    names: list[str] = []
    for raw in form.getlist(field):
        if isinstance(raw, str):
            names.extend(part.strip() for part in raw.replace("\n", ",").split(","))
    return list(dict.fromkeys(n for n in names if n))


def problem(exc: Exception) -> tuple[str, int]:
    """A domain or validation error as the sentence and status the page shows."""
    if isinstance(exc, PydanticError):
        summary, _field, _details = describe_validation_errors(exc.errors())
        return summary, 422
    assert isinstance(exc, StewardError)
    return exc.message, exc.status_code


def zone(name: str, field: str = "tz") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValidationError(f"{field}: unknown time zone {name!r}", field=field) from exc


def local_time(text: str, field: str, tz: str = "UTC") -> datetime | None:
    """A ``datetime-local`` field read on the given wall clock, as UTC; '' is None."""
    text = text.strip()
    if not text:
        return None
    if tz == "UTC":
        return parse_timestamp(text, field=field)
    try:
        naive = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(f"{field}: {text!r} is not a date and time",
                              field=field) from exc
    if naive.tzinfo is not None:
        return as_utc(naive)
    return as_utc(naive.replace(tzinfo=zone(tz, "timezone")))


def input_time(value: datetime | None) -> str:
    """A UTC time as a ``datetime-local`` value."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M") if value is not None else ""


def short_time(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M") if value is not None else ""


TEMPLATES.env.filters["short_utc"] = short_time
