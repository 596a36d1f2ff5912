"""Describing invalid input the same way to API callers and on pages: the field, then what is wrong.

Pydantic's errors name a location and a type; these turn them into one sentence per
problem, the first of which leads the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The error type of a body nested deeper than the server reads (see ``api.edge``).
DEPTH_ERROR = "json_too_deep"


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


TYPE_MISMATCH = {"model_type", "list_type", "dict_type", "model_attributes_type"}


def _union_tag(err: Mapping[str, Any]) -> str | None:
    """Pydantic puts the union member's name in the location: ``body.DeploymentIn.status``."""
    loc = err.get("loc", ())
    if len(loc) > 1 and loc[0] == "body" and isinstance(loc[1], str) and (
            "[" in loc[1] or loc[1][:1].isupper()):
        return loc[1]
    return None


def _best_union_branch(errors: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """Of a union's branches, report the one the input was meant for (its shape matched)."""
    branches: dict[str | None, list[Mapping[str, Any]]] = {}
    for err in errors:
        branches.setdefault(_union_tag(err), []).append(err)
    if len(branches) < 2 or None in branches:
        return errors
    for tag, errs in branches.items():
        if not any(e.get("type") in TYPE_MISMATCH and len(e.get("loc", ())) == 2 for e in errs):
            return [{**e, "loc": tuple(p for p in e["loc"] if p != tag)} for e in errs]
    return errors


def describe_validation_errors(
    errors: Sequence[Mapping[str, Any]],
) -> tuple[str, str, list[dict[str, Any]]]:
    errors = _best_union_branch(errors)
    details = []
    for err in errors:
        field = _location(err.get("loc", ()))
        kind = err.get("type", "")
        if kind == "json_invalid":
            message = "request body is not valid JSON"
            ctx = err.get("ctx") or {}
            if ctx.get("error"):
                message += f" ({ctx['error']})"
            field = "body"
        elif kind == DEPTH_ERROR:
            message, field = err["msg"], "body"
        elif kind == "value_error" and (err.get("ctx") or {}).get("error"):
            message = str(err["ctx"]["error"])  # without pydantic's "Value error, "
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "is required"
        else:
            message = err.get("msg", "is invalid")
        details.append({"field": field, "message": message})
    first = details[0] if details else {"field": "body", "message": "is invalid"}
    summary = f"{first['field']}: {first['message']}"
    if len(details) > 1:
        summary += f" (and {len(details) - 1} more)"
    return summary, first["field"], details
