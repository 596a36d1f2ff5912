"""The OpenAPI document: what FastAPI writes, plus the request bodies routes read themselves.

A few routes read their body without FastAPI's body machinery (the hot alert route,
uploads). They describe it with :func:`json_body_schema`, whose models must still
land in ``components`` so the document stays valid and clients get named types.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

COMPONENTS = "x-steward-components"  # carried on the operation, moved to components
REF_TEMPLATE = "#/components/schemas/{model}"


def json_body_schema(adapter: TypeAdapter[Any], *, description: str = "") -> dict[str, Any]:
    """``openapi_extra`` for a route that validates a JSON body with ``adapter`` itself."""
    schema = adapter.json_schema(ref_template=REF_TEMPLATE)
    definitions = schema.pop("$defs", {})
    body: dict[str, Any] = {"required": True,
                            "content": {"application/json": {"schema": schema}}}
    if description:
        body["description"] = description
    return {"requestBody": body, COMPONENTS: definitions}


def install_openapi(app: FastAPI) -> None:
    """Wrap ``app.openapi`` so models of hand-read bodies become components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for name, definition in operation.pop(COMPONENTS, {}).items():
                        if components.setdefault(name, definition) != definition:
                            raise RuntimeError(f"two different schemas are named {name}")
            app.openapi_schema = schema
        return app.openapi_schema

    # FastAPI's documented way to customise the document: replace the method.
    app.openapi = openapi  # type: ignore[method-assign]
