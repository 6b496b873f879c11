"""Helpers shared by routers: converting engine records to response models, paging."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload  # FastAPI's is a subclass

from matcher.constraints import Filters
from matcher.places import resolve as resolve_place
from matcher.types import Match

from .. import store
from ..errors import Conflict, Invalid, TooLarge
from ..index import IndexHolder
from ..schemas import FiltersResolved, MatchPublic, PlaceResolved, SearchFilters


def match_public(m: Match) -> MatchPublic:
    return MatchPublic.model_validate(m.to_dict())


def filters_of(f: SearchFilters) -> Filters:
    if (
        f.space_min_m2 is not None
        and f.space_max_m2 is not None
        and f.space_min_m2 > f.space_max_m2
    ):
        raise Invalid("space_min_m2 is larger than space_max_m2", "space_min_m2")
    return Filters(
        industry_prefix=f.industry,
        city=f.city,
        min_capital_wan=f.min_capital_wan,
        space_min_m2=f.space_min_m2,
        space_max_m2=f.space_max_m2,
        chain_position=f.chain_position,
        certifications=tuple(f.certifications),
    )


def filters_resolved(f: Filters) -> FiltersResolved:
    """How the engine reads the filters: the divisions a city filter matched (the same
    :func:`matcher.places.resolve` the engine's filter columns apply)."""
    if not f.city or not f.city.strip():
        return FiltersResolved()
    r = resolve_place(f.city)
    return FiltersResolved(
        city=PlaceResolved(
            value=r.written,
            places=list(r.names),
            paths=["/".join(p.path) for p in r.places],
            known=r.known,
            ambiguous=r.ambiguous,
            note=r.describe(),
        )
    )


def ranked(
    holder: IndexHolder,
    session: Session,
    scenario_id: str,
    top_k: int,
    page: int,
    filters: Filters,
) -> list[Match]:
    """One page of a scenario's ranking, with the recruiters' pins, exclusions and likes."""
    row = store.get_scenario_row(session, scenario_id)
    if row.status == "retired":
        raise Conflict(f"scenario {scenario_id} is retired, so it is no longer matched")
    controls = store.controls_for(session, scenario_id)
    with holder.reading() as engine:
        matches = engine.match_scenario(scenario_id, page * top_k, filters, controls)
    return list(matches[(page - 1) * top_k : page * top_k])


def read_upload(file: StarletteUpload, limit: int) -> bytes:
    """An uploaded file's bytes, refused (413) past ``limit`` without reading further."""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file: larger than {limit} bytes", "file")
    return data
