from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from .. import store
from ..auth import Staff
from ..db import writing
from ..deps import SessionDep
from ..models import FeedbackRow
from ..schemas import FeedbackCreate, FeedbackPublic, FeedbacksPublic

router = APIRouter(prefix="/feedback", tags=["feedback"])


def feedback_public(r: FeedbackRow) -> FeedbackPublic:
    return FeedbackPublic(
        id=r.id,
        scenario_id=r.scenario_id,
        company_id=r.company_id,
        stage=r.stage,
        note=r.note,
        actor=r.actor,
        created_at=r.created_at,
    )


@router.post("", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED)
def give_feedback(body: FeedbackCreate, who: Staff, session: SessionDep) -> FeedbackPublic:
    """Record a pipeline stage for a scenario × firm pair (the nightly ranker learns from it)."""
    with writing(session):
        row = store.add_feedback(
            session, body.scenario_id, body.company_id, body.stage, body.note, who.actor
        )
        out = feedback_public(row)
    return out


@router.get("", response_model=FeedbacksPublic)
def feedback_history(
    _: Staff,
    session: SessionDep,
    scenario_id: Annotated[str | None, Query(max_length=64)] = None,
    company_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FeedbacksPublic:
    """Feedback history, oldest first; filter by scenario, firm or both (one pair)."""
    rows, total = store.feedback_history(session, scenario_id, company_id, offset, limit)
    return FeedbacksPublic(data=[feedback_public(r) for r in rows], count=total)
