"""The scenario page's compact ranked table: rows with stage, interest and flags, sorted on
the server over the whole ranked list (up to the service's ``max_top_k``), then paginated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.types import FEEDBACK_STAGES, RESULT_PARTS, Company, Match

from ...models import FeedbackRow, InterestRow

# sort keys a column header offers; parts sort by their value
SORTS: tuple[str, ...] = ("rank", "score", "name", "city", "industry", "stage", *RESULT_PARTS)
DESCENDING_FIRST = {"score", *RESULT_PARTS}  # a first click shows the highest first
_STAGE_ORDER: dict[str, int] = {s: i for i, s in enumerate(FEEDBACK_STAGES)}


@dataclass(frozen=True)
class Row:
    """One ranked firm as the table shows it."""

    m: Match
    company: Company | None
    latest: FeedbackRow | None
    interest: InterestRow | None
    stale: bool  # a recorded stage that has not changed for the stale period

    @property
    def city(self) -> str:
        return (self.company.city if self.company else None) or ""

    @property
    def industry(self) -> str:
        ind = self.m.explanation.industry
        if self.company and self.company.industry_codes:
            return self.company.industry_codes[0]
        return ind.company_code or ""

    @property
    def industry_inferred(self) -> bool:
        return not (self.company and self.company.industry_codes)


def aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def rows_of(
    matches: Sequence[Match],
    companies: Mapping[str, Company],
    latest: Mapping[str, FeedbackRow],
    interest: Mapping[str, InterestRow],
    stale_days: int,
    now: dt.datetime,
) -> list[Row]:
    """The table's rows, in ranking order."""
    cutoff = now - dt.timedelta(days=stale_days)
    out = []
    for m in matches:
        fb = latest.get(m.company_id)
        open_stage = fb is not None and fb.stage not in ("signed", "rejected")
        stale = open_stage and fb is not None and aware(fb.created_at) < cutoff
        out.append(Row(m, companies.get(m.company_id), fb, interest.get(m.company_id), stale))
    return out


def sort_of(params: Mapping[str, str]) -> tuple[str, bool]:
    """The requested sort key and direction (descending?), defaulting to the ranking."""
    key = params.get("sort") or "rank"
    if key not in SORTS:
        key = "rank"
    direction = params.get("dir")
    descending = direction == "desc" if direction in ("asc", "desc") else key in DESCENDING_FIRST
    return key, descending


def _value(row: Row, key: str) -> Any:
    if key in ("rank", "score"):
        return row.m.rank if key == "rank" else row.m.score
    if key == "name":
        return (row.m.company_name or row.m.company_id).casefold()
    if key == "city":
        return row.city
    if key == "industry":
        return row.industry
    if key == "stage":
        return _STAGE_ORDER.get(row.latest.stage, -1) if row.latest else -1
    return row.m.parts.get(key, 0.0)


def sort_rows(rows: Sequence[Row], key: str, descending: bool) -> list[Row]:
    """Rows ordered by ``key``; ties keep the ranking order. Empty cities, codes and stages
    go last either way, so a sort never opens on blank rows."""

    def blank(r: Row) -> bool:
        return (key in ("city", "industry") and not _value(r, key)) or (
            key == "stage" and r.latest is None
        )

    filled = [r for r in rows if not blank(r)]
    empty = [r for r in rows if blank(r)]
    filled.sort(key=lambda r: r.m.rank)
    filled.sort(key=lambda r: _value(r, key), reverse=descending)  # stable: ties keep rank order
    return filled + sorted(empty, key=lambda r: r.m.rank)


@dataclass(frozen=True)
class Pages:
    page: int
    pages: int
    size: int
    total: int

    @property
    def first(self) -> int:  # 1-based index of the first row shown
        return (self.page - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.size)


def paginate(rows: Sequence[Row], raw_page: str | None, size: int) -> tuple[list[Row], Pages]:
    """One page of ``rows``; a page past the end shows the last one."""
    pages = max(1, -(-len(rows) // size))
    page = int(raw_page) if raw_page and raw_page.isdigit() and int(raw_page) >= 1 else 1
    page = min(page, pages)
    return list(rows[(page - 1) * size : page * size]), Pages(page, pages, size, len(rows))
