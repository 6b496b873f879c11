from __future__ import annotations

from fastapi import APIRouter

from ..auth import Staff
from ..deps import HolderDep
from ..schemas import MatchesPublic, SearchCreate
from .common import filters_of, match_public

router = APIRouter(tags=["search"])


@router.post("/search", response_model=MatchesPublic)
def search(body: SearchCreate, _: Staff, holder: HolderDep) -> MatchesPublic:
    """Free-text search over firms, in any language, with the same filters as a scenario."""
    f = filters_of(body.filters)
    with holder.reading() as engine:
        found = engine.match_text(body.text, body.top_k, f)
    return MatchesPublic(
        data=[match_public(m) for m in found], count=len(found), page=1, top_k=body.top_k
    )
