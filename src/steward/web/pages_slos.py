"""SLO pages: the list with burn-down charts, one SLO, its create and edit forms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticError
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from steward.catalog import queries as catalog
from steward.catalog.queries import ServiceDetail
from steward.db import Session
from steward.errors import NotFound, StewardError, ValidationError
from steward.request.database import database
from steward.slos import queries as slo_queries
from steward.slos import service as slos
from steward.slos.queries import SloReading
from steward.slos.schemas import SloCreate, SloUpdate
from steward.web.change_forms import form_values, problem
from steward.web.guard import (
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    pick,
    read_form,
    record_id,
    require_viewer,
)
from steward.web.page_error import page_error_from
from steward.web.render import render
from steward.web.slo_chart import render_burndown
from steward.web.slo_view import view

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]
NOTICES = {"created": "SLO created.", "saved": "SLO saved.", "deleted": "SLO deleted."}
MAX_CHARTS = 30


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
            readings = slo_queries.slo_readings(session, team=filters["team"] or None,
                                                service=filters["service"] or None,
                                                burndowns=MAX_CHARTS)
        except StewardError as exc:
            raise page_error_from(exc) from exc
        teams = catalog.team_names(session)
    items = []
    for reading in readings:
        item = view(reading)
        if reading.burndown is not None:
            slo = reading.slo
            item["chart"] = render_burndown(
                reading.burndown, id_prefix=f"burndown-{slo.id}",
                title=f"Error budget burn-down of {slo.service} {slo.name}")
        items.append(item)
    return render(request, "slos/list.html", {
        "items": items, "filters": filters, "teams": teams, "max_charts": MAX_CHARTS,
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }, nav="slos")


def _reading(session: Session, slo_id: int) -> SloReading:
    try:
        return slo_queries.slo_reading(session, slo_id)
    except NotFound as exc:
        raise page_error_from(exc) from exc


def _detail(request: Request, viewer: Viewer, reading: SloReading, *, error: str = "",
            status: int = 200, form: dict[str, str] | None = None) -> Response:
    slo = reading.slo
    chart = render_burndown(reading.burndown or [], id_prefix="burndown",
                            title=f"Error budget burn-down of {slo.service} {slo.name}")
    return render(request, "slos/detail.html", {
        "slo": view(reading), "chart": chart,
        "can_edit": viewer.can_write_team(slo.owner_team_id),
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
        reading = _reading(session, slo_id)
    return _detail(request, viewer, reading)


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
            reading = _reading(session, slo_id)
        return _detail(request, viewer, reading, error=message, status=status, form=values)
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


def _service(session: Session, name: str) -> ServiceDetail:
    try:
        return catalog.service_detail(session, name)
    except NotFound as exc:
        raise page_error_from(exc) from exc


def _new_form(request: Request, viewer: Viewer, service: ServiceDetail, *, error: str = "",
              status: int = 200, form: dict[str, str] | None = None) -> Response:
    return render(request, "slos/new.html", {
        "service": service.name, "can_edit": viewer.can_write_team(service.owner_team_id),
        "error": error, "form": form or {},
    }, status=status, nav="slos")


@router.get("/services/{name}/slos/new")
def slo_new(request: Request, name: str) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
        service = _service(session, name)
    return _new_form(request, viewer, service)


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
            service = _service(session, name)
        return _new_form(request, viewer, service, error=message, status=status, form=values)
    return RedirectResponse(f"/slos/{slo_id}?done=created", status_code=303)
