"""Building blocks of the API's answers, shared by every domain's ``schemas`` module.

The routes hand FastAPI plain dictionaries; these models describe them in the
OpenAPI document and are checked against them on the way out. ``Out`` refuses
keys it does not know, so an answer that grew a field its model lacks fails
loudly (in the tests) rather than losing the field on the way to the client.
"""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, WithJsonSchema

T = TypeVar("T")

# A time the domain already wrote as ISO-8601 UTC with ``Z`` (``isoformat_z``): kept
# as the very string it is, described as a date-time.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
# A figure that may be whole or fractional: kept as it is (3 stays 3, not 3.0).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]


class Out(BaseModel):
    """An answer's shape: exactly these keys."""

    model_config = ConfigDict(extra="forbid")


class Page(Out, Generic[T]):
    """One page of a list: ``limit`` items from ``offset`` of ``total``."""

    total: int
    limit: int
    offset: int
    items: list[T]


class Listing(Out, Generic[T]):
    """A whole (short) list."""

    total: int
    items: list[T]


class Items(Out, Generic[T]):
    """A list without a count."""

    items: list[T]


class HealthOut(Out):
    status: str
    version: str
