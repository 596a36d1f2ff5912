"""Integration keys: the list, creating one (its key shown this once) and revoking.

A new key is shown only in the answer to the form that created it, with the
endpoint and a ready-to-paste configuration for its type. Steward keeps only
the key's hash, so no later page can show it again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth.models import Integration
from steward.auth.use_cases.integrations import (
    INTEGRATION_TYPES,
    create_integration,
    integration_out,
    revoke_integration,
)
from steward.catalog.models import Service, Team
from steward.errors import Conflict, PermissionDenied, StewardError, ValidationError
from steward.request.database import database
from steward.web.guard import (
    PageError,
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    record_id,
    require_viewer,
)
from steward.web.render import DEFAULT_LIMIT, TEMPLATES, Pager, paging, render, url_with

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]

FILTERS = ("service", "team", "type")

TYPE_LABELS = {
    "alertmanager": "Prometheus Alertmanager (webhook)",
    "pagerduty": "PagerDuty Events API v2 (routing key)",
    "grafana": "Grafana alerting (webhook)",
    "generic": "Generic JSON alerts",
    "cdevents": "CDEvents (deployments, incidents)",
    "github": "GitHub deployments (webhook secret)",
    "gitlab": "GitLab deployments (secret token)",
}

NOTICES = {"revoked": "Integration revoked: its key no longer works."}


def _setup(type: str, key: str, base: str, service: str | None) -> dict[str, Any]:
    """Where a new key goes: the endpoint, how it is sent, and a snippet to paste."""
    target = service or "your-service"
    if type == "alertmanager":
        return {
            "endpoint": f"POST {base}/ingest/alertmanager",
            "auth": "Authorization: Bearer <key> (http_config.authorization in Alertmanager)",
            "label": "alertmanager.yml",
            "snippet": (
                "receivers:\n"
                "  - name: steward\n"
                "    webhook_configs:\n"
                f"      - url: {base}/ingest/alertmanager\n"
                "        send_resolved: true\n"
                "        http_config:\n"
                "          authorization:\n"
                "            type: Bearer\n"
                f"            credentials: {key}\n"),
        }
    if type == "pagerduty":
        return {
            "endpoint": f"POST {base}/v2/enqueue (change events: {base}/v2/change/enqueue)",
            "auth": "routing_key in the event body",
            "label": "alertmanager.yml (or any PagerDuty Events API v2 sender)",
            "snippet": (
                "receivers:\n"
                "  - name: steward-pagerduty\n"
                "    pagerduty_configs:\n"
                f"      - routing_key: {key}\n"
                f"        url: {base}/v2/enqueue\n"
                "        send_resolved: true\n"),
        }
    if type == "github":
        return {
            "endpoint": f"POST {base}/ingest/github",
            "auth": "X-Hub-Signature-256: HMAC-SHA256 of the body with this secret",
            "label": "GitHub: repository Settings \u2192 Webhooks \u2192 Add webhook",
            "snippet": (
                f"Payload URL:   {base}/ingest/github\n"
                "Content type:  application/json\n"
                f"Secret:        {key}\n"
                "Events:        Deployments, Deployment statuses\n"),
        }
    if type == "gitlab":
        return {
            "endpoint": f"POST {base}/ingest/gitlab",
            "auth": "X-Gitlab-Token: <secret token>",
            "label": "GitLab: project Settings \u2192 Webhooks \u2192 Add new webhook",
            "snippet": (
                f"URL:           {base}/ingest/gitlab\n"
                f"Secret token:  {key}\n"
                "Trigger:       Deployment events\n"),
        }
    if type == "grafana":
        return {
            "endpoint": f"POST {base}/ingest/grafana",
            "auth": "Authorization: Bearer <key>",
            "label": "Grafana: Alerting \u2192 Contact points \u2192 Webhook",
            "snippet": (
                f"URL:                          {base}/ingest/grafana\n"
                "HTTP method:                  POST\n"
                "Authorization header scheme:  Bearer\n"
                f"Authorization credentials:    {key}\n"),
        }
    if type == "cdevents":
        return {
            "endpoint": f"POST {base}/ingest/cdevents",
            "auth": "Authorization: Bearer <key>",
            "label": "shell (CloudEvents structured mode)",
            "snippet": (
                f"curl -X POST {base}/ingest/cdevents \\\n"
                f"  -H 'Authorization: Bearer {key}' \\\n"
                "  -H 'Content-Type: application/cloudevents+json' \\\n"
                "  --data @event.json\n"),
        }
    return {
        "endpoint": f"POST {base}/api/v1/alerts",
        "auth": "Authorization: Bearer <key>",
        "label": "shell",
        "snippet": (
            f"curl -X POST {base}/api/v1/alerts \\\n"
            f"  -H 'Authorization: Bearer {key}' \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f"  -d '{{\"service\": \"{target}\", \"dedup_key\": \"disk-full\", "
            "\"status\": \"firing\", \"severity\": \"critical\", "
            "\"summary\": \"Disk 95% full\"}'\n"),
    }


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _rows(session: Session, viewer: Viewer, filters: dict[str, str], *, limit: int,
          offset: int) -> tuple[int, list[dict[str, Any]]]:
    svc, team = aliased(Service), aliased(Team)
    query = (select(Integration, svc.name, team.name)
             .outerjoin(svc, svc.id == Integration.service_id)
             .outerjoin(team, team.id == Integration.team_id))
    if filters["service"]:
        query = query.where(svc.name == filters["service"])
    if filters["team"]:
        query = query.where(team.name == filters["team"])
    if filters["type"]:
        query = query.where(Integration.type == filters["type"])
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    found = session.execute(query.order_by(Integration.id.desc()).limit(limit).offset(offset))
    rows = [{
        "id": row.id, "type": row.type, "name": row.name, "service": service_name,
        "team": team_name, "prefix": row.prefix, "created_at": row.created_at,
        "revoked_at": row.revoked_at,
        "can_revoke": row.revoked_at is None and viewer.can_write_team(row.team_id),
    } for row, service_name, team_name in found]
    return total, rows


def _choices(session: Session, viewer: Viewer) -> dict[str, Any]:
    """What the filters offer (everything) and what the create form offers (writable)."""
    teams = dict(session.execute(select(Team.id, Team.name).order_by(Team.name)).all())
    services = session.execute(
        select(Service.name, Service.owner_team_id).order_by(Service.name)).all()
    writable_services = [(name, teams.get(owner) if owner else None) for name, owner in services
                         if viewer.can_write_team(owner)]
    return {
        "all_services": [name for name, _ in services],
        "all_teams": list(teams.values()),
        "form_services": writable_services,
        "form_teams": [name for tid, name in teams.items() if viewer.can_write_team(tid)],
        "can_create": viewer.is_admin or (viewer.role == "member" and bool(viewer.actor.team_ids)),
    }


def _filters(request: Request) -> dict[str, str]:
    filters = {name: pick(request.query_params, name) for name in FILTERS}
    if filters["type"] and filters["type"] not in INTEGRATION_TYPES:
        raise PageError(422, "Invalid input",
                        f"type: must be one of {', '.join(INTEGRATION_TYPES)}")
    return filters


def _page(request: Request, session: Session, viewer: Viewer, *, error: str = "",
          status: int = 200, form: dict[str, str] | None = None,
          created: dict[str, Any] | None = None) -> Response:
    filters = _filters(request)
    limit, offset = paging(request)
    total, rows = _rows(session, viewer, filters, limit=limit, offset=offset)
    keep: dict[str, Any] = {k: v for k, v in filters.items() if v}
    if limit != DEFAULT_LIMIT:
        keep["limit"] = limit
    notice = NOTICES.get(request.query_params.get("done", "")) if not error else None
    return render(request, "integrations.html", {
        "rows": rows, "pager": Pager("/integrations", keep, total, limit, offset),
        "filters": filters, "filtered": any(filters.values()),
        "types": INTEGRATION_TYPES, "type_labels": TYPE_LABELS,
        "error": error, "notice": notice, "form": form or {}, "created": created,
        "back": url_with("/integrations", {k: v for k, v in filters.items() if v}),
        **_choices(session, viewer),
    }, status=status, nav="integrations")


@router.get("/integrations")
def integrations_page(request: Request) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _page(request, session, viewer)


@router.post("/integrations")
def integration_create(request: Request, form: Form) -> Response:
    values = {name: form_text(form, name) for name in ("type", "service", "team", "name")}
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            if not viewer.is_admin and viewer.role != "member":
                raise PermissionDenied(f"a {viewer.role} may not create integrations")
            if values["type"] not in INTEGRATION_TYPES:
                raise ValidationError(f"type: must be one of {', '.join(INTEGRATION_TYPES)}",
                                      field="type")
            if not values["service"] and not values["team"] and not viewer.is_admin:
                raise ValidationError("Choose a service or a team for the integration: only "
                                      "an admin may create one for no particular team.",
                                      field="service")
            if len(values["name"]) > 200:
                raise ValidationError("name: at most 200 characters", field="name")
            row, key = create_integration(session, viewer.actor, values["type"],
                                          service=values["service"] or None,
                                          team=values["team"] or None, name=values["name"])
            created = integration_out(session, row)
    except StewardError as exc:
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _page(request, session, viewer, error=exc.message, status=exc.status_code,
                         form=values)
    created.update(key=key, setup=_setup(created["type"], key, _base_url(request),
                                         created["service"]))
    with db.read_session() as session:
        viewer = require_viewer(request, session)
        # The one answer that carries the key: rendered here, never stored.
        return _page(request, session, viewer, status=201, created=created)


@router.post("/integrations/{integration_id}/revoke")
def integration_revoke(request: Request, integration_id: str, form: Form) -> Response:
    record_id(integration_id, "integration")
    back = form_text(form, "back")
    if not back.startswith("/integrations") or back.startswith("/integrations/"):
        back = "/integrations"
    db = database(request)
    try:
        with db.session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            row = session.get(Integration, int(integration_id))
            if row is not None and row.revoked_at is not None:
                raise Conflict(f"integration {row.id} is already revoked")
            revoke_integration(session, viewer.actor, int(integration_id))
    except StewardError as exc:
        if exc.status_code == 404:
            raise
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _page(request, session, viewer, error=exc.message, status=exc.status_code)
    join = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{join}done=revoked", status_code=303)


def integrations_for_service(request: Request, service: str) -> list[dict[str, Any]]:
    """The service page's short list of its integrations; never an error."""
    try:
        with database(request).read_session() as session:
            found = session.execute(
                select(Integration).join(Service, Service.id == Integration.service_id)
                .where(Service.name == service).order_by(Integration.id)).scalars().all()
            return [{"id": r.id, "type": r.type, "name": r.name, "prefix": r.prefix,
                     "revoked": r.revoked_at is not None} for r in found]
    except SQLAlchemyError:  # the service page must render even so
        return []


TEMPLATES.env.globals["integrations_for_service"] = integrations_for_service
