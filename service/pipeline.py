"""The follow-up board: every scenario × firm pair with feedback, in columns by its latest
stage, with the firms that said they are interested, stale flags and funnels.

The same data as ``/feedback`` (its latest entry per pair) and ``company_interest``; moving a
card records a feedback entry through ``store.add_feedback``, so history is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.types import FEEDBACK_STAGES

from . import store
from .models import CompanyRow, ScenarioRow

OPEN_STAGES = ("shortlisted", "contacted", "visited")  # a pair here can go stale


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)  # SQLite drops the zone


@dataclass(frozen=True)
class BoardCard:
    entry: store.PipelineEntry
    company_name: str
    scenario_title: str
    stale: bool  # an open stage unchanged for the stale period
    days: int  # days since the latest stage
    interest: str | None  # the firm's note when it said it is interested ("" without a note)


@dataclass(frozen=True)
class InterestCard:
    scenario_id: str
    company_id: str
    company_name: str
    scenario_title: str
    note: str | None
    at: dt.datetime


@dataclass
class Board:
    columns: dict[str, list[BoardCard]]
    interested: list[InterestCard]  # firms that said they are interested, no stage yet
    funnel: dict[str, int]
    by_composite: list[tuple[ScenarioRow, dict[str, int]]] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)  # who recorded the latest stages


def _titles(s: Session, ids: set[str]) -> dict[str, ScenarioRow]:
    if not ids:
        return {}
    return {r.id: r for r in s.scalars(select(ScenarioRow).where(ScenarioRow.id.in_(ids)))}


def board(
    s: Session,
    scenario_id: str | None,
    actor: str | None,
    stale_days: int,
    now: dt.datetime,
    stale_only: bool = False,
) -> Board:
    """The board of one scenario (``scenario_id``) or of all; ``actor`` keeps the pairs whose
    latest stage that recruiter recorded; ``stale_only`` keeps the stale cards."""
    if scenario_id is not None:
        store.get_scenario_row(s, scenario_id)  # 404 for an unknown id
    scope = [scenario_id] if scenario_id is not None else None
    every = store.pipeline(s, scope)
    actors = sorted({e.actor for e in every})
    entries = [e for e in every if actor is None or e.actor == actor]
    interest = store.interest_in(s, scenario_id)
    noted = {(i.scenario_id, i.company_id): i for i in interest}
    staged = {(e.scenario_id, e.company_id) for e in every}
    firm_ids = {e.company_id for e in entries} | {i.company_id for i in interest}
    names: dict[str, str] = {}
    if firm_ids:
        q = select(CompanyRow.id, CompanyRow.name).where(CompanyRow.id.in_(firm_ids))
        names = {cid: name for cid, name in s.execute(q)}
    rows = _titles(s, {e.scenario_id for e in entries} | {i.scenario_id for i in interest})

    def title(sid: str) -> str:
        r = rows.get(sid)
        return str(r.data.get("title_zh") or sid) if r is not None else sid

    columns: dict[str, list[BoardCard]] = {st: [] for st in FEEDBACK_STAGES}
    for e in entries:
        days = max(0, (now - _aware(e.at)).days)
        stale = e.stage in OPEN_STAGES and days >= stale_days
        if stale_only and not stale:
            continue
        mark = noted.get((e.scenario_id, e.company_id))
        card = BoardCard(
            e,
            names.get(e.company_id, e.company_id),
            title(e.scenario_id),
            stale,
            days,
            (mark.note or "") if mark is not None else None,
        )
        columns[e.stage].append(card)
    for cards in columns.values():
        cards.sort(key=lambda c: c.entry.at)  # the longest waiting first
    interested = [
        InterestCard(
            i.scenario_id,
            i.company_id,
            names.get(i.company_id, i.company_id),
            title(i.scenario_id),
            i.note,
            i.updated_at,
        )
        for i in interest
        if (i.scenario_id, i.company_id) not in staged and not stale_only
    ]
    out = Board(columns, interested, store.funnel(entries), actors=actors)
    if scenario_id is None:
        parents = {r.id: r.parent_id for r in rows.values()}
        composites = _titles(s, {p for p in parents.values() if p})
        for cid_, comp in sorted(composites.items(), key=lambda kv: (kv[1].position, kv[0])):
            mine = [e for e in entries if parents.get(e.scenario_id) == cid_]
            out.by_composite.append((comp, store.funnel(mine)))
    return out
