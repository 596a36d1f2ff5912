"""Input checked where it enters the API, before any route reads it.

Every API router is built with :class:`CheckedRoute`: a path or query parameter
holding NUL (which PostgreSQL cannot store or compare) is a 422 naming it, and a JSON
body is read with ``steward.inputs.load_json`` (faster than the standard library's, and
bounded in depth) rather than FastAPI's reader; NUL or a lone surrogate anywhere in it
is a 422 naming where, nesting deeper than ``MAX_JSON_DEPTH`` a 400. The models then
check each field's kind (``steward.inputs``).

Routes that read their own body (the ingest formats) read it with
``steward.api.deps.json_body`` or ``load_json(..., repair=True)``: events from monitoring
are repaired rather than refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from steward.inputs import InputProblem, load_json, printable, text_problem
from steward.request.validation import DEPTH_ERROR


def parameter_errors(request: Request, query_names: frozenset[str]) -> list[dict[str, Any]]:
    """Pydantic-style errors for path and (declared) query parameters no column can hold."""
    errors = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(value)):
            errors.append({"type": "string_bad_characters", "loc": ("path", name),
                           "msg": problem, "input": printable(value)})
    for name, value in request.query_params.multi_items():
        if name in query_names and (problem := text_problem(value)):
            errors.append({"type": "string_bad_characters", "loc": ("query", name),
                           "msg": problem, "input": printable(value)})
    return errors


def _is_json(content_type: str | None) -> bool:
    if not content_type:  # not read as JSON (FastAPI's strict content type): refused there
        return False
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


async def read_json_body(request: Request) -> None:
    """Parse and check the JSON body now; FastAPI's ``request.json()`` then returns it.
    A body that is not JSON at all is left for FastAPI to refuse, as it does."""
    if not _is_json(request.headers.get("content-type")):
        return
    raw = await request.body()
    if not raw:
        return
    try:
        data = load_json(raw)
    except InputProblem as problem:
        if problem.structure:
            raise RequestValidationError([{"type": DEPTH_ERROR, "loc": ("body",),
                                           "msg": problem.message, "input": None}]) from None
        raise RequestValidationError([{"type": "string_bad_characters",
                                       "loc": ("body", *problem.path),
                                       "msg": problem.message, "input": None}]) from None
    except json.JSONDecodeError:
        return
    request._json = data  # Starlette's cache of the parsed body


class CheckedRoute(APIRoute):
    """An API route whose parameters and JSON body are checked before it runs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        reads_json = self.body_field is not None and not _is_form(self)
        query_names = _query_names(self.dependant)

        async def handler(request: Request) -> Response:
            errors = parameter_errors(request, query_names)
            if errors:
                raise RequestValidationError(errors)
            if reads_json:
                await read_json_body(request)
            return await original(request)

        return handler


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route (and its dependencies) declare."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


def _is_form(route: APIRoute) -> bool:
    from fastapi import params

    return any(isinstance(getattr(field, "field_info", None), params.Form)
               for field in route.dependant.body_params)


def api_router(**options: Any) -> APIRouter:
    """An APIRouter of the API: its routes are :class:`CheckedRoute`."""
    return APIRouter(route_class=CheckedRoute, **options)
