from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter

from ..auth import Staff
from ..deps import HolderDep
from ..schemas import SearchCreate, SearchPublic
from .common import filters_of, filters_resolved, match_public

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchPublic)
def search(body: SearchCreate, _: Staff, holder: HolderDep) -> SearchPublic:
    """Free-text search over firms, in any language, with the same filters as a scenario; the
    text comes back once (``text``), not as each match's ``scenario_title``."""
    f = filters_of(body.filters)
    with holder.reading() as engine:
        found = engine.match_text(body.text, body.top_k, f)
    return SearchPublic(
        text=body.text,
        data=[match_public(replace(m, scenario_title="")) for m in found],
        count=len(found),
        page=1,
        top_k=body.top_k,
        filters_resolved=filters_resolved(f),
    )
