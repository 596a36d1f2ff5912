"""SLO pages: the list with burn-down charts, one SLO, its create and edit forms,
and the SLO section of the service page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog.models import Service
from steward.catalog.use_cases import services as catalog
from steward.errors import NotFound, StewardError, ValidationError
from steward.request.database import database
from steward.slos import burn
from steward.slos import service as slos
from steward.slos.models import Slo
from steward.slos.schemas import SloCreate, SloUpdate
from steward.slos.status import SloStatus, burndown, status_of
from steward.web.change_forms import form_values, problem
from steward.web.guard import (
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    page_error_from,
    pick,
    read_form,
    record_id,
    require_viewer,
)
from steward.web.render import TEMPLATES, render
from steward.web.slo_chart import render_burndown

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]
NOTICES = {"created": "SLO created.", "saved": "SLO saved.", "deleted": "SLO deleted."}
MAX_CHARTS = 30


def percent(value: float | None, digits: int = 2) -> str:
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×"


def view(slo: Slo, status: SloStatus, service: str, team: str | None) -> dict[str, Any]:
    firing = {rule.name for rule in status.firing}
    return {
        "id": slo.id, "name": slo.name, "service": service, "team": team,
        "description": slo.description, "objective": slo.objective,
        "objective_text": percent(slo.objective, 3), "window_days": slo.window_days,
        "sli_kind": slo.sli, "sli": percent(status.sli, 3),
        "budget_left": status.budget.left, "budget_left_text": percent(status.budget.left, 1),
        "budget_consumed_text": percent(status.budget.consumed, 1),
        "exhausted": status.budget.exhausted,
        "low": 0 < status.budget.left < 0.25,
        "rates": {name: rate(value) for name, value in status.burn_rates.items()},
        "rules": [{"name": r.name, "action": r.action, "severity": r.severity,
                   "describe": r.describe(), "firing": r.name in firing} for r in burn.RULES],
        "firing": sorted(firing),
    }


def _number(form: FormData, name: str, kind: type) -> Any:
    raw = form_text(form, name)
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValidationError(f"{name}: {raw!r} is not a number", field=name) from exc


def _fields(form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": form_text(form, "name") or None,
        "objective": _number(form, "objective", float),
        "window_days": _number(form, "window_days", int),
        "sli": form_text(form, "sli") or None,
    }
    if "description" in form:
        fields["description"] = str(form.get("description") or "").strip()
    return {k: v for k, v in fields.items() if v is not None}


@router.get("/slos")
def slo_list(request: Request) -> Response:
    filters = {name: pick(request.query_params, name) for name in ("team", "service")}
    with database(request).read_session() as session:
        require_viewer(request, session)
        try:
            rows = slos.list_slos(session, team=filters["team"] or None,
                                  service=filters["service"] or None)
        except StewardError as exc:
            raise page_error_from(exc) from exc
        names = slos.service_names(session, [s.service_id for s in rows])
        items = []
        for i, slo in enumerate(rows):
            service, team = names.get(slo.service_id, ("", None))
            item = view(slo, status_of(session, slo), service, team)
            if i < MAX_CHARTS:
                item["chart"] = render_burndown(
                    burndown(session, slo), id_prefix=f"burndown-{slo.id}",
                    title=f"Error budget burn-down of {service} {slo.name}")
            items.append(item)
        return render(request, "slos/list.html", {
            "items": items, "filters": filters, "teams": sorted(catalog.team_names(session)
                                                                 .values()),
            "max_charts": MAX_CHARTS,
            "notice": NOTICES.get(request.query_params.get("done", "")),
        }, nav="slos")


def _detail(request: Request, session: Session, viewer: Viewer, slo_id: int, *,
            error: str = "", status: int = 200, form: dict[str, str] | None = None) -> Response:
    try:
        slo = slos.get_slo(session, slo_id)
    except NotFound as exc:
        raise page_error_from(exc) from exc
    service = session.get(Service, slo.service_id)
    assert service is not None
    team = catalog.team_names(session).get(service.owner_team_id or -1)
    item = view(slo, status_of(session, slo), service.name, team)
    chart = render_burndown(burndown(session, slo), id_prefix="burndown",
                            title=f"Error budget burn-down of {service.name} {slo.name}")
    return render(request, "slos/detail.html", {
        "slo": item, "chart": chart, "can_edit": viewer.can_write_team(service.owner_team_id),
        "error": error, "form": form or {},
        "notice": NOTICES.get(request.query_params.get("done", "")) if not error else None,
    }, status=status, nav="slos")


def _slo_id(slo_id: str) -> int:
    return record_id(slo_id, "SLO")


SloId = Annotated[int, Depends(_slo_id)]


@router.get("/slos/{slo_id}")
def slo_page(request: Request, slo_id: SloId) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _detail(request, session, viewer, slo_id)


@router.post("/slos/{slo_id}/edit")
def slo_edit(request: Request, slo_id: SloId, form: Form) -> Response:
    values = form_values(form)
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            slos.update_slo(session, viewer.actor, slo_id, SloUpdate(**_fields(form)))
    except NotFound as exc:
        raise page_error_from(exc) from exc
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        with database(request).read_session() as session:
            viewer = require_viewer(request, session)
            return _detail(request, session, viewer, slo_id, error=message, status=status,
                           form=values)
    return RedirectResponse(f"/slos/{slo_id}?done=saved", status_code=303)


@router.post("/slos/{slo_id}/delete")
def slo_delete(request: Request, slo_id: SloId, form: Form) -> Response:
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            slos.delete_slo(session, viewer.actor, slo_id)
    except StewardError as exc:
        raise page_error_from(exc) from exc
    return RedirectResponse("/slos?done=deleted", status_code=303)


def _new_form(request: Request, session: Session, viewer: Viewer, name: str, *,
              error: str = "", status: int = 200,
              form: dict[str, str] | None = None) -> Response:
    try:
        service = catalog.get_service(session, name)
    except NotFound as exc:
        raise page_error_from(exc) from exc
    return render(request, "slos/new.html", {
        "service": service.name, "can_edit": viewer.can_write_team(service.owner_team_id),
        "error": error, "form": form or {},
    }, status=status, nav="slos")


@router.get("/services/{name}/slos/new")
def slo_new(request: Request, name: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        return _new_form(request, session, viewer, name)


@router.post("/services/{name}/slos")
def slo_create(request: Request, name: str, form: Form) -> Response:
    values = form_values(form)
    try:
        with database(request).session() as session:
            viewer = require_viewer(request, session)
            check_csrf(viewer, form)
            made = slos.create_slo(session, viewer.actor, name, SloCreate(**_fields(form)))
            slo_id = made.id
    except NotFound as exc:
        raise page_error_from(exc) from exc
    except (StewardError, PydanticError) as exc:
        message, status = problem(exc)
        with database(request).read_session() as session:
            viewer = require_viewer(request, session)
            return _new_form(request, session, viewer, name, error=message, status=status,
                             form=values)
    return RedirectResponse(f"/slos/{slo_id}?done=created", status_code=303)


def slos_for_service(request: Request, service: str) -> list[dict[str, Any]]:
    """The service page's SLOs with their status; never an error."""
    try:
        with database(request).read_session() as session:
            rows = slos.list_slos(session, service=service)
            names = slos.service_names(session, [s.service_id for s in rows])
            return [view(s, status_of(session, s), *names.get(s.service_id, (service, None)))
                    for s in rows]
    except StewardError:  # the service page must render even so
        return []


TEMPLATES.env.globals["slos_for_service"] = slos_for_service
