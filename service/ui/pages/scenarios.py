"""One scenario's page (its ranking with filters, feedback and controls), its export, and
the feedback and control posts made from it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from matcher.constraints import Filters
from matcher.errors import ScenarioClosedError
from matcher.reasons import Lang
from matcher.types import FEEDBACK_STAGES, Company, Match

from ... import store
from ...db import transaction
from ...deps import HolderDep, SessionDep, SettingsDep
from ...errors import Conflict, NotFound, ServiceError
from ...models import CompanyRow, InterestRow, ScenarioRow
from ...routes.common import filters_resolved, ranked
from ...routes.feedback import actor_names
from ...routes.scenarios import export_matches
from ...schemas import ControlCreate, FeedbackCreate, InterestCreate
from .. import views
from ..i18n import problem, translator
from ..websession import WebSession
from . import table
from .common import (
    PREFIX,
    AnyViewer,
    CompanyViewer,
    StaffViewer,
    form_with_csrf,
    lang_of,
    page,
)
from .results import (
    CHAINS,
    FILTER_FIELDS,
    TOP_K_CHOICES,
    cards,
    company_names,
    parse_filters,
    top_k_of,
)

router = APIRouter(prefix=PREFIX, include_in_schema=False)

STAGES = FEEDBACK_STAGES


def _ranking(
    holder: HolderDep, session: SessionDep, row: ScenarioRow, filters: Filters, limit: int
) -> tuple[list[Match], dict[str, Company], bool]:
    """The scenario's ranking up to ``limit`` with the firms' stored profiles (from the
    index), and whether matching is paused (a closed scenario)."""
    if row.status == "retired":
        return [], {}, False
    try:
        matches = ranked(holder, session, row.id, limit, 1, filters)
    except ScenarioClosedError:
        return [], {}, True
    with holder.reading() as engine:
        companies = {
            m.company_id: engine.companies_[m.company_id].company
            for m in matches
            if m.company_id in engine.companies_
        }
    return matches, companies, False


def link(params: Mapping[str, str], **changes: str | None) -> str:
    """This page's query string with ``changes`` applied (None drops a parameter)."""
    merged = {k: v for k, v in params.items() if v}
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = v
    return "?" + urlencode(merged) if merged else "?"


@router.get("/scenarios/{scenario_id}")
def scenario_page(
    scenario_id: str,
    request: Request,
    ws: AnyViewer,
    session: SessionDep,
    holder: HolderDep,
    settings: SettingsDep,
) -> Response:
    """Staff: ranked firms as a compact table (sorted on the server over the first
    ``table_rows``, paged), each row opening its card in place; filters, feedback, controls,
    interest, compare and exports. A company: the scenario's public text and its interest."""
    row = store.get_scenario_row(session, scenario_id)
    if not ws.principal.is_staff:
        return _public_page(request, ws, session, row)
    params = dict(request.query_params)
    lang = lang_of(request)
    filters, errors = parse_filters(params, lang)
    size = top_k_of(params.get("top_k"))
    matches: list[Match] = []
    companies: dict[str, Company] = {}
    paused = False
    if not errors:
        matches, companies, paused = _ranking(holder, session, row, filters, settings.table_rows)
    ids = [m.company_id for m in matches]
    latest = store.latest_feedback(session, scenario_id, ids)
    interest = {i.company_id: i for i in store.interest_in(session, scenario_id)}
    now = dt.datetime.now(dt.UTC)
    rows = table.rows_of(matches, companies, latest, interest, settings.stale_days, now)
    sort, descending = table.sort_of(params)
    shown, pages = table.paginate(table.sort_rows(rows, sort, descending), params.get("page"), size)
    details = {c["m"].company_id: c for c in cards([r.m for r in shown], session, lang)}
    query = urlencode({k: v for k, v in params.items() if k in FILTER_FIELDS and v})
    parent = session.get(ScenarioRow, row.parent_id) if row.parent_id else None
    controls = store.control_rows(session, scenario_id)
    interested = [i for i in interest.values()]
    names = company_names(
        session, [c.company_id for c in controls] + [i.company_id for i in interested]
    )
    return page(
        request,
        "scenario.html",
        {
            "city_resolved": None if errors else filters_resolved(filters).city,
            "row": row,
            "parent": parent,
            "rows": shown,
            "details": details,
            "pages": pages,
            "sort": sort,
            "descending": descending,
            "sorts": table.SORTS,
            "descending_first": table.DESCENDING_FIRST,
            "link": lambda **kw: link(params, **kw),
            "params": params,
            "errors": errors,
            "top_k": size,
            "top_k_choices": TOP_K_CHOICES,
            "chains": CHAINS,
            "stages": STAGES,
            "feedback": latest,
            "actor_names": actor_names(session, [r.actor for r in latest.values()]),
            "export_query": query,
            # every filtered row is exported, up to the limit; a ranking the table cut at
            # ``table_rows`` may hold more than the table shows
            "export_rows": len(rows) if len(rows) < settings.table_rows else None,
            "export_limit": settings.max_export_rows,
            "table_rows": settings.table_rows,
            "stale_days": settings.stale_days,
            "controls": controls,
            "interested": interested,
            "names": names,
            "retired": row.status == "retired",
            "paused": paused,
        },
        ws,
        422 if errors else 200,
    )


