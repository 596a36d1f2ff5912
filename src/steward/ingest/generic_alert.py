"""Steward's own alert JSON (``POST /api/v1/alerts``) -> ``RecordAlert``.

The shape is the one PRODUCT.md promises ("Shapes others rely on"):
``{"service", "dedup_key", "status", "severity", "summary", "occurred_at",
"labels", "details"}`` with ``status`` firing or resolved and ``severity``
critical, error, warning or info (another word is read by ``incidents.severity``:
an alias such as ``high`` is its level, an unknown word is recorded as ``error``
and the alert says so). One optional extra, ``url`` (a link back to
the source), matches what the other sources carry. Anything else is refused,
so a typo is an error rather than silently lost. ``service`` may be left out:
the integration key's service is used. For a resolved alert ``occurred_at`` is
when it stopped. An ``occurred_at`` that does not parse refuses that alert only
(:func:`read_batch`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError

from steward.errors import ValidationError
from steward.incidents.commands import RecordAlert
from steward.ingest.wire import Refusal
from steward.inputs import JsonObject, StringMap
from steward.timeutil import parse_timestamp

AlertStatus = Literal["firing", "resolved"]
# Steward's four levels, or any word a source uses for one (never refused for its word).
Severity = Annotated[str, Field(json_schema_extra={
    "examples": ["critical", "error", "warning", "info"]})]
DedupKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=255)]
ServiceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=200)]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1024)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: ServiceName | None = Field(
        default=None, description="a service name; default: the integration key's service")
    dedup_key: DedupKey = Field(description="identifies the alert within the integration")
    status: AlertStatus
    severity: Severity = Field(
        default="error", description="critical, error, warning or info; an alias (high, "
        "minor, ...) is read as its level, another word as error (the alert says so); "
        "default error")
    summary: Summary = ""
    occurred_at: datetime | None = Field(
        default=None, description="ISO-8601; when it fired (or, resolved, when it stopped)")
    labels: StringMap = Field(default_factory=dict)
    details: JsonObject = Field(default_factory=dict)
    url: Url | None = None

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _time(cls, value: object, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        field = info.field_name or "occurred_at"
        try:
            return parse_timestamp(value, field=field)
        except ValidationError as exc:
            # A ValueError lets pydantic report the full location ([3].occurred_at).
            raise ValueError(exc.message.removeprefix(f"{field}: ")) from None


def parse_alert(data: Any) -> AlertIn:
    """Validate one alert outside FastAPI (CLI, batches), naming the bad field."""
    try:
        return AlertIn.model_validate(data)
    except PydanticValidationError as exc:
        raise _named(exc, prefix="") from None


def parse_alerts(data: Any) -> list[AlertIn]:
    """One alert (an object) or a batch (a list), each error naming ``[index].field``."""
    if isinstance(data, dict):
        return [parse_alert(data)]
    if not isinstance(data, list):
        raise ValidationError("body: expected an alert object or a list of them", field="body")
    alerts = []
    for index, item in enumerate(data):
        try:
            alerts.append(AlertIn.model_validate(item))
        except PydanticValidationError as exc:
            raise _named(exc, prefix=f"[{index}]") from None
    return alerts


def read_batch(items: list[Any]) -> tuple[list[AlertIn], list[Refusal]] | None:
    """The alerts of a list, those whose only problem is an ``occurred_at`` that does not
    parse refused one by one; None when any alert has another problem (the whole body
    is then refused, as it always was)."""
    alerts, refused = [], []
    for index, item in enumerate(items):
        try:
            alerts.append(AlertIn.model_validate(item))
        except PydanticValidationError as exc:
            message = _unreadable_time(exc)
            if message is None:
                return None
            refused.append(Refusal(index, f"[{index}].occurred_at", message))
    return alerts, refused


def _unreadable_time(exc: PydanticValidationError) -> str | None:
    """Why ``occurred_at`` does not parse, when that is an alert's only problem."""
    errors = exc.errors()
    if not errors or any(e.get("type") != "value_error" or tuple(e.get("loc", ())) !=
                         ("occurred_at",) for e in errors):
        return None
    return str(errors[0].get("ctx", {}).get("error", "is not an ISO-8601 time"))


def to_command(alert: AlertIn) -> RecordAlert:
    return RecordAlert(
        dedup_key=alert.dedup_key,
        status=alert.status,
        summary=alert.summary,
        severity=alert.severity,
        service=alert.service,
        occurred_at=alert.occurred_at,
        ended_at=alert.occurred_at if alert.status == "resolved" else None,
        source="generic",
        labels=dict(alert.labels),
        details=dict(alert.details),
        url=alert.url or None,
    )


def _named(exc: PydanticValidationError, *, prefix: str) -> ValidationError:
    details = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err.get("loc", ()))
        field = f"{prefix}.{path}" if prefix and path else (prefix or path or "body")
        kind = err.get("type", "")
        if kind == "value_error" and "error" in err.get("ctx", {}):
            message = str(err["ctx"]["error"])
        else:
            message = {"extra_forbidden": "unknown field",
                       "missing": "is required"}.get(kind, err.get("msg", "is invalid"))
        details.append({"field": field, "message": message})
    first = details[0]
    return ValidationError(f"{first['field']}: {first['message']}", field=first["field"],
                           details=details)
