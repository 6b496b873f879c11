"""The catalogue: the composite scenarios with their opportunities, searchable by text."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from matcher.normalise import normalise

from ... import store
from ...deps import SessionDep
from ...models import ScenarioRow
from .common import PREFIX, AnyViewer, page

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _text_of(row: ScenarioRow) -> str:
    d = row.data
    parts = [row.id, d.get("title_zh", ""), d.get("title_en", ""), d.get("description_zh", "")]
    parts += [d.get("description_en", ""), d.get("park") or "", " ".join(d.get("keywords", []))]
    return normalise(" ".join(p for p in parts if p)).lower()


@router.get("/catalogue")
def catalogue(
    request: Request, ws: AnyViewer, session: SessionDep, q: str | None = None
) -> Response:
    """The composites with their opportunities; ``q`` keeps those whose text contains it."""
    query = normalise((q or "").strip()[:100]).lower()
    rows = store.scenario_rows(session, include_retired=False)
    kids: dict[str, list[ScenarioRow]] = {}
    for r in rows:
        if r.kind == "opportunity" and r.parent_id:
            kids.setdefault(r.parent_id, []).append(r)
    groups = []
    for c in (r for r in rows if r.kind == "composite"):
        found = kids.get(c.id, [])
        if query and query not in _text_of(c):
            found = [r for r in found if query in _text_of(r)]
            if not found:
                continue
        groups.append((c, found))
    counts = {"composites": len(groups), "opportunities": sum(len(k) for _, k in groups)}
    return page(request, "catalogue.html", {"groups": groups, "q": q or "", "counts": counts}, ws)
