from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import store
from ..auth import Staff
from ..db import writing
from ..deps import SessionDep
from ..models import ApiKeyRow, FeedbackRow
from ..schemas import FeedbackCreate, FeedbackPublic, FeedbacksPublic

router = APIRouter(prefix="/feedback", tags=["feedback"])


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """The names of the keys behind ``key:N`` actors, revoked keys included (a key is never
    deleted); an actor whose key has no name, or that is no key (``cli``), is left out."""
    ids = sorted({int(a[4:]) for a in actors if a.startswith("key:") and a[4:].isdigit()})
    if not ids:
        return {}
    rows = session.execute(select(ApiKeyRow.id, ApiKeyRow.name).where(ApiKeyRow.id.in_(ids)))
    return {f"key:{key_id}": name for key_id, name in rows if name}


def feedback_public(r: FeedbackRow, names: Mapping[str, str]) -> FeedbackPublic:
    return FeedbackPublic(
        id=r.id,
        scenario_id=r.scenario_id,
        company_id=r.company_id,
        stage=r.stage,
        note=r.note,
        actor=r.actor,
        actor_name=names.get(r.actor),
        created_at=r.created_at,
    )


@router.post("", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED)
def give_feedback(body: FeedbackCreate, who: Staff, session: SessionDep) -> FeedbackPublic:
    """Record a pipeline stage for a scenario × firm pair (the nightly ranker learns from it)."""
    with writing(session):
        row = store.add_feedback(
            session, body.scenario_id, body.company_id, body.stage, body.note, who.actor
        )
        out = feedback_public(row, actor_names(session, [row.actor]))
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
    names = actor_names(session, [r.actor for r in rows])
    return FeedbacksPublic(data=[feedback_public(r, names) for r in rows], count=total)
