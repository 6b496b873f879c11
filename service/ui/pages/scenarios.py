"""One scenario's page (its ranking with filters, feedback and controls), its export, and
the feedback and control posts made from it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from matcher.errors import ScenarioClosedError
from matcher.types import FEEDBACK_STAGES, Match

from ... import store
from ...db import transaction
from ...deps import HolderDep, SessionDep
from ...errors import Conflict, NotFound, ServiceError
from ...models import ScenarioRow
from ...routes.common import filters_resolved, ranked
from ...routes.feedback import actor_names
from ...routes.scenarios import export_matches
from ...schemas import ControlCreate, FeedbackCreate
from .. import views
from ..i18n import problem, translator
from ..websession import WebSession
from .common import PREFIX, StaffViewer, form_with_csrf, lang_of, page
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
    top_k = top_k_of(params.get("top_k"))
    matches: list[Match] = []
    retired = row.status == "retired"
    paused = False  # closed: its page opens with a notice, matching stays off until reopened
    if not errors and not retired:
        try:
            matches = ranked(holder, session, scenario_id, top_k, 1, filters)
        except ScenarioClosedError:
            paused = True
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
            "names": company_names(session, [c.company_id for c in controls]),
            "retired": retired,
            "paused": paused,
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
    top_k = top_k_of(request.query_params.get("top_k"), 50)
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
