"""Domain errors and request validation mapped once to HTTP answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward.errors import AuthenticationFailed, StewardError, Throttled
from steward.inputs import printable
from steward.request.validation import DEPTH_ERROR, describe_validation_errors
from steward.shapes import Out


class ErrorDetail(Out):
    field: str = Field(description="the field, dotted (``items.0.status``, ``query.limit``)")
    message: str


class ErrorOut(Out):
    """Every error answer: what went wrong, the field it names, and each problem found."""

    error: str = Field(description="what went wrong, starting with the field it names")
    field: str | None = Field(default=None, description="the field at fault, when there is one")
    details: list[ErrorDetail | str] | None = Field(
        default=None, description="every problem found, when there were several to report")


ERROR_MEANINGS = {
    400: "The body is not valid JSON.",
    401: "No valid credentials: send `Authorization: Bearer <token>`.",
    403: "The caller may not do this (role, team, or a missing CSRF header).",
    404: "A record named in the path or the body does not exist.",
    409: "The records' state does not allow this (a duplicate name, a transition not "
         "allowed from the current state).",
    413: "The body is larger than the server accepts.",
    503: "Steward cannot serve this now (a throttled Alertmanager is told to retry, with "
         "`Retry-After`).",
    429: "Too many requests for this token, session or integration key; retry after "
         "`Retry-After` seconds.",
    422: "The input is invalid; `field` names the first problem, `details` lists them all.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route for the error statuses it can answer."""
    return {code: {"model": ErrorOut, "description": ERROR_MEANINGS[code]} for code in codes}


def printable_json(value: Any) -> Any:
    """An error body safe to encode: a message quoting the input it refuses must not
    carry the lone surrogate it refuses."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [printable_json(item) for item in value]
    if isinstance(value, dict):
        return {key: printable_json(item) for key, item in value.items()}
    return value


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StewardError)
    async def steward_error(_request: Request, exc: StewardError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationFailed) else None
        if isinstance(exc, Throttled):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(printable_json(exc.to_dict()), status_code=exc.status_code,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        summary, field, details = describe_validation_errors(errors)
        unreadable = any(e.get("type") in ("json_invalid", DEPTH_ERROR) for e in errors)
        return JSONResponse(printable_json({"error": summary, "field": field,
                                            "details": details}),
                            status_code=400 if unreadable else 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))
