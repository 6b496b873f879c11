"""The filter form and result cards that the scenario, search and portal pages share."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.constraints import Filters
from matcher.normalise import strip_pinyin
from matcher.reasons import render_all
from matcher.types import CHAIN_POSITIONS, Company, Match

from ... import store
from ...errors import NotFound, ServiceError
from ...models import CompanyRow
from ...routes.common import filters_of
from ...schemas import SearchFilters
from .. import views

CHAINS = CHAIN_POSITIONS
TOP_K_CHOICES = (10, 20, 50)
FILTER_FIELDS = {  # form field -> SearchFilters field
    "industry": "industry",
    "city": "city",
    "min_capital": "min_capital_wan",
    "space_min": "space_min_m2",
    "space_max": "space_max_m2",
    "chain": "chain_position",
    "cert": "certifications",
}


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


def top_k_of(raw: str | None, default: int = 20) -> int:
    """The requested number of results if it is one of the choices, else ``default``."""
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


def cards(matches: list[Match], session: Session, lang: str) -> list[dict[str, Any]]:
    """What each result card shows: bars, highlighted profile, failed conditions in the
    reader's language, evidence in clean form."""
    profiles = _profiles(session, [m.company_id for m in matches])
    out = []
    for m in matches:
        company = profiles.get(m.company_id)
        why_not = render_all(m.explanation.reasons, "en" if lang == "en" else "zh")
        text = company.text() if company else ""
        evidence = m.explanation.evidence or ""
        clean = strip_pinyin(evidence)
        out.append(
            {
                "m": m,
                "company": company,
                "bars": views.bars(m.parts, m.contributions),
                "profile": views.highlight(text, m.explanation.matched_terms),
                "why_not": why_not,
                "evidence": clean,  # scraped pinyin readings dropped; the original one click away
                "evidence_raw": evidence if clean != evidence else None,
            }
        )
    return out


def company_names(session: Session, ids: list[str]) -> dict[str, str]:
    """The firms' names by id (the ids not stored are left out)."""
    if not ids:
        return {}
    rows = session.execute(select(CompanyRow.id, CompanyRow.name).where(CompanyRow.id.in_(ids)))
    return {cid: name for cid, name in rows}
