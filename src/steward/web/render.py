"""Rendering pages: the Jinja environment, paging and small formatting helpers."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from steward import __version__
from steward.db import Base
from steward.incidents.queries import open_incident_count
from steward.inputs import MAX_EXACT
from steward.request.database import database
from steward.timeutil import isoformat_z
from steward.web.page_error import PageError
from steward.weburl import web_href

HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
STATIC_DIR = HERE / "static"

STATE_LABELS = {"up": "\u2713 up", "degraded": "! degraded", "down": "\u2715 down",
                "unknown": "? unknown"}
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

# Templates get plain data: a page handing one a database row would read it after its
# session closed, or load more rows while rendering, so render() refuses such a context.
# How far into a context's dicts, lists and dataclasses the check looks.
ORM_CHECK_DEPTH = 4


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(value: datetime | None) -> str:
    return isoformat_z(value) if value is not None else ""


def _humanise(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["iso"] = _iso
TEMPLATES.env.filters["humanise"] = _humanise
TEMPLATES.env.filters["tojson_text"] = _json
# Every stored URL becomes a link only through this filter (the web_link macro).
TEMPLATES.env.filters["web_href"] = web_href
TEMPLATES.env.globals["state_label"] = lambda s: STATE_LABELS.get(s, s)
TEMPLATES.env.globals["version"] = __version__


def _holds_row(value: Any, depth: int) -> bool:
    if isinstance(value, Base):
        return True
    if depth <= 0 or isinstance(value, (str, bytes, int, float)) or value is None:
        return False
    if isinstance(value, dict):
        items: Any = value.values()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = (getattr(value, f.name) for f in dataclasses.fields(value))
    else:
        return False
    return any(_holds_row(item, depth - 1) for item in items)


def refuse_rows(context: dict[str, Any]) -> None:
    """A TypeError naming the first context key that holds a database row."""
    for key, value in context.items():
        if _holds_row(value, ORM_CHECK_DEPTH):
            raise TypeError(f"template context {key!r} holds a database row; "
                            "give templates plain data")


def _open_incident_count(request: Request, viewer: Any) -> int | None:
    """The navigation's count beside "Incidents", for pages whose handler did not count
    it in its own session: one COUNT, before rendering starts; none when signed out."""
    if viewer is None:
        return None
    return open_incident_count(database(request))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status: int = 200, nav: str = "") -> Response:
    ctx: dict[str, Any] = {"viewer": getattr(request.state, "viewer", None), "nav": nav}
    ctx.update(context or {})
    if "nav_open_incidents" not in ctx:
        ctx["nav_open_incidents"] = _open_incident_count(request, ctx["viewer"])
    refuse_rows(ctx)
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    # The system map's SVG carries its own small <style>, hence inline styles.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    return response


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "error.html", {"status": status, "title": title, "message": message},
                  status=status)


def url_with(path: str, params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    query = urlencode([(k, v) for k, v in merged.items() if v is not None and v != ""])
    return f"{path}?{query}" if query else path


def whole_number(raw: str, field: str, *, default: int, low: int, high: int | None = None) -> int:
    """A query parameter that must be a whole number in range; a clear 422 otherwise."""
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise PageError(422, "Invalid input", f"{field}: must be a whole number") from exc
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise PageError(422, "Invalid input", f"{field}: must be {bound}")
    return value


@dataclass(frozen=True)
class Pager:
    path: str
    params: dict[str, Any]
    total: int
    limit: int
    offset: int

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total) if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def prev_url(self) -> str | None:
        if self.offset <= 0:
            return None
        offset = max(self.offset - self.limit, 0)
        return url_with(self.path, self.params, offset=offset or None, limit=self._limit_param)

    @property
    def next_url(self) -> str | None:
        if self.offset + self.limit >= self.total:
            return None
        return url_with(self.path, self.params, offset=self.offset + self.limit,
                        limit=self._limit_param)

    @property
    def _limit_param(self) -> int | None:
        return None if self.limit == DEFAULT_LIMIT else self.limit


def paging(request: Request) -> tuple[int, int]:
    """limit and offset from the query string."""
    limit = whole_number(request.query_params.get("limit", ""), "limit",
                         default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = whole_number(request.query_params.get("offset", ""), "offset", default=0, low=0,
                          high=MAX_EXACT)
    return limit, offset


def diff_rows(before: Any, after: Any) -> list[dict[str, Any]]:
    """Field by field comparison of an audit entry's before and after snapshots."""
    b = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    a = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    rows = []
    for key in sorted(set(b) | set(a)):
        in_b, in_a = key in b, key in a
        old, new = b.get(key), a.get(key)
        changed = in_b != in_a or old != new
        rows.append({
            "field": key,
            "before": _json(old) if in_b else "",
            "after": _json(new) if in_a else "",
            "changed": changed,
            "status": "added" if not in_b else "removed" if not in_a else
                      "changed" if changed else "same",
        })
    return rows
