"""API keys and roles: keys are random tokens stored as SHA-256; requests send a Bearer key."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from .models import ApiKeyRow, AuditRow

ROLES = ("admin", "recruiter", "company")
STAFF = ("admin", "recruiter")
KEY_PREFIX = "smk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, role and (for a company key) the firm it speaks for."""

    key_id: int
    role: str
    company_id: str | None = None
    rate_per_min: int | None = None  # None: the service's default

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def may_see_company(self, company_id: str) -> bool:
        return self.is_staff or self.company_id == company_id


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    session: Session,
    role: str,
    company_id: str | None = None,
    name: str | None = None,
    actor: str = "cli",
    rate_per_min: int | None = None,
) -> tuple[ApiKeyRow, str]:
    """Store a new key and return it; the plain key is shown once and never stored."""
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}, got {role!r}", "role")
    if role == "company" and not company_id:
        raise Invalid("a company key needs --company-id (the firm it speaks for)", "company_id")
    if role != "company" and company_id:
        raise Invalid("only company keys have a company id", "company_id")
    if rate_per_min is not None and not 1 <= rate_per_min <= 1_000_000:
        raise Invalid("a rate limit is 1 to 1,000,000 requests a minute", "rate_per_min")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        key_hash=hash_key(key),
        prefix=key[:10],
        role=role,
        company_id=company_id,
        name=name,
        rate_per_min=rate_per_min,
    )
    session.add(row)
    session.flush()
    session.add(
        AuditRow(
            actor=actor,
            action="create",
            entity="api_key",
            entity_id=str(row.id),
            detail={"role": role, "company_id": company_id, "rate_per_min": rate_per_min},
        )
    )
    return row, key


def revoke_key(session: Session, key_id: int, actor: str) -> ApiKeyRow:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = dt.datetime.now(dt.UTC)
        session.add(AuditRow(actor=actor, action="revoke", entity="api_key", entity_id=str(key_id)))
    return row


def lookup(session: Session, key: str) -> Principal | None:
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.role, row.company_id, row.rate_per_min)


def limit_rate(request: Request, principal: Principal) -> None:
    """Spend one request of the key's allowance, and for a heavy request take one of the
    key's slots (``service.limits.HeavySlot``); 429 with ``Retry-After`` when either is
    used up."""
    per_minute = principal.rate_per_min or request.app.state.settings.rate_limit
    wait = request.app.state.limiter.take(principal.key_id, per_minute)
    if wait > 0:
        raise TooManyRequests(
            f"this key may send {per_minute} requests a minute; retry in {math.ceil(wait)} s",
            math.ceil(wait),
        )
    heavy = request.scope.get("matcher.heavy")  # service.limits.HEAVY_SCOPE_KEY
    if heavy is not None:
        heavy.take(principal.key_id)


bearer = HTTPBearer(auto_error=False, description="an API key from `matcher keys create`")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("sign in: send `Authorization: Bearer <API key>`")
    factory = request.app.state.sessions
    with factory() as session:
        principal = lookup(session, credentials.credentials.strip())
    if principal is None:
        raise Unauthorized("unknown or revoked API key")
    limit_rate(request, principal)
    return principal


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only the given roles through (403 for the others)."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"a {principal.role} key may not do this; it needs one of: {', '.join(roles)}"
            )
        return principal

    return dependency


AnyRole = Annotated[Principal, Depends(require(*ROLES))]
Staff = Annotated[Principal, Depends(require(*STAFF))]
Admin = Annotated[Principal, Depends(require("admin"))]
CompanyKey = Annotated[Principal, Depends(require("company"))]
AdminOrOwner = Annotated[Principal, Depends(require("admin", "company"))]
