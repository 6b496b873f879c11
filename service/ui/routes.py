"""The web UI's pages: thin adapters over the same store and engine calls as the JSON API.

Every page needs a signed-in browser session (``websession``); forms and htmx requests carry
the session's CSRF token. Errors reach ``error_page`` through the app's one error mapping.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.constraints import Filters, hard_failures
from matcher.normalise import normalise
from matcher.types import Company, Match

from .. import auth, imports, store
from ..db import transaction
from ..deps import HolderDep, SessionDep, SettingsDep
from ..errors import Conflict, Forbidden, NotFound, ServiceError, Unauthorized
from ..models import BatchRunRow, CompanyRow, ScenarioRow, SnapshotEntryRow
from ..nightly import latest_rows
from ..routes.batch import RunRef, find_run, start_in_background
from ..routes.common import filters_of, filters_resolved, ranked
from ..routes.companies import save_profile
from ..routes.feedback import actor_names
from ..routes.scenarios import export_matches
from ..schemas import (
    CompanyCreate,
    CompanyUpdate,
    ControlCreate,
    FeedbackCreate,
    SearchCreate,
    SearchFilters,
)
from . import views
from .i18n import DEFAULT_LANG, LANGS, problem, translator
from .websession import COOKIE, LANG_COOKIE, WebSession, close_session, find_session, open_session

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/ui", include_in_schema=False)

SIGNIN_COOKIE = "matcher_signin"
STAGES = ("shortlisted", "contacted", "visited", "signed", "rejected")
CHAINS = ("upstream", "midstream", "downstream", "service")
TOP_K_CHOICES = (10, 20, 50)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
FILTER_FIELDS = {  # form field -> SearchFilters field
    "industry": "industry",
    "city": "city",
    "min_capital": "min_capital_wan",
    "space_min": "space_min_m2",
    "space_max": "space_max_m2",
    "chain": "chain_position",
    "cert": "certifications",
}
COMPANY_FIELDS = tuple(sorted(imports.FIELDS - {"id"}))  # the portal form = an import row
LIST_FIELDS = imports.LISTS


# ------------------------------------------------------------------ rendering and sessions
def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    viewer: WebSession | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with the viewer, language and CSRF token, plus security headers."""
    lang = lang_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else "",
            "here": here,
            "here_q": quote(here, safe=""),
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status: int, message: str) -> Response:
    """How the app's error mapping answers a UI request: sign-in for 401, else a page."""
    if status == 401:
        target = "/ui/signin?next=" + quote(views.safe_next(request.url.path), safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    t = translator(lang_of(request))
    shown = t("error.403") if status == 403 and not message else message
    viewer = getattr(request.state, "web_session", None)
    return page(request, "error.html", {"status": status, "message": shown}, viewer, status)


def web_session(request: Request) -> WebSession:
    token = request.cookies.get(COOKIE, "")
    with request.app.state.sessions() as s:
        found = find_session(s, token) if token else None
    if found is None:
        raise Unauthorized("sign in")
    request.state.web_session = found
    auth.limit_rate(request, found.principal)
    return found


def require(*roles: str) -> Callable[..., WebSession]:
    def dependency(ws: Annotated[WebSession, Depends(web_session)]) -> WebSession:
        if ws.principal.role not in roles:
            raise Forbidden("")
        return ws

    return dependency


AnyViewer = Annotated[WebSession, Depends(require(*auth.ROLES))]
StaffViewer = Annotated[WebSession, Depends(require(*auth.STAFF))]
CompanyViewer = Annotated[WebSession, Depends(require("company"))]
AdminViewer = Annotated[WebSession, Depends(require("admin"))]


async def form_with_csrf(request: Request, ws: WebSession) -> dict[str, str]:
    """The posted form, after checking its CSRF token (form field or htmx header)."""
    form = await request.form()
    sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf") or "")
    if not secrets.compare_digest(sent.encode(), ws.csrf.encode()):
        raise Forbidden("the form's security token is missing or stale: reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def home_of(role: str) -> str:
    """Where a role starts: a company at its portal, staff at the catalogue."""
    return "/ui/portal" if role == "company" else "/ui/catalogue"


# ------------------------------------------------------------------ sign in and out
@router.get("")
def home(request: Request) -> Response:
    try:
        ws = web_session(request)
    except Unauthorized:
        return RedirectResponse("/ui/signin", status_code=303)
    return RedirectResponse(home_of(ws.principal.role), status_code=303)


def _signin_page(
    request: Request, next_: str, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    insecure = (
        request.app.state.settings.cookie_secure
        and request.url.scheme == "http"
        and request.url.hostname not in ("localhost", "127.0.0.1", "::1")
    )
    response = page(
        request,
        "signin.html",
        {"signin_token": token, "next": next_, "error": error, "insecure": insecure},
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE, token, max_age=1800, httponly=True, samesite="strict", path="/ui"
    )
    return response


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    return _signin_page(request, views.safe_next(next))


@router.post("/signin")
async def signin(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    t = translator(lang_of(request))
    next_ = views.safe_next(str(form.get("next") or ""))
    sent = str(form.get("signin_token") or "")
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _signin_page(request, next_, t("signin.expired"), 403)
    key = str(form.get("key") or "").strip()
    if not key:
        return _signin_page(request, next_, t("signin.empty"), 422)

    def check() -> tuple[str, str] | None:
        with transaction(request.app.state.sessions) as s:
            principal = auth.lookup(s, key[:200])
            if principal is None:
                return None
            token, _csrf = open_session(s, principal.key_id, settings.session_hours)
            store.audit(s, principal.actor, "signin", "web_session", None)
            return token, principal.role

    opened = await run_in_threadpool(check)
    if opened is None:
        return _signin_page(request, next_, t("signin.bad"), 401)
    token, role = opened
    target = next_ if next_ != "/ui" else home_of(role)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/ui")
    return response


@router.post("/signout")
async def signout(request: Request, ws: AnyViewer) -> Response:
    await form_with_csrf(request, ws)

    def close() -> None:
        with transaction(request.app.state.sessions) as s:
            close_session(s, request.cookies.get(COOKIE, ""))
            store.audit(s, ws.principal.actor, "signout", "web_session", None)

    await run_in_threadpool(close)
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:  # noqa: A002
    if lang not in LANGS:
        raise NotFound(f"no language {lang!r}; use one of {', '.join(LANGS)}")
    response = RedirectResponse(views.safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


# ------------------------------------------------------------------ catalogue
def _text_of(row: ScenarioRow) -> str:
    d = row.data
    parts = [row.id, d.get("title_zh", ""), d.get("title_en", ""), d.get("description_zh", "")]
    parts += [d.get("description_en", ""), d.get("park") or "", " ".join(d.get("keywords", []))]
    return normalise(" ".join(p for p in parts if p)).lower()


@router.get("/catalogue")
def catalogue(
    request: Request, ws: AnyViewer, session: SessionDep, q: str | None = None
) -> Response:
    """The composites with their opportunities; ``q`` keeps those whose text contains it."""
    query = normalise((q or "").strip()[:100]).lower()
    rows = store.scenario_rows(session, include_retired=False)
    kids: dict[str, list[ScenarioRow]] = {}
    for r in rows:
        if r.kind == "opportunity" and r.parent_id:
            kids.setdefault(r.parent_id, []).append(r)
    groups = []
    for c in (r for r in rows if r.kind == "composite"):
        found = kids.get(c.id, [])
        if query and query not in _text_of(c):
            found = [r for r in found if query in _text_of(r)]
            if not found:
                continue
        groups.append((c, found))
    counts = {"composites": len(groups), "opportunities": sum(len(k) for _, k in groups)}
    return page(request, "catalogue.html", {"groups": groups, "q": q or "", "counts": counts}, ws)


# ------------------------------------------------------------------ scenario page
def parse_filters(params: dict[str, str], lang: str) -> tuple[Filters, dict[str, str]]:
    """The filter form's values as engine filters, or the problems keyed by form field."""
    values: dict[str, Any] = {}
    for form_name, model_name in FILTER_FIELDS.items():
        raw = (params.get(form_name) or "").strip()
        if model_name == "certifications":
            values[model_name] = views.split_list(raw)
        elif raw:
            values[model_name] = raw
    try:
        return filters_of(SearchFilters.model_validate(values)), {}
    except ValidationError as exc:
        back = {m: f for f, m in FILTER_FIELDS.items()}
        return Filters(), views.field_errors(exc, lang, FILTER_FIELDS, back)
    except ServiceError as exc:
        return Filters(), {"space_min": exc.message}


def _top_k(raw: str | None, default: int = 20) -> int:
    return int(raw) if raw and raw.isdigit() and int(raw) in TOP_K_CHOICES else default


def _profiles(session: Session, ids: list[str]) -> dict[str, Company]:
    out = {}
    for cid in ids:
        try:
            row, version = store.get_company(session, cid)
        except NotFound:
            continue
        out[cid] = store.company_of(row, version)
    return out


def cards(
    matches: list[Match], session: Session, lang: str, scenario: ScenarioRow | None = None
) -> list[dict[str, Any]]:
    """What each result card shows: bars, highlighted profile, failed constraints."""
    profiles = _profiles(session, [m.company_id for m in matches])
    domain = store.scenario_of(scenario) if scenario is not None else None
    out = []
    for m in matches:
        company = profiles.get(m.company_id)
        why_not = list(m.explanation.why_not)
        if lang != "zh" and domain is not None and company is not None:
            why_not = hard_failures(domain, company, lang)
        text = company.text() if company else ""
        out.append(
            {
                "m": m,
                "company": company,
                "bars": views.bars(m.parts, m.contributions),
                "profile": views.highlight(text, m.explanation.matched_terms),
                "why_not": why_not,
            }
        )
    return out


def _names(session: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(CompanyRow.id, CompanyRow.name).where(CompanyRow.id.in_(ids)))
    return {cid: name for cid, name in rows}


@router.get("/scenarios/{scenario_id}")
def scenario_page(
    scenario_id: str,
    request: Request,
    ws: StaffViewer,
    session: SessionDep,
    holder: HolderDep,
) -> Response:
    """Ranked firms with filters, score bars, highlighted evidence, feedback and exports."""
    row = store.get_scenario_row(session, scenario_id)
    params = dict(request.query_params)
    filters, errors = parse_filters(params, lang_of(request))
    top_k = _top_k(params.get("top_k"))
    matches: list[Match] = []
    retired = row.status == "retired"
    if not errors and not retired:
        matches = ranked(holder, session, scenario_id, top_k, 1, filters)
    lang = lang_of(request)
    found = cards(matches, session, lang, row)
    query = urlencode({k: v for k, v in params.items() if k in FILTER_FIELDS and v})
    parent = session.get(ScenarioRow, row.parent_id) if row.parent_id else None
    controls = store.control_rows(session, scenario_id)
    latest = store.latest_feedback(session, scenario_id, [m.company_id for m in matches])
    return page(
        request,
        "scenario.html",
        {
            "city_resolved": None if errors else filters_resolved(filters).city,
            "row": row,
            "parent": parent,
            "cards": found,
            "params": params,
            "errors": errors,
            "top_k": top_k,
            "top_k_choices": TOP_K_CHOICES,
            "chains": CHAINS,
            "stages": STAGES,
            "feedback": latest,
            "actor_names": actor_names(session, [r.actor for r in latest.values()]),
            "export_query": query,
            "controls": controls,
            "names": _names(session, [c.company_id for c in controls]),
            "retired": retired,
        },
        ws,
        422 if errors else 200,
    )


async def _staff_form(request: Request, ws: StaffViewer) -> WebSession:
    """A staff session whose posted form carries its CSRF token."""
    await form_with_csrf(request, ws)
    return ws


StaffForm = Annotated[WebSession, Depends(_staff_form)]


@router.post("/scenarios/{scenario_id}/export.{fmt}")
def export(
    scenario_id: str,
    fmt: str,
    request: Request,
    ws: StaffForm,
    session: SessionDep,
    holder: HolderDep,
) -> Response:
    """The filtered ranking (filters in the query) as CSV or XLSX: the API's export, with the
    session's actor. A POST with the form token, since it writes a snapshot and an audit row
    (a GET, a cross-site link could start it); a GET answers 405."""
    if fmt not in ("csv", "xlsx"):
        raise NotFound(f"no export format {fmt!r}; use csv or xlsx")
    filters, errors = parse_filters(dict(request.query_params), lang_of(request))
    if errors:
        raise Conflict("; ".join(f"{k}: {v}" for k, v in errors.items()))
    top_k = _top_k(request.query_params.get("top_k"), 50)
    return export_matches(scenario_id, ws.principal.actor, session, holder, top_k, filters, fmt)


@router.post("/feedback")
async def feedback(request: Request, ws: StaffViewer) -> Response:
    """Record a follow-up stage for one firm; answers with the firm's updated feedback block."""
    form = await form_with_csrf(request, ws)
    data = {k: form.get(k) for k in ("scenario_id", "company_id", "stage")}
    note = (form.get("note") or "").strip()
    error = None
    try:
        body = FeedbackCreate.model_validate({**data, "note": note or None})
    except ValidationError as exc:
        body, error = None, "; ".join(problem(e, lang_of(request)) for e in exc.errors()[:2])

    def save() -> dict[str, Any]:
        with transaction(request.app.state.sessions) as s:
            if body is not None:
                store.add_feedback(
                    s, body.scenario_id, body.company_id, body.stage, body.note, ws.principal.actor
                )
            sid, cid = str(data["scenario_id"] or ""), str(data["company_id"] or "")
            latest = store.latest_feedback(s, sid, [cid]).get(cid)
            names = actor_names(s, [latest.actor] if latest else [])
            return {"sid": sid, "cid": cid, "latest": latest, "names": names}

    state = await run_in_threadpool(save)
    if not request.headers.get("HX-Request"):  # a plain form post (no JavaScript): back
        return RedirectResponse(views.safe_next(form.get("next")), status_code=303)
    return feedback_block(request, ws, **state, error=error)


def feedback_block(
    request: Request,
    ws: WebSession,
    sid: str,
    cid: str,
    latest: Any,
    error: str | None,
    names: dict[str, str] | None = None,
) -> Response:
    """One firm's follow-up block (``_feedback.html``), as htmx swaps it in after a post."""
    context = {"sid": sid, "cid": cid, "latest": latest, "stages": STAGES}
    context["actor_names"] = names or {}
    context.update(error=error, saved=error is None)
    return page(request, "_feedback.html", context, ws, 422 if error else 200)


@router.post("/controls")
async def control(request: Request, ws: StaffViewer) -> Response:
    """Pin, exclude (the note is the reason) or "more like this" a firm, or undo one; the
    ranking changes, so an htmx request reloads the page and a plain post redirects back."""
    form = await form_with_csrf(request, ws)
    sid, cid = form.get("scenario_id", ""), form.get("company_id", "")
    action, undo = form.get("action", ""), form.get("undo") == "1"
    lang = lang_of(request)
    error = None
    body = None
    try:
        body = ControlCreate.model_validate(
            {"company_id": cid, "action": action, "reason": form.get("note", "").strip() or None}
        )
    except ValidationError as exc:
        error = "; ".join(problem(e, lang) for e in exc.errors()[:2])

    def save() -> None:
        assert body is not None
        with transaction(request.app.state.sessions) as s:
            if undo:
                store.remove_control(s, sid, body.company_id, body.action, ws.principal.actor)
            else:
                store.set_control(
                    s, sid, body.company_id, body.action, body.reason, ws.principal.actor
                )

    if error is None:
        try:
            await run_in_threadpool(save)
        except ServiceError as exc:
            if not request.headers.get("HX-Request"):
                raise
            error = translator(lang)("ctl.reason") if exc.field == "reason" else exc.message
    if error is None:
        back = views.safe_next(form.get("next"))
        if request.headers.get("HX-Request"):
            return Response(status_code=200, headers={"HX-Location": back})
        return RedirectResponse(back, status_code=303)
    with request.app.state.sessions() as s:
        latest = store.latest_feedback(s, sid, [cid]).get(cid)
        names = actor_names(s, [latest.actor] if latest else [])
    return feedback_block(request, ws, sid, cid, latest, error, names)


# ------------------------------------------------------------------ free-text search
@router.get("/search")
def search(request: Request, ws: StaffViewer, session: SessionDep, holder: HolderDep) -> Response:
    params = dict(request.query_params)
    text = (params.get("q") or "").strip()
    filters, errors = parse_filters(params, lang_of(request))
    top_k = _top_k(params.get("top_k"))
    found: list[dict[str, Any]] = []
    if text and not errors:
        try:
            body = SearchCreate.model_validate({"text": text, "top_k": top_k})
        except ValidationError as exc:
            errors = {"q": problem(exc.errors()[0], lang_of(request))}
        else:
            with holder.reading() as engine:
                matches = engine.match_text(body.text, top_k, filters)
            found = cards(list(matches), session, lang_of(request))
    return page(
        request,
        "search.html",
        {
            "cards": found,
            "params": params,
            "q": text,
            "errors": errors,
            "top_k": top_k,
            "top_k_choices": TOP_K_CHOICES,
            "chains": CHAINS,
        },
        ws,
        422 if errors else 200,
    )


# ------------------------------------------------------------------ company portal
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


# ------------------------------------------------------------------ nightly runs
def _run_view(r: BatchRunRow) -> dict[str, Any]:
    stages = r.stages or {}
    seconds = {k: v.get("seconds") for k, v in stages.items() if isinstance(v, dict)}
    duration = None
    if r.finished_at is not None:
        duration = (r.finished_at - r.started_at).total_seconds()
    diff = r.diff or {}
    return {"r": r, "seconds": seconds, "duration": duration, "diff": diff}


@router.get("/runs")
def runs(request: Request, ws: StaffViewer, session: SessionDep) -> Response:
    rows = [_run_view(r) for r in latest_rows(session, 20)]
    running = any(v["r"].status == "running" for v in rows)
    return page(request, "runs.html", {"runs": rows, "running": running}, ws)


@router.post("/runs")
async def start_run(
    request: Request, ws: AdminViewer, holder: HolderDep, settings: SettingsDep
) -> Response:
    await form_with_csrf(request, ws)
    await run_in_threadpool(start_in_background, holder, settings, "local", ws.principal.actor)
    return RedirectResponse("/ui/runs", status_code=303)


@router.get("/runs/{run_id}")
def run_page(run_id: RunRef, request: Request, ws: StaffViewer, session: SessionDep) -> Response:
    """One run (by number or the run id ``matcher nightly`` prints): stage timings, who entered
    or left each scenario's top N and why, heatmap."""
    row = find_run(session, run_id)
    titles = {
        r.id: r.data.get("title_zh" if lang_of(request) == "zh" else "title_en")
        or r.data.get("title_zh", r.id)
        for r in store.scenario_rows(session)
    }
    heat = None
    if row.snapshot_id is not None:
        entries = list(
            session.scalars(
                select(SnapshotEntryRow).where(SnapshotEntryRow.snapshot_id == row.snapshot_id)
            )
        )
        ids = sorted({e.company_id for e in entries})
        names = _names(session, ids)
        heat = views.heatmap(entries, titles, names)
    return page(
        request,
        "run.html",
        {"v": _run_view(row), "titles": titles, "heat": heat},
        ws,
    )


def now_text(t: dt.datetime | None) -> str:
    """A timestamp as the pages show it (UTC, to the minute)."""
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["when"] = now_text
