"""A company's interest in a scenario (``/scenarios/{id}/interest``): its own record, set
and withdrawn by the firm's key, read by recruiters; never a feedback stage or a label."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from .. import store
from ..auth import CompanyKey, Staff
from ..db import writing
from ..deps import SessionDep
from ..errors import Forbidden
from ..models import InterestRow
from ..schemas import InterestCreate, InterestPublic, InterestsPublic

router = APIRouter(prefix="/scenarios/{scenario_id}/interest", tags=["interest"])


def interest_public(r: InterestRow) -> InterestPublic:
    return InterestPublic(
        scenario_id=r.scenario_id,
        company_id=r.company_id,
        note=r.note,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _own(who: CompanyKey) -> str:
    if not who.company_id:
        raise Forbidden("this company key speaks for no firm")
    return who.company_id


@router.post("", response_model=InterestPublic, status_code=status.HTTP_201_CREATED)
def say_interested(
    scenario_id: str, body: InterestCreate, who: CompanyKey, session: SessionDep
) -> InterestPublic:
    """The key's own firm says it is interested in an open scenario (again: the note and
    time change). Recruiters see it on the scenario page and the board; it sets no stage."""
    with writing(session):
        row = store.set_interest(session, scenario_id, _own(who), body.note, who.actor)
        out = interest_public(row)
    return out


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def withdraw(scenario_id: str, who: CompanyKey, session: SessionDep) -> Response:
    """Withdraw the firm's interest (204 also when there was none)."""
    with writing(session):
        store.withdraw_interest(session, scenario_id, _own(who), who.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=InterestsPublic)
def interested_firms(scenario_id: str, _: Staff, session: SessionDep) -> InterestsPublic:
    """The firms that said they are interested in this scenario, newest first."""
    store.get_scenario_row(session, scenario_id)
    rows = [interest_public(r) for r in store.interest_in(session, scenario_id)]
    return InterestsPublic(data=rows, count=len(rows))
