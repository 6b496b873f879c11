"""The admin pages: API keys, the catalogue upload with its preview, company imports as
background jobs, deleting a firm. Admin only; thin adapters over the same calls as the API
(``service.auth``, ``service.catalogue_drafts``, ``service.import_jobs``,
``routes.companies.erase_company``), which write the same audit entries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from ... import auth, catalogue_drafts, import_jobs, store
from ...db import transaction
from ...deps import HolderDep, SessionDep, SettingsDep
from ...errors import Invalid, ServiceError, status_of
from ...models import ApiKeyRow
from ...routes.admin import start_import
from ...routes.common import read_upload
from ...routes.companies import erase_company
from ...schemas import KeyCreate
from ..i18n import problem
from ..websession import WebSession
from .common import PREFIX, AdminViewer, form_with_csrf, lang_of, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
REPORT_SHOWN = 2000  # report rows a job's page lists (the API gives them all)


async def _act(request: Request, ws: WebSession, then: str, fn: Any, *args: Any) -> Response:
    """A POSTed action: check the form token, run ``fn(*args)`` off the event loop, go to
    ``then`` (303)."""
    await form_with_csrf(request, ws)
    await run_in_threadpool(fn, *args)
    return RedirectResponse(then, status_code=303)


@router.get("/admin")
def admin_home(request: Request, ws: AdminViewer) -> Response:
    return page(request, "admin.html", {}, ws)


# ---------------------------------------------------------------- keys
def _keys_page(request: Request, ws: WebSession, status: int = 200, **context: Any) -> Response:
    with request.app.state.sessions() as s:
        rows = list(s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))
    values = context.pop("values", {})
    return page(
        request,
        "admin_keys.html",
        {"keys": rows, "roles": auth.ROLES, "values": values, **context},
        ws,
        status,
    )


@router.get("/admin/keys")
def keys_page(request: Request, ws: AdminViewer) -> Response:
    return _keys_page(request, ws)


@router.post("/admin/keys")
async def create_key(request: Request, ws: AdminViewer) -> Response:
    """A new key, shown on this answer only (never stored, never shown again)."""
    form = await form_with_csrf(request, ws)
    values = {k: form.get(k, "").strip() for k in ("role", "name", "company_id")}
    try:
        body = KeyCreate.model_validate({k: v or None for k, v in values.items()})
    except ValidationError as exc:
        errors = {str(e["loc"][0]): problem(e, lang_of(request)) for e in exc.errors()}
        return _keys_page(request, ws, 422, values=values, errors=errors)

    def create() -> tuple[ApiKeyRow, str]:
        with transaction(request.app.state.sessions) as s:
            return auth.create_key(
                s, body.role, body.company_id, body.name, ws.principal.actor, body.rate_per_min
            )

    try:
        row, key = await run_in_threadpool(create)
    except ServiceError as exc:
        errors = {exc.field or "_form": exc.message}
        return _keys_page(request, ws, status_of(exc), values=values, errors=errors)
    return page(request, "admin_key_created.html", {"k": row, "key": key}, ws, 201)


@router.post("/admin/keys/{key_id}/revoke")
async def revoke_key(key_id: KeyId, request: Request, ws: AdminViewer) -> Response:
    def revoke() -> None:
        with transaction(request.app.state.sessions) as s:
            auth.revoke_key(s, key_id, ws.principal.actor)

    return await _act(request, ws, f"/ui/admin/keys?revoked={key_id}", revoke)


# ---------------------------------------------------------------- catalogue upload
async def _posted_file(request: Request, ws: WebSession) -> UploadFile:
    """The form's file after its CSRF check; Invalid when none was chosen."""
    await form_with_csrf(request, ws)
    file = (await request.form()).get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise Invalid("file: choose a file to upload", "file")
    return file


@router.get("/admin/catalogue")
def catalogue_page(request: Request, ws: AdminViewer) -> Response:
    return page(request, "admin_catalogue.html", {}, ws)


@router.post("/admin/scenarios/upload")
async def preview_catalogue(request: Request, ws: AdminViewer, settings: SettingsDep) -> Response:
    """The preview: every problem the file has, or what applying it adds, changes and
    retires; a valid file is kept (as a draft in the database) for the apply button."""
    sessions = request.app.state.sessions
    try:
        file = await _posted_file(request, ws)
        data = read_upload(file, settings.max_upload_bytes)
        checked = catalogue_drafts.read_catalogue(data, file.filename)
        pv = await run_in_threadpool(catalogue_drafts.preview, sessions, checked)
    except ServiceError as exc:
        if status_of(exc) == 403:
            raise
        ctx: dict[str, Any] = {"error": exc.message}
        return page(request, "admin_catalogue.html", ctx, ws, status_of(exc))
    token = None
    if pv.report is not None:

        def keep() -> str:
            with transaction(sessions) as s:
                return catalogue_drafts.save_draft(
                    s, ws.principal.key_id, data, checked.name, pv.fingerprint
                )

        token = await run_in_threadpool(keep)
    ctx = {"pv": pv, "token": token, "name": checked.name}
    return page(request, "admin_preview.html", ctx, ws, 200 if token else 422)


