"""Company profiles: submit, read, update, delete, suggestions, versions and bulk import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from sqlalchemy.orm import Session

from .. import import_jobs, imports, store
from ..auth import AdminOrOwner, AnyRole, Principal, Staff
from ..deps import HolderDep, SessionDep, SettingsDep
from ..errors import Forbidden
from ..index import Change, IndexHolder
from ..models import CompanyRow, CompanyVersionRow
from ..profiles import ProfilePatch
from ..schemas import (
    CompaniesPublic,
    CompanyCreate,
    CompanyPublic,
    CompanySaved,
    CompanyUpdate,
    CompanyVersionPublic,
    CompanyVersionsPublic,
    DuplicatePublic,
    ImportReport,
    ImportRowPublic,
    MatchesPublic,
)
from .common import match_public, read_upload

router = APIRouter(prefix="/companies", tags=["companies"])
SUGGESTIONS = 5


def company_public(row: CompanyRow, version: CompanyVersionRow, contact: bool) -> CompanyPublic:
    data = {**version.profile, "id": row.id}
    data["contact"] = version.contact if contact else None
    return CompanyPublic.model_validate(
        {
            **data,
            "version": row.current_version,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }
    )


def _own(who: Principal, company_id: str) -> None:
    if not who.may_see_company(company_id):
        # checked before any lookup, so the answer is the same whether the firm exists or not
        raise Forbidden("a company key may only read and write its own profile")


def _suggest(holder: Any, company_id: str, top_k: int) -> list[Any]:
    with holder.reading() as engine:
        return [match_public(m) for m in engine.suggest(company_id, top_k)]


def may_change(who: Principal) -> str | None:
    """Which existing firm ``who`` may change: any (admin), its own (company key), none
    (recruiter: new firms only). The one rule for every route that writes a profile."""
    if who.role == "admin":
        return store.ANY_FIRM
    return who.company_id if who.role == "company" else None


def save_profile(
    holder: IndexHolder,
    who: Principal,
    company_id: str,
    patch: ProfilePatch,
    mode: Literal["create", "update"],
) -> CompanySaved:
    """Store a profile change (``mode`` as in ``store.find_target``), update the index, and
    return the stored profile with its scenario suggestions: the one write path for the API
    and the company portal."""
    with holder.sessions() as s:
        preview = store.preview_company(s, company_id, patch, mode)
    holder.prepare([preview] if preview is not None else [])

    def write(s: Session) -> tuple[CompanySaved, Change]:
        saved = store.save_company(
            s, company_id, patch, who.actor, mode=mode, may_change=may_change(who)
        )
        out = CompanySaved(
            company=company_public(saved.row, saved.version, contact=True),
            created=saved.created,
            updated_existing=saved.updated_existing,
            changed_fields=list(saved.changed_fields),
            possible_duplicates=[DuplicatePublic(id=d.id, name=d.name) for d in saved.duplicates]
            if who.is_staff
            else [],
            suggestions=[],
        )
        stored = store.company_of(saved.row, saved.version)
        return out, Change(companies=[stored]) if saved.changed else Change()

    out = holder.write(write)
    out.suggestions = _suggest(holder, out.company.id, SUGGESTIONS)
    return out


@router.post("", response_model=CompanySaved, status_code=status.HTTP_201_CREATED)
def create_company(
    body: CompanyCreate, who: AnyRole, holder: HolderDep, response: Response
) -> CompanySaved:
    """Submit a profile; the response holds the stored profile and its scenario suggestions.

    A credit code that is already registered updates that firm (a new version, 200) instead
    of creating a second one, and only an admin or the firm's own key may do that; fields
    the body leaves out keep their stored values. A near-identical name without a code is
    flagged.
    """
    if who.role == "company":
        if body.id is not None and body.id != who.company_id:
            raise Forbidden("a company key may only submit its own profile", "id")
        cid = who.company_id
    else:
        cid = body.id
    with holder.sessions() as s:
        cid = cid or store.new_company_id(s)
    out = save_profile(holder, who, cid, body.patch(), "create")  # type: ignore[arg-type]
    if not out.created:
        response.status_code = status.HTTP_200_OK
    return out


@router.get("", response_model=CompaniesPublic)
def list_companies(
    _: Staff,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="name contains")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CompaniesPublic:
    rows, total = store.list_companies(session, offset, limit, q)
    return CompaniesPublic(data=[company_public(r, v, True) for r, v in rows], count=total)


@router.get("/{company_id}", response_model=CompanyPublic)
def get_company(company_id: str, who: AnyRole, session: SessionDep) -> CompanyPublic:
    _own(who, company_id)
    row, version = store.get_company(session, company_id)
    return company_public(row, version, contact=True)


@router.get("/{company_id}/versions", response_model=CompanyVersionsPublic)
def company_versions(company_id: str, who: AnyRole, session: SessionDep) -> CompanyVersionsPublic:
    """Every submitted version of the profile (contact data left out)."""
    _own(who, company_id)
    store.get_company(session, company_id)
    rows = store.versions(session, company_id)
    data = [
        CompanyVersionPublic(
            version=v.version, profile=v.profile, actor=v.actor, created_at=v.created_at
        )
        for v in rows
    ]
    return CompanyVersionsPublic(data=data, count=len(data))


@router.get("/{company_id}/suggestions", response_model=MatchesPublic)
def suggestions(
    company_id: str,
    who: AnyRole,
    session: SessionDep,
    holder: HolderDep,
    top_k: Annotated[int, Query(ge=1, le=100)] = SUGGESTIONS,
) -> MatchesPublic:
    """The open scenarios that suit this firm, best first, with reasons."""
    _own(who, company_id)
    store.get_company(session, company_id)
    found = _suggest(holder, company_id, top_k)
    return MatchesPublic(data=found, count=len(found), page=1, top_k=top_k)


@router.put("/{company_id}", response_model=CompanySaved)
def update_company(
    company_id: str,
    body: CompanyUpdate,
    who: AdminOrOwner,
    holder: HolderDep,
) -> CompanySaved:
    """Store a new version with the fields sent changed: a field left out keeps its value,
    ``null`` clears it (earlier versions are kept)."""
    _own(who, company_id)
    return save_profile(holder, who, company_id, body.patch(), "update")


@router.delete("/{company_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_company(
    company_id: str,
    who: AdminOrOwner,
    holder: HolderDep,
) -> Response:
    """Erase the firm: its profile, every version, feedback and contact data leave the
    database and the index at once; its copies in nightly runs, snapshots, saved indexes and
    the embedding cache go within seconds after (``GET /health`` counts erasures still
    pending); history keeps a tombstone (已删除企业 #n). The audit log keeps only that it
    happened, by whom, when."""
    _own(who, company_id)
    erase_company(holder, company_id, who.actor)
    return Response(status_code=204)


def erase_company(holder: IndexHolder, company_id: str, actor: str) -> None:
    """Erase a firm from the database and the index now, its other traces soon after: the
    one deletion for the API and the admin page."""

    def write(s: Session) -> tuple[None, Change]:
        erasure, texts = store.delete_company(s, company_id, actor)
        keys = holder.text_keys(texts)
        erasure.cache_keys = keys
        return None, Change(removed_companies=[company_id], erase=True, forget_keys=keys)

    holder.write(write)
    holder.erase_soon()


@router.post("/import", response_model=ImportReport)
def import_companies(
    file: Annotated[
        UploadFile, File(description="CSV (UTF-8, UTF-16/32 with BOM, GB18030, Big5) or XLSX")
    ],
    who: Staff,
    holder: HolderDep,
    settings: SettingsDep,
) -> ImportReport:
    """Bulk import with a per-row report. Rows that fail validation are rejected and
    reported; the valid rows are stored in one transaction, all or none (any other failure
    stores no row). An empty cell, or a column the file lacks, leaves that field of an
    existing firm unchanged; the cell ``(清空)`` clears it. A recruiter's import adds new
    firms; a row that would change a registered firm needs an admin's key and is rejected."""
    data = read_upload(file, settings.max_upload_bytes)
    header, table = imports.read_table(data, file.filename or "", settings.max_import_rows)
    report, valid = import_jobs.validate_rows(header, table, {})
    with holder.sessions() as s:
        planned, previews = import_jobs.plan_rows(s, valid)
    holder.prepare(previews)
    rule = may_change(who)

    def write(s: Session) -> tuple[list[ImportRowPublic], Change]:
        rows, changed = import_jobs.store_rows(s, planned, who.actor, rule)
        store.audit(s, who.actor, "import", "company", None, {"rows": len(planned)})
        return rows, Change(companies=changed)

    report += holder.write(write)
    return import_jobs.report_of(report)
