"""The catalogue (a tree), its administration, and each scenario's ranked firms."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status
from sqlalchemy.orm import Session

from matcher.constraints import Filters
from matcher.reasons import Lang
from matcher.types import ChainPosition

from .. import catalogue_drafts, exports, store
from ..auth import Admin, AnyRole, Staff
from ..db import writing
from ..deps import HolderDep, SessionDep, SettingsDep
from ..errors import Invalid
from ..index import Change, IndexHolder
from ..models import ScenarioRow
from ..schemas import (
    CataloguePreviewPublic,
    CatalogueProblemPublic,
    CatalogueUploaded,
    CompositePublic,
    ControlCreate,
    ControlPublic,
    ControlsPublic,
    MatchesPublic,
    ScenarioCreate,
    ScenarioPublic,
    ScenariosPublic,
    ScenarioUpdate,
    SearchFilters,
    scenario_domain,
)
from .common import filters_of, filters_resolved, match_public, ranked, read_upload

router = APIRouter(prefix="/scenarios", tags=["scenarios"])


def scenario_public(row: ScenarioRow) -> ScenarioPublic:
    data = {**row.data, "id": row.id, "parent_id": row.parent_id, "status": row.status}
    return ScenarioPublic.model_validate({**data, "version": row.version})


@router.get("", response_model=ScenariosPublic)
def list_scenarios(
    _: AnyRole, session: SessionDep, include_retired: bool = False
) -> ScenariosPublic:
    """The catalogue as a tree: composite scenarios, each with its opportunities."""
    rows = store.scenario_rows(session, include_retired=include_retired)
    children: dict[str, list[ScenarioPublic]] = {}
    for r in rows:
        if r.kind == "opportunity" and r.parent_id:
            children.setdefault(r.parent_id, []).append(scenario_public(r))
    data = []
    for r in rows:
        if r.kind != "composite":
            continue
        kids = children.get(r.id, [])
        data.append(
            CompositePublic(
                id=r.id,
                title_zh=r.data.get("title_zh", ""),
                title_en=r.data.get("title_en", ""),
                description_zh=r.data.get("description_zh", ""),
                opportunities=kids,
                count=len(kids),
            )
        )
    return ScenariosPublic(data=data, count=len(data), opportunities=sum(c.count for c in data))


@router.get("/{scenario_id}", response_model=ScenarioPublic)
def get_scenario(scenario_id: str, _: AnyRole, session: SessionDep) -> ScenarioPublic:
    return scenario_public(store.get_scenario_row(session, scenario_id))


@router.post("", response_model=ScenarioPublic, status_code=status.HTTP_201_CREATED)
def create_scenario(body: ScenarioCreate, who: Admin, holder: HolderDep) -> ScenarioPublic:
    """Publish a new scenario opportunity under an existing composite."""
    sc = scenario_domain(body.id, body, body.parent_id)

    def write(s: Session) -> tuple[Any, Change]:
        store.put_scenario(s, sc, who.actor, create_only=True)
        return scenario_public(store.get_scenario_row(s, sc.id)), Change(scenarios=[sc])

    return holder.write(write)


@router.put("/{scenario_id}", response_model=ScenarioPublic)
def update_scenario(
    scenario_id: str, body: ScenarioUpdate, who: Admin, holder: HolderDep
) -> ScenarioPublic:
    """Change a scenario's text, fields or status (``closed`` stops matching it)."""

    def write(s: Session) -> tuple[Any, Change]:
        row = store.get_scenario_row(s, scenario_id)
        if row.status == "retired":
            row.status = "open"  # an update republishes a retired scenario
        sc = scenario_domain(scenario_id, body, body.parent_id)
        store.put_scenario(s, sc, who.actor)
        return scenario_public(store.get_scenario_row(s, scenario_id)), Change(scenarios=[sc])

    return holder.write(write)