@router.post("/admin/scenarios/apply")
async def apply_catalogue(request: Request, ws: AdminViewer, holder: HolderDep) -> Response:
    """Apply a previewed upload as it was previewed; refused if the catalogue changed."""
    form = await form_with_csrf(request, ws)
    token = form.get("token", "")
    key_id, actor = ws.principal.key_id, ws.principal.actor
    try:
        report = await run_in_threadpool(
            holder.write, lambda s: catalogue_drafts.apply_draft(s, token, key_id, actor)
        )
    except ServiceError as exc:
        ctx = {"error": exc.message}
        return page(request, "admin_catalogue.html", ctx, ws, status_of(exc))
    return page(request, "admin_applied.html", {"report": report}, ws)


# ---------------------------------------------------------------- company imports
def _imports_page(request: Request, ws: WebSession, status: int = 200, **ctx: Any) -> Response:
    with request.app.state.sessions() as s:
        jobs = [import_jobs.job_public(j) for j in import_jobs.recent_jobs(s, 20)]
    return page(request, "admin_imports.html", {"jobs": jobs, **ctx}, ws, status)


@router.get("/admin/imports")
def imports_page(request: Request, ws: AdminViewer) -> Response:
    return _imports_page(request, ws)


@router.post("/admin/companies/import")
async def start_job(request: Request, ws: AdminViewer, settings: SettingsDep) -> Response:
    """Queue the file as a background job and open its page."""
    try:
        file = await _posted_file(request, ws)
        data = read_upload(file, settings.max_upload_bytes)
        job_id = await run_in_threadpool(
            start_import, request, data, file.filename or "", ws.principal.actor, store.ANY_FIRM
        )
    except ServiceError as exc:
        if status_of(exc) == 403:
            raise
        return _imports_page(request, ws, status_of(exc), error=exc.message)
    return RedirectResponse(f"/ui/admin/imports/{job_id}", status_code=303)


@router.get("/admin/imports/{job_id}")
def job_page(job_id: JobId, request: Request, ws: AdminViewer, session: SessionDep) -> Response:
    """A job's progress and per-row report; it reloads itself while the job is queued or
    running (a meta refresh: no script needed)."""
    job = import_jobs.get_job(session, job_id)
    view = import_jobs.job_public(job, import_jobs.entries_of(session, job_id, REPORT_SHOWN))
    live = view.status in ("queued", "running")
    return page(request, "admin_job.html", {"job": view, "live": live}, ws)


@router.post("/admin/imports/{job_id}/resume")
async def resume_job(job_id: JobId, request: Request, ws: AdminViewer) -> Response:
    sessions = request.app.state.sessions
    then = f"/ui/admin/imports/{job_id}"
    out = await _act(request, ws, then, import_jobs.resume, sessions, job_id, ws.principal.actor)
    request.app.state.import_runner.wake()
    return out


# ---------------------------------------------------------------- firms
@router.get("/admin/firms")
def firms_page(
    request: Request,
    ws: AdminViewer,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    deleted: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Find a firm by name or id to delete it."""
    query = (q or "").strip()
    rows, total = store.list_companies(session, 0, 50, query or None)
    if query:
        try:
            exact = store.get_company(session, query)
        except ServiceError:
            exact = None
        if exact is not None and all(r.id != query for r, _ in rows):
            rows, total = [exact, *rows], total + 1
    ctx = {"rows": rows, "total": total, "q": query, "deleted": deleted}
    return page(request, "admin_firms.html", ctx, ws)


@router.get("/admin/firms/{company_id}/delete")
def confirm_delete(
    company_id: str, request: Request, ws: AdminViewer, session: SessionDep
) -> Response:
    row, version = store.get_company(session, company_id)
    return page(request, "admin_delete.html", {"row": row, "v": version}, ws)


@router.post("/admin/firms/{company_id}/delete")
async def delete_firm(
    company_id: str, request: Request, ws: AdminViewer, holder: HolderDep
) -> Response:
    """The same erasure as ``DELETE /companies/{id}``."""
    then = f"/ui/admin/firms?deleted={company_id}"
    return await _act(request, ws, then, erase_company, holder, company_id, ws.principal.actor)
