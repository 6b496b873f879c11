"""The company portal: a firm edits its own profile (an import row as a form) and sees the
scenarios that suit it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from matcher.types import Company

from ... import imports, store
from ...deps import HolderDep, SessionDep
from ...errors import NotFound, ServiceError
from ...models import CompanyRow
from ...routes.companies import save_profile
from ...schemas import CompanyCreate, CompanyUpdate
from .. import views
from ..websession import WebSession
from .common import PREFIX, CompanyViewer, form_with_csrf, lang_of, page
from .results import CHAINS, cards

router = APIRouter(prefix=PREFIX, include_in_schema=False)

COMPANY_FIELDS = tuple(sorted(imports.FIELDS - {"id"}))  # the portal form = an import row
LIST_FIELDS = imports.LISTS


def _form_of(company: Company | None, contact: dict[str, str] | None) -> dict[str, str]:
    if company is None:
        return {}
    values: dict[str, str] = {}
    for name in COMPANY_FIELDS:
        if name.startswith("contact_"):
            values[name] = (contact or {}).get(name.removeprefix("contact_"), "")
            continue
        v = getattr(company, name)
        if name in LIST_FIELDS:
            values[name] = "、".join(v) if name != "industry_codes" else ", ".join(v)
        elif name == "listed":
            values[name] = "" if v is None else ("yes" if v else "no")
        elif isinstance(v, float):
            values[name] = f"{v:g}"
        else:
            values[name] = "" if v is None else str(v)
    return values


def _model_input(form: dict[str, str], stored: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields of the form, an emptied input as ``None`` (it clears the stored value).
    With ``stored`` (the form as the stored profile fills it), only the inputs the firm
    changed: a value kept as it was is not validated again (an older, now invalid, phone
    number must not block saving another field)."""
    data: dict[str, Any] = {}
    for name in COMPANY_FIELDS:
        raw = (form.get(name) or "").strip()
        if name.startswith("contact_"):
            continue
        if stored is not None and raw == (stored.get(name) or "").strip():
            continue
        if name in LIST_FIELDS:
            data[name] = views.split_list(raw)
        elif name == "listed":
            data[name] = {"yes": True, "no": False}.get(raw)
        elif name in ("name", "description"):
            data[name] = form.get(name) or ""
        else:
            data[name] = raw or None
    contact = {k: (form.get(f"contact_{k}") or "").strip() for k in ("name", "phone", "email")}
    if stored is not None:
        contact = {
            k: v for k, v in contact.items() if v != (stored.get(f"contact_{k}") or "").strip()
        }
    if contact:
        data["contact"] = contact
    return data


def _own_profile(session: Session, company_id: str) -> tuple[Company, dict[str, str]] | None:
    try:
        row, version = store.get_company(session, company_id)
    except NotFound:
        return None
    return store.company_of(row, version), version.contact or {}


def _portal(
    request: Request,
    ws: WebSession,
    session: SessionDep,
    holder: HolderDep,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    saved: str | None = None,
) -> Response:
    cid = ws.principal.company_id or ""
    exists = session.get(CompanyRow, cid) is not None
    suggestions: list[dict[str, Any]] = []
    if exists and not errors:
        with holder.reading() as engine:
            matches = list(engine.suggest(cid, 5)) if cid in engine.companies_ else []
        lang = lang_of(request)
        by_id = {r.id: r for r in store.scenario_rows(session, include_retired=False)}
        suggestions = [
            {**c, "scenario": by_id.get(c["m"].scenario_id)} for c in cards(matches, session, lang)
        ]
    return page(
        request,
        "portal.html",
        {
            "values": values,
            "errors": errors,
            "exists": exists,
            "company_id": cid,
            "suggestions": suggestions,
            "chains": CHAINS,
            "saved": saved,
        },
        ws,
        status,
    )


@router.get("/portal")
def portal(
    request: Request,
    ws: CompanyViewer,
    session: SessionDep,
    holder: HolderDep,
    saved: str | None = None,
) -> Response:
    own = _own_profile(session, ws.principal.company_id or "")
    values = _form_of(*own) if own else {}
    return _portal(request, ws, session, holder, values, {}, saved=saved)


@router.post("/portal")
async def portal_save(
    request: Request, ws: CompanyViewer, session: SessionDep, holder: HolderDep
) -> Response:
    """Validate the form field by field; store nothing unless all of it is valid."""
    form = await form_with_csrf(request, ws)
    values = {k: form.get(k, "") for k in COMPANY_FIELDS}
    cid = ws.principal.company_id or ""
    exists = session.get(CompanyRow, cid) is not None
    lang = lang_of(request)
    model = CompanyUpdate if exists else CompanyCreate
    own = _own_profile(session, cid) if exists else None
    try:
        body = model.model_validate(_model_input(form, _form_of(*own) if own else None))
    except ValidationError as exc:
        errors = views.field_errors(exc, lang, COMPANY_FIELDS)
        return _portal(request, ws, session, holder, values, errors, 422)
    try:
        out = await run_in_threadpool(
            save_profile, holder, ws.principal, cid, body.patch(), "update" if exists else "create"
        )
    except ServiceError as exc:
        errors = {exc.field if exc.field in COMPANY_FIELDS else "_form": exc.message}
        return _portal(request, ws, session, holder, values, errors, exc.status)
    return RedirectResponse(f"/ui/portal?saved={out.company.version}", status_code=303)
