"""API keys and the audit log (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, Request, UploadFile, status
from sqlalchemy import func, select

from .. import auth, import_jobs, store
from ..auth import Admin
from ..db import transaction, writing
from ..deps import HolderDep, SessionDep, SettingsDep
from ..models import ApiKeyRow, AuditRow
from ..schemas import (
    AuditPublic,
    AuditsPublic,
    ImportJobPublic,
    ImportJobsPublic,
    KeyCreate,
    KeyCreated,
    KeyPublic,
    KeysPublic,
)
from .common import read_upload

router = APIRouter(tags=["admin"])


def key_public(r: ApiKeyRow) -> KeyPublic:
    return KeyPublic(
        id=r.id,
        prefix=r.prefix,
        role=r.role,
        company_id=r.company_id,
        name=r.name,
        created_at=r.created_at,
        revoked_at=r.revoked_at,
        rate_per_min=r.rate_per_min,
    )


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, who: Admin, session: SessionDep) -> KeyCreated:
    """A new API key, shown once."""
    with writing(session):
        row, key = auth.create_key(
            session, body.role, body.company_id, body.name, who.actor, body.rate_per_min
        )
        out = KeyCreated(**key_public(row).model_dump(), key=key)
    return out


@router.get("/keys", response_model=KeysPublic)
def list_keys(_: Admin, session: SessionDep) -> KeysPublic:
    rows = list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))
    return KeysPublic(data=[key_public(r) for r in rows], count=len(rows))


@router.delete("/keys/{key_id}", response_model=KeyPublic)
def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], who: Admin, session: SessionDep
) -> KeyPublic:
    with writing(session):
        out = key_public(auth.revoke_key(session, key_id, who.actor))
    return out


@router.get("/audit", response_model=AuditsPublic)
def audit_log(
    _: Admin,
    session: SessionDep,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditsPublic:
    """Who changed what, when, newest first."""
    q = select(AuditRow)
    if entity:
        q = q.where(AuditRow.entity == entity)
    if entity_id:
        q = q.where(AuditRow.entity_id == entity_id)
    total = int(session.scalar(select(func.count()).select_from(q.subquery())) or 0)
    rows = session.scalars(q.order_by(AuditRow.id.desc()).offset(offset).limit(limit))
    data = [
        AuditPublic(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            detail=r.detail,
        )
        for r in rows
    ]
    return AuditsPublic(data=data, count=total)


# ---------------------------------------------------------------- import jobs (issue 19)
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def start_import(
    request: Request, data: bytes, filename: str, actor: str, may_change: str | None
) -> int:
    """Queue a background import of an uploaded file (checked first) and wake the runner."""
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as s:
        job_id = import_jobs.create_job(
            s, data, filename, actor, may_change, settings.max_import_rows
        ).id
    request.app.state.import_runner.wake()
    return job_id


@router.post("/admin/imports", response_model=ImportJobPublic, status_code=status.HTTP_202_ACCEPTED)
def create_import(
    request: Request,
    file: Annotated[
        UploadFile, File(description="CSV (UTF-8, UTF-16/32 with BOM, GB18030, Big5) or XLSX")
    ],
    who: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> ImportJobPublic:
    """Import firms in the background (the rows as ``POST /companies/import`` reads them),
    a batch of rows per transaction; poll ``GET /admin/imports/{id}`` for progress and the
    per-row report. A job a stopped or crashed process left behind shows as interrupted and
    resumes after its last committed row (``POST /admin/imports/{id}/resume``)."""
    data = read_upload(file, settings.max_upload_bytes)
    job_id = start_import(request, data, file.filename or "", who.actor, store.ANY_FIRM)
    return import_jobs.job_public(import_jobs.get_job(session, job_id))


@router.get("/admin/imports", response_model=ImportJobsPublic)
def list_imports(
    _: Admin, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> ImportJobsPublic:
    """The latest import jobs, newest first (their reports left out: ask for one job)."""
    rows = import_jobs.recent_jobs(session, limit)
    return ImportJobsPublic(data=[import_jobs.job_public(r) for r in rows], count=len(rows))


@router.get("/admin/imports/{job_id}", response_model=ImportJobPublic)
def get_import(job_id: JobId, _: Admin, session: SessionDep) -> ImportJobPublic:
    """One job: status, progress, counts and the per-row report so far."""
    job = import_jobs.get_job(session, job_id)
    return import_jobs.job_public(job, import_jobs.entries_of(session, job_id))


@router.post("/admin/imports/{job_id}/resume", response_model=ImportJobPublic)
def resume_import(
    request: Request, job_id: JobId, who: Admin, holder: HolderDep
) -> ImportJobPublic:
    """Queue an interrupted or failed job again (409 otherwise); it continues after the last
    committed row."""
    job = import_jobs.resume(holder.sessions, job_id, who.actor)
    request.app.state.import_runner.wake()
    return import_jobs.job_public(job)
