"""Free-text search: firms ranked against a typed description, with the same filters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from ...deps import HolderDep, SessionDep
from ...schemas import SearchCreate
from ..i18n import problem
from .common import PREFIX, StaffViewer, lang_of, page
from .results import CHAINS, TOP_K_CHOICES, cards, parse_filters, top_k_of

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/search")
def search(request: Request, ws: StaffViewer, session: SessionDep, holder: HolderDep) -> Response:
    params = dict(request.query_params)
    text = (params.get("q") or "").strip()
    filters, errors = parse_filters(params, lang_of(request))
    top_k = top_k_of(params.get("top_k"))
    found: list[dict[str, Any]] = []
    if text and not errors:
        try:
            body = SearchCreate.model_validate({"text": text, "top_k": top_k})
        except ValidationError as exc:
            errors = {"q": problem(exc.errors()[0], lang_of(request))}
        else:
            with holder.reading() as engine:
                matches = engine.match_text(body.text, top_k, filters)
            found = cards(list(matches), session, lang_of(request))
    return page(
        request,
        "search.html",
        {
            "cards": found,
            "params": params,
            "q": text,
            "errors": errors,
            "top_k": top_k,
            "top_k_choices": TOP_K_CHOICES,
            "chains": CHAINS,
        },
        ws,
        422 if errors else 200,
    )
