"""/api/v1/status/components: which services the public status page shows, and how."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from steward.api.deps import CurrentActor, database
from steward.api.edge import api_router
from steward.api.errors import error_responses
from steward.shapes import Items
from steward.status import admin_queries
from steward.status.cache import cache_of
from steward.status.schemas import ComponentSettings, ComponentSettingsOut
from steward.status.use_cases import components

router = api_router(prefix="/api/v1/status", tags=["status page"],
                    responses=error_responses(401))


@router.get("/components", response_model=Items[ComponentSettingsOut],
            responses=error_responses(422))
def list_components(request: Request, _actor: CurrentActor,
                    published: bool = False) -> dict[str, Any]:
    """Every service's status page settings (``published=true``: only those shown),
    published first, in page order."""
    with database(request).read_session() as session:
        return {"items": admin_queries.component_settings(session, published_only=published)}


@router.put("/components/{service}", response_model=ComponentSettingsOut,
            responses=error_responses(400, 403, 404, 413, 422))
def set_component(service: str, body: ComponentSettings, request: Request,
                  actor: CurrentActor) -> dict[str, Any]:
    """Publish or hide a service, and set its public name, description, group and
    position (admins). The public page shows it within a couple of seconds."""
    with database(request).session() as session:
        found = components.set_component(session, actor, service, body)
    cache_of(request.app.state).clear()
    return found