@router.delete("/{scenario_id}", response_model=ScenarioPublic)
def retire_scenario(scenario_id: str, who: Admin, holder: HolderDep) -> ScenarioPublic:
    """Retire a scenario (or a composite and its opportunities): kept for history, not matched."""

    def write(s: Session) -> tuple[Any, Change]:
        row = store.get_scenario_row(s, scenario_id, kind=None)
        ids = [scenario_id] + (
            [r.id for r in store.scenario_rows(s, False) if r.parent_id == scenario_id]
            if row.kind == "composite"
            else []
        )
        store.retire_scenario(s, scenario_id, who.actor)
        return scenario_public(row), Change(removed_scenarios=ids)

    return holder.write(write)


@router.post("/upload", response_model=CatalogueUploaded | CataloguePreviewPublic)
def upload_catalogue(
    file: Annotated[UploadFile, File(description="catalogue YAML or JSON (scenarios schema)")],
    who: Admin,
    holder: HolderDep,
    settings: SettingsDep,
    dry_run: Annotated[
        bool,
        Query(
            description="only say what the upload would do: every error, or the "
            "scenarios it would add, change and retire"
        ),
    ] = False,
) -> CatalogueUploaded | CataloguePreviewPublic:
    """Replace the zone's catalogue, all or nothing; scenarios missing from the file retire."""
    checked = catalogue_drafts.read_catalogue(
        read_upload(file, settings.max_upload_bytes), file.filename
    )
    if dry_run:
        return preview_public(catalogue_drafts.preview(holder.sessions, checked))
    if checked.catalogue is None:
        raise Invalid(checked.summary, "file")
    return holder.write(lambda s: catalogue_drafts.apply(s, checked, who.actor))


def preview_public(p: catalogue_drafts.Preview) -> CataloguePreviewPublic:
    cat, report = p.checked.catalogue, p.report
    return CataloguePreviewPublic(
        valid=report is not None,
        errors=[
            CatalogueProblemPublic(row=e.row, field=e.field, message=e.message)
            for e in p.checked.problems
        ],
        composites=len(cat.composites) if cat else 0,
        opportunities=len(cat.opportunities) if cat else 0,
        created=report.created if report else [],
        updated=report.updated if report else [],
        retired=report.retired if report else [],
    )


Industry = Annotated[str | None, Query(pattern=r"^[0-9]{1,4}$", description="GB/T code prefix")]
City = Annotated[str | None, Query(min_length=1, max_length=100)]
Capital = Annotated[
    float | None, Query(ge=0, le=1e12, description="minimum registered capital, 万元")
]
Space = Annotated[float | None, Query(ge=0, le=1e12, description="space needed, m²")]
Chain = Annotated[ChainPosition | None, Query()]
Certs = Annotated[list[str] | None, Query(max_length=20)]
TopK = Annotated[int, Query(ge=1, le=200)]
Page = Annotated[int, Query(ge=1, le=50)]


async def match_filters(
    industry: Industry = None,
    city: City = None,
    min_capital: Capital = None,
    space_min: Space = None,
    space_max: Space = None,
    chain: Chain = None,
    cert: Certs = None,
) -> Filters:
    """The recruiter's filters, shared by the ranked list and its exports."""
    return filters_of(
        SearchFilters.model_validate(
            {
                "industry": industry,
                "city": city,
                "min_capital_wan": min_capital,
                "space_min_m2": space_min,
                "space_max_m2": space_max,
                "chain_position": chain,
                "certifications": cert or [],
            }
        )
    )


FiltersDep = Annotated[Filters, Depends(match_filters)]


@router.get("/{scenario_id}/matches", response_model=MatchesPublic)
def matches(
    scenario_id: str,
    _: Staff,
    session: SessionDep,
    holder: HolderDep,
    f: FiltersDep,
    top_k: TopK = 20,
    page: Page = 1,
) -> MatchesPublic:
    """Ranked firms for a scenario with score parts and explanations (recruiter controls kept)."""
    found = ranked(holder, session, scenario_id, top_k, page, f)
    return MatchesPublic(
        data=[match_public(m) for m in found],
        count=len(found),
        page=page,
        top_k=top_k,
        filters_resolved=filters_resolved(f),
    )


