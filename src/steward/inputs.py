"""What Steward takes as input, declared once for the API, the web UI and the ingest formats.

- Text: one annotated type per kind of field, its length the column's. None of them
  accepts NUL (PostgreSQL cannot store it in text) or a lone surrogate (not Unicode:
  neither UTF-8 nor JSON can carry it).
- Ids: within an INTEGER column (32 bits), so an id no row can have is a 422 naming it
  rather than the database's overflow.
- Times: from 1970 to before 9000, so a window subtracted from or added to any time
  accepted stays within what dates can represent.
- JSON: read by :func:`load_json`, which refuses nesting deeper than
  ``MAX_JSON_DEPTH`` and either refuses bad text naming where it is, or, for events
  from monitoring (losing one is worse than losing a character), repairs it: NUL
  dropped, lone surrogates replaced by U+FFFD.

Pure: no FastAPI, no database.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**31 - 1  # the largest value of an INTEGER column (ids, counts)
# The largest whole number every JSON reader keeps exact (a double's 53 bits): counts in
# BIGINT columns, offsets. Beyond it a client (or a validator) may read another number.
MAX_EXACT = 2**53 - 1
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # exclusive: nearly a millennium of room
MAX_JSON_DEPTH = 64  # objects and arrays inside each other; real payloads use under 10

_BAD = re.compile("[\x00\ud800-\udfff]")
_BAD_BYTES = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]")  # NUL or a surrogate, escaped


class InputProblem(ValueError):
    """Input no use case should see: ``path`` is where it is (keys and indexes)."""

    def __init__(self, path: tuple[str | int, ...], message: str, *, structure: bool = False):
        super().__init__(message)
        self.path = path
        self.message = message
        self.structure = structure  # the whole body is unreadable (too deep), not one value


def text_problem(value: str) -> str | None:
    """Why PostgreSQL (or UTF-8) cannot take ``value``, or None."""
    found = _BAD.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must not contain lone surrogates (not valid Unicode)"


def clean_text(value: str) -> str:
    """``value`` with NUL dropped and lone surrogates replaced by U+FFFD."""
    if _BAD.search(value) is None:
        return value
    return _BAD.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def shorten(value: str, limit: int) -> str:
    """``value`` in at most ``limit`` characters: cut at a word boundary when one is near
    enough, marked with an ellipsis."""
    if len(value) <= limit:
        return value
    cut = value[:limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 3 // 4:
        cut = cut[:space]
    return cut.rstrip() + "\u2026"


def printable(value: str) -> str:
    """``value`` safe to echo in an answer or a log line."""
    if _BAD.search(value) is None:
        return value
    return _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _checked(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


CLEAN = AfterValidator(_checked)


def _text(max_length: int, *, min_length: int = 0, strip: bool = False,
          pattern: str | None = None) -> Any:
    return Annotated[str, StringConstraints(strip_whitespace=strip, min_length=min_length,
                                            max_length=max_length, pattern=pattern), CLEAN]


SLUG = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Catalog names: teams' column holds 100 characters, services' 200.
TeamName = _text(100, min_length=1, strip=True, pattern=SLUG)
ServiceName = _text(200, min_length=1, strip=True, pattern=SLUG)
# A name referring to a record (a service, a team, a template): whatever its column, no
# record has a longer one.
NameRef = _text(200, min_length=1, strip=True)
# Labels people give things (SLOs, goals, templates, windows, tokens, integrations).
Label = _text(200, strip=True)
RequiredLabel = _text(200, min_length=1, strip=True)
TEAM_DISPLAY_NAME, SERVICE_DISPLAY_NAME, USER_DISPLAY_NAME = 200, 300, 200  # their columns
TeamDisplayName = _text(TEAM_DISPLAY_NAME)
ServiceDisplayName = _text(SERVICE_DISPLAY_NAME)
UserDisplayName = _text(USER_DISPLAY_NAME)
Email = _text(300, strip=True)
Environment = _text(100, min_length=1, strip=True)
ChangeTitle = _text(300, min_length=1, strip=True)
IncidentTitle = _text(500, min_length=1, strip=True)
ExternalKey = _text(300)
Url = _text(2000, strip=True)
# Free text kept in TEXT columns (descriptions, comments, notes, commit messages): a
# limit for sanity, far below the request body limit.
LongText = _text(100_000)
Note = _text(20_000, min_length=1, strip=True)
# Keys and values of small maps (contacts, annotations, links, labels).
MapKey = _text(300, min_length=1)
MapValue = _text(2000)
# Annotated types built at run time are variables to a type checker within this module.
StringMap = dict[MapKey, MapValue]  # type: ignore[valid-type]
# Secrets are hashed, never stored as given; only the length is bounded.
Password = Annotated[str, Field(min_length=8, max_length=1000), CLEAN]

# An id of a row (every table's key is an INTEGER column).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A count stored in an INTEGER column, and one in a BIGINT column.
Count = Annotated[int, Field(ge=0, le=MAX_ID)]
BigCount = Annotated[int, Field(ge=0, le=MAX_EXACT)]


def in_range(moment: datetime, field: str) -> str | None:
    """Why ``moment`` (aware) is out of the accepted range, or None."""
    if EARLIEST <= moment < LATEST:
        return None
    return (f"{field}: is out of range (from {EARLIEST.date().isoformat()} to before "
            f"{LATEST.date().isoformat()})")


# -- JSON ---------------------------------------------------------------------------------

def load_json(raw: bytes | str, *, repair: bool = False) -> Any:
    """``raw`` parsed, refused (``InputProblem``) when nested deeper than MAX_JSON_DEPTH;
    NUL and lone surrogates refused naming where they are, or with ``repair`` dropped and
    replaced. Raises ``json.JSONDecodeError`` (orjson's) for what is not JSON."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses lone surrogates; the standard library reads them (its recursion
        # limit answering for depth), so they can be named or replaced.
        if _BAD_BYTES.search(raw.encode() if isinstance(raw, str) else raw) is None:
            raise
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            pass
        else:
            return normalise_json(data, repair=repair)
        raise
    if isinstance(data, (dict, list)) and _may_need_walk(raw):
        return normalise_json(data, repair=repair)
    if isinstance(data, str):
        return _text_value(data, (), repair)
    return data


def _may_need_walk(raw: bytes | str) -> bool:
    """False when ``raw`` (parsed by orjson, so without surrogates) can hold neither NUL nor
    too deep a nesting: the common case, decided without visiting the value."""
    data = raw.encode() if isinstance(raw, str) else raw
    if b"\\u0000" in data:
        return True
    return data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH


def normalise_json(value: Any, *, repair: bool = False) -> Any:
    """``value`` (parsed JSON) checked as :func:`load_json` checks it."""
    return _walk(value, (), 0, repair)


def _text_value(value: str, path: tuple[str | int, ...], repair: bool) -> str:
    problem = text_problem(value)
    if problem is None:
        return value
    if repair:
        return clean_text(value)
    raise InputProblem(path, problem)


def _walk(value: Any, path: tuple[str | int, ...], depth: int, repair: bool) -> Any:
    if isinstance(value, str):
        return _text_value(value, path, repair)
    if not isinstance(value, (dict, list)):
        return value
    if depth >= MAX_JSON_DEPTH:
        raise InputProblem(path, f"nested deeper than {MAX_JSON_DEPTH} levels",
                           structure=True)
    if isinstance(value, list):
        return [_walk(item, (*path, index), depth + 1, repair)
                for index, item in enumerate(value)]
    cleaned = {}
    for key, item in value.items():
        good_key = (_text_value(key, (*path, printable(key)), repair) if isinstance(key, str)
                    else key)  # YAML keys may be numbers or dates
        cleaned[good_key] = _walk(item, (*path, good_key), depth + 1, repair)
    return cleaned


def json_depth_ok(value: Any) -> Any:
    """For a model's free-form JSON field: refuses nesting deeper than MAX_JSON_DEPTH."""
    _depth_check(value, 0)
    return value


def _depth_check(value: Any, depth: int) -> None:
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return
    if depth >= MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    for child in children:
        if isinstance(child, (dict, list)):
            _depth_check(child, depth + 1)


# A free-form JSON object (alert details): any shape, within the depth limit.
JsonObject = Annotated[dict[str, Any], AfterValidator(json_depth_ok)]
