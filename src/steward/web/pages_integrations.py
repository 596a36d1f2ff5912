"""Integration keys: the list, creating one (its key shown this once) and revoking.

A new key is shown only in the answer to the form that created it, with the
endpoint and a ready-to-paste configuration for its type. Steward keeps only
the key's hash, so no later page can show it again.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.auth import queries
from steward.auth.use_cases.integrations import (
    INTEGRATION_TYPES,
    check_type,
    new_integration,
    revoke_integration,
)
from steward.db import Session
from steward.errors import PermissionDenied, StewardError, ValidationError
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
from steward.web.render import DEFAULT_LIMIT, Pager, paging, render, url_with

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
    total, rows = queries.integration_rows(session, **filters, limit=limit, offset=offset)
    for row in rows:
        row["can_revoke"] = row["revoked_at"] is None and viewer.can_write_team(row["team_id"])
    return total, rows


def _choices(session: Session, viewer: Viewer) -> dict[str, Any]:
    """What the filters offer (everything) and what the create form offers (writable)."""
    targets = queries.routing_targets(session)
    teams = targets.teams
    writable_services = [(name, teams.get(owner) if owner else None)
                         for name, owner in targets.services if viewer.can_write_team(owner)]
    return {
        "all_services": [name for name, _ in targets.services],
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
            # The form's guidance, in its order; create_integration enforces the same.
            check_type(values["type"])
            if not values["service"] and not values["team"] and not viewer.is_admin:
                raise ValidationError("Choose a service or a team for the integration: only "
                                      "an admin may create one for no particular team.",
                                      field="service")
            created = new_integration(session, viewer.actor, values["type"],
                                      service=values["service"] or None,
                                      team=values["team"] or None, name=values["name"])
    except StewardError as exc:
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _page(request, session, viewer, error=exc.message, status=exc.status_code,
                         form=values)
    created["setup"] = _setup(created["type"], created["key"], _base_url(request),
                              created["service"])
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
            revoke_integration(session, viewer.actor, int(integration_id))
    except StewardError as exc:
        if exc.status_code == 404:
            raise
        with db.read_session() as session:
            viewer = require_viewer(request, session)
            return _page(request, session, viewer, error=exc.message, status=exc.status_code)
    join = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{join}done=revoked", status_code=303)