def export_matches(
    scenario_id: str,
    actor: str,
    session: Session,
    holder: IndexHolder,
    top_k: int,
    f: Filters,
    fmt: str,
    lang: Lang = "zh",
) -> Response:
    """The filtered ranking (its first ``top_k``) as a CSV or XLSX download with each firm's
    follow-up stage and interest; the file and the export's snapshot record the count and
    the filters. Audited."""
    found = ranked(holder, session, scenario_id, top_k, 1, f)
    companies = {}
    for m in found:
        row, version = store.get_company(session, m.company_id)
        companies[m.company_id] = store.company_of(row, version, with_contact=True)
    ids = [m.company_id for m in found]
    stages = {cid: r.stage for cid, r in store.latest_feedback(session, scenario_id, ids).items()}
    interested = {i.company_id: i.note for i in store.interest_in(session, scenario_id)}
    title = store.get_scenario_row(session, scenario_id).data.get("title_zh", scenario_id)
    chosen = {k: v for k, v in asdict(f).items() if v not in (None, (), [])}
    if lang == "en":
        title = store.get_scenario_row(session, scenario_id).data.get("title_en") or title
    info = exports.ExportInfo(scenario_id, title, len(found), top_k, chosen, lang)
    params = {"scenario": scenario_id, "format": fmt, "top_k": top_k, "rows": len(found)}
    params["filters"] = {k: list(v) if isinstance(v, tuple) else v for k, v in chosen.items()}
    store.record_snapshot(session, "export", actor, params, found)
    store.audit(
        session, actor, "export", "scenario", scenario_id, {"format": fmt, "rows": len(found)}
    )
    session.commit()
    table = exports.rows(found, companies, stages, interested, lang)
    if fmt == "csv":
        body = exports.to_csv(table, info)
        media = "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(table, info)
        media = XLSX
    filename = f"{scenario_id}-matches.{fmt}"
    return Response(body, media_type=media, headers=exports.download_headers(filename))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/{scenario_id}/matches.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def matches_csv(
    scenario_id: str,
    who: Staff,
    session: SessionDep,
    holder: HolderDep,
    f: FiltersDep,
    top_k: TopK = 50,
) -> Response:
    """The ranked list as CSV (UTF-8 with BOM, Chinese headers) for Excel."""
    return export_matches(scenario_id, who.actor, session, holder, top_k, f, "csv")


@router.get(
    "/{scenario_id}/matches.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def matches_xlsx(
    scenario_id: str,
    who: Staff,
    session: SessionDep,
    holder: HolderDep,
    f: FiltersDep,
    top_k: TopK = 50,
) -> Response:
    """The ranked list as an Excel workbook."""
    return export_matches(scenario_id, who.actor, session, holder, top_k, f, "xlsx")


def control_public(r) -> ControlPublic:  # type: ignore[no-untyped-def]
    return ControlPublic(
        scenario_id=r.scenario_id,
        company_id=r.company_id,
        action=r.action,
        reason=r.reason,
        actor=r.actor,
        created_at=r.created_at,
    )


@router.get("/{scenario_id}/controls", response_model=ControlsPublic)
def list_controls(scenario_id: str, _: Staff, session: SessionDep) -> ControlsPublic:
    """Pins, exclusions and "more like this" firms kept for this scenario."""
    store.get_scenario_row(session, scenario_id)
    rows = store.control_rows(session, scenario_id)
    return ControlsPublic(data=[control_public(r) for r in rows], count=len(rows))


@router.post(
    "/{scenario_id}/controls", response_model=ControlPublic, status_code=status.HTTP_201_CREATED
)
def set_control(
    scenario_id: str, body: ControlCreate, who: Staff, session: SessionDep
) -> ControlPublic:
    """Pin a firm to the top, exclude it (with a reason) or rank "more like this" firm."""
    with writing(session):
        row = store.set_control(
            session, scenario_id, body.company_id, body.action, body.reason, who.actor
        )
        out = control_public(row)
    return out


@router.delete(
    "/{scenario_id}/controls/{company_id}/{action}", status_code=status.HTTP_204_NO_CONTENT
)
def remove_control(
    scenario_id: str,
    company_id: str,
    action: Literal["pin", "exclude", "like"],
    who: Staff,
    session: SessionDep,
) -> Response:
    with writing(session):
        store.remove_control(session, scenario_id, company_id, action, who.actor)
    return Response(status_code=204)
