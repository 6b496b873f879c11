"""API keys and the audit log (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import func, select

from .. import auth
from ..auth import Admin
from ..db import writing
from ..deps import SessionDep
from ..models import ApiKeyRow, AuditRow
from ..schemas import AuditPublic, AuditsPublic, KeyCreate, KeyCreated, KeyPublic, KeysPublic

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