@router.get("/scenarios/{scenario_id}/compare")
def compare(
    scenario_id: str,
    request: Request,
    ws: StaffViewer,
    session: SessionDep,
    holder: HolderDep,
    settings: SettingsDep,
) -> Response:
    """Two to four of the scenario's ranked firms side by side: parts, matched terms,
    evidence, failed conditions and key facts (the ranking under the same filters)."""
    row = store.get_scenario_row(session, scenario_id)
    params = dict(request.query_params)
    lang = lang_of(request)
    chosen = list(dict.fromkeys(request.query_params.getlist("cid")))
    filters, errors = parse_filters(params, lang)
    t = translator(lang)
    problem_text = None
    if not 2 <= len(chosen) <= 4:
        problem_text = t("cmp.count", n=len(chosen))
    found: list[dict[str, Any]] = []
    if problem_text is None and not errors:
        matches, companies, _paused = _ranking(holder, session, row, filters, settings.table_rows)
        by_id = {m.company_id: m for m in matches}
        missing = [c for c in chosen if c not in by_id]
        if missing:
            problem_text = t("cmp.missing", ids="、".join(missing), n=settings.table_rows)
        else:
            picked = [by_id[c] for c in chosen]
            found = cards(picked, session, lang)
            latest = store.latest_feedback(session, scenario_id, chosen)
            interest = {i.company_id: i for i in store.interest_in(session, scenario_id)}
            for c in found:
                cid = c["m"].company_id
                c["latest"], c["interest"] = latest.get(cid), interest.get(cid)
    back = "/ui/scenarios/" + scenario_id + link({k: v for k, v in params.items() if k != "cid"})
    return page(
        request,
        "compare.html",
        {
            "row": row,
            "cards": found,
            "problem": problem_text or "; ".join(errors.values()),
            "back": back,
        },
        ws,
        422 if (problem_text or errors) else 200,
    )


def _public_page(
    request: Request,
    ws: WebSession,
    session: Session,
    row: ScenarioRow,
    error: str | None = None,
) -> Response:
    """A scenario as a company sees it: the published text (public fields only), a notice
    when it is closed or retired, and the firm's own interest mark."""
    if row.kind != "opportunity":
        raise NotFound(f"{row.id} is a composite scenario; open one of its opportunities")
    cid = ws.principal.company_id or ""
    registered = session.get(CompanyRow, cid) is not None
    context = {
        "row": row,
        "parent": session.get(ScenarioRow, row.parent_id) if row.parent_id else None,
        "registered": registered,
        "mine": session.get(InterestRow, (row.id, cid)) if registered else None,
        "notice": request.query_params.get("interest") if error is None else None,
        "error": error,
    }
    return page(request, "scenario_public.html", context, ws, 422 if error else 200)


@router.post("/scenarios/{scenario_id}/interest")
async def interest(scenario_id: str, request: Request, ws: CompanyViewer) -> Response:
    """The company marks (or updates, or withdraws) its interest in an open scenario; a
    plain form post that comes back to the scenario's page."""
    form = await form_with_csrf(request, ws)
    cid = ws.principal.company_id or ""
    withdraw = form.get("action") == "withdraw"
    try:
        body = InterestCreate.model_validate({"note": (form.get("note") or "").strip() or None})
    except ValidationError as exc:
        message = "; ".join(problem(e, lang_of(request)) for e in exc.errors()[:2])
        with request.app.state.sessions() as s:
            return _public_page(request, ws, s, store.get_scenario_row(s, scenario_id), message)

    def save() -> None:
        with transaction(request.app.state.sessions) as s:
            if withdraw:
                store.withdraw_interest(s, scenario_id, cid, ws.principal.actor)
            else:
                store.set_interest(s, scenario_id, cid, body.note, ws.principal.actor)

    try:
        await run_in_threadpool(save)
    except ServiceError as exc:  # closed meanwhile, or the firm not registered yet
        with request.app.state.sessions() as s:
            row = store.get_scenario_row(s, scenario_id)
            return _public_page(request, ws, s, row, exc.message)
    done = "withdrawn" if withdraw else "saved"
    return RedirectResponse(f"{PREFIX}/scenarios/{scenario_id}?interest={done}", status_code=303)


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
    limit = request.app.state.settings.max_export_rows  # every filtered row, up to this
    lang: Lang = "en" if lang_of(request) == "en" else "zh"
    return export_matches(
        scenario_id, ws.principal.actor, session, holder, limit, filters, fmt, lang
    )


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
