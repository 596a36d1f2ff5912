"""The admin pages that import a ServiceNow incident export or a Backstage catalog, and show
what the import did."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from steward.catalog.use_cases.backstage_upload import Upload, import_uploads
from steward.errors import StewardError
from steward.request.database import database
from steward.servicenow.service import Source, import_servicenow
from steward.web.guard import (
    Viewer,
    WebRoute,
    check_csrf,
    form_text,
    read_form,
    require_admin,
    require_viewer,
)
from steward.web.render import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Form = Annotated[FormData, Depends(read_form)]
PATH = "/imports/servicenow"
BACKSTAGE_PATH = "/imports/backstage"


def _page(request: Request, *, summary: dict[str, Any] | None = None, error: str = "",
          form: dict[str, str] | None = None, status: int = 200) -> Response:
    return render(request, "imports.html", {
        "summary": summary, "error": error, "form": form or {"timezone": "UTC"},
    }, status=status, nav="imports")


def _admin(request: Request) -> Viewer:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
    require_admin(viewer, "import ServiceNow history")
    return viewer


@router.get(PATH)
def import_page(request: Request) -> Response:
    _admin(request)
    return _page(request)


@router.post(PATH)
def import_submit(request: Request, form: Form) -> Response:
    viewer = _admin(request)
    check_csrf(viewer, form)
    values = {"timezone": form_text(form, "timezone") or "UTC",
              "strict": "on" if form_text(form, "strict") else ""}
    upload = form.get("export")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, error="export: choose the exported file (.csv or .csv.gz)",
                     form=values, status=422)
    data = upload.file.read()
    if not data.strip():
        return _page(request, error=f"export: {upload.filename} is empty", form=values,
                     status=422)
    try:
        summary = import_servicenow(database(request), viewer.actor,
                                    [Source.from_bytes(upload.filename, data)],
                                    timezone=values["timezone"], strict=bool(values["strict"]))
    except StewardError as exc:
        return _page(request, error=exc.message, form=values, status=exc.status_code)
    return _page(request, summary=summary.as_dict(), form=values)


def _backstage_page(request: Request, *, report: dict[str, Any] | None = None, error: str = "",
                    skip_invalid: bool = False, status: int = 200) -> Response:
    return render(request, "imports_backstage.html", {
        "report": report, "error": error, "skip_invalid": skip_invalid,
    }, status=status, nav="imports")


@router.get(BACKSTAGE_PATH)
def backstage_page(request: Request) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
    require_admin(viewer, "import catalog files")
    return _backstage_page(request)


@router.post(BACKSTAGE_PATH)
def backstage_submit(request: Request, form: Form) -> Response:
    with database(request).read_session() as session:
        viewer = require_viewer(request, session)
    require_admin(viewer, "import catalog files")
    check_csrf(viewer, form)
    skip_invalid = bool(form_text(form, "skip_invalid"))
    uploads = [Upload(f.filename or "upload.yaml", f.file.read())
               for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return _backstage_page(request, error="files: choose catalog files or a repository "
                               "archive", skip_invalid=skip_invalid, status=422)
    try:
        report = import_uploads(database(request), viewer.actor, uploads,
                                skip_invalid=skip_invalid)
    except StewardError as exc:
        return _backstage_page(request, error=exc.message, skip_invalid=skip_invalid,
                               status=exc.status_code)
    return _backstage_page(request, report=report.as_dict(), skip_invalid=skip_invalid,
                           status=200 if report.stored else 422)
