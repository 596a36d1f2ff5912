"""/healthz: the server answers and its database does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from steward import __version__
from steward.request.database import database
from steward.shapes import HealthOut

router = APIRouter()


@router.get("/healthz", tags=["health"], response_model=HealthOut)
def healthz(request: Request) -> dict[str, Any]:
    database(request).ping()
    return {"status": "ok", "version": __version__}
