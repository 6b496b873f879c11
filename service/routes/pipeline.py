"""The follow-up board (``GET /pipeline``): the latest stage of every pair with feedback, in
columns by stage, interested firms, stale flags and funnels; what the UI's board shows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from .. import pipeline
from ..auth import Staff
from ..deps import SessionDep, SettingsDep
from ..schemas import (
    CompositeFunnelPublic,
    PipelineCardPublic,
    PipelineInterestPublic,
    PipelinePublic,
)
from .feedback import actor_names

router = APIRouter(prefix="/pipeline", tags=["feedback"])


def board_public(
    board: pipeline.Board, names: dict[str, str]
) -> dict[str, list[PipelineCardPublic]]:
    return {
        stage: [
            PipelineCardPublic(
                scenario_id=c.entry.scenario_id,
                scenario_title=c.scenario_title,
                company_id=c.entry.company_id,
                company_name=c.company_name,
                stage=c.entry.stage,
                furthest=c.entry.furthest,
                at=c.entry.at,
                actor=c.entry.actor,
                actor_name=names.get(c.entry.actor),
                note=c.entry.note,
                entries=c.entry.entries,
                days=c.days,
                stale=c.stale,
                interested=c.interest is not None,
                interest_note=c.interest or None,
            )
            for c in cards
        ]
        for stage, cards in board.columns.items()
    }


@router.get("", response_model=PipelinePublic)
def get_pipeline(
    _: Staff,
    session: SessionDep,
    settings: SettingsDep,
    scenario_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64, description="key:N")] = None,
    stale_only: bool = False,
) -> PipelinePublic:
    """The board of one scenario or of all: each pair's latest stage (history under
    ``GET /feedback``), "no stage change for ``stale_days``" flagged, the firms that said
    they are interested and have no stage yet (never a learning label), funnels."""
    now = dt.datetime.now(dt.UTC)
    board = pipeline.board(session, scenario_id, actor, settings.stale_days, now, stale_only)
    names = actor_names(session, board.actors)
    return PipelinePublic(
        scenario_id=scenario_id,
        stale_days=settings.stale_days,
        columns=board_public(board, names),
        interested=[
            PipelineInterestPublic(
                scenario_id=i.scenario_id,
                scenario_title=i.scenario_title,
                company_id=i.company_id,
                company_name=i.company_name,
                note=i.note,
                at=i.at,
            )
            for i in board.interested
        ],
        funnel=board.funnel,
        by_composite=[
            CompositeFunnelPublic(
                composite_id=comp.id, title=str(comp.data.get("title_zh") or comp.id), funnel=f
            )
            for comp, f in board.by_composite
        ],
    )
