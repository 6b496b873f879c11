"""The follow-up board: one per scenario and one across scenarios. Cards move by posting a
stage to ``/ui/feedback`` (a feedback entry with note and date; history kept)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from matcher.types import FEEDBACK_STAGES

from ... import pipeline, store
from ...deps import SessionDep, SettingsDep
from ...models import ScenarioRow
from ...routes.feedback import actor_names
from .common import PREFIX, StaffViewer, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _board_page(
    request: Request,
    ws: StaffViewer,
    session: SessionDep,
    settings: SettingsDep,
    scenario_id: str | None,
) -> Response:
    params = request.query_params
    actor = params.get("actor") or None
    stale_only = params.get("stale") == "1"
    now = dt.datetime.now(dt.UTC)
    board = pipeline.board(session, scenario_id, actor, settings.stale_days, now, stale_only)
    row = store.get_scenario_row(session, scenario_id) if scenario_id else None
    parent = session.get(ScenarioRow, row.parent_id) if row is not None and row.parent_id else None
    top = max([*board.funnel.values(), 1])
    return page(
        request,
        "pipeline.html",
        {
            "board": board,
            "row": row,
            "parent": parent,
            "stages": FEEDBACK_STAGES,
            "actor": actor,
            "stale_only": stale_only,
            "stale_days": settings.stale_days,
            "actor_names": actor_names(session, board.actors),
            "top": top,
            "scenarios": store.scenario_rows(session, include_retired=False),
        },
        ws,
    )


@router.get("/pipeline")
def board_all(
    request: Request, ws: StaffViewer, session: SessionDep, settings: SettingsDep
) -> Response:
    """Every scenario's pairs by stage, with a funnel per composite scenario; the filter
    form's ``scope`` (a scenario id) leads to that scenario's board."""
    scope = request.query_params.get("scope") or ""
    if scope:
        store.get_scenario_row(session, scope)  # 404 for an unknown id
        rest = {k: v for k, v in request.query_params.items() if k != "scope" and v}
        query = ("?" + urlencode(rest)) if rest else ""
        return RedirectResponse(f"{PREFIX}/pipeline/{quote(scope, safe='')}{query}", 303)
    return _board_page(request, ws, session, settings, None)


@router.get("/pipeline/{scenario_id}")
def board_one(
    scenario_id: str,
    request: Request,
    ws: StaffViewer,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One scenario's pairs by stage, with its funnel."""
    return _board_page(request, ws, session, settings, scenario_id)
