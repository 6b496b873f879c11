"""Browser sessions: a random token in an HTTP-only cookie, stored server-side as its SHA-256.

The API key is checked once at sign-in and never kept in the browser. Each session has its own
CSRF token, which every form and htmx request must echo back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..auth import Principal
from ..models import ApiKeyRow, WebSessionRow

COOKIE = "matcher_session"
LANG_COOKIE = "matcher_lang"


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def open_session(s: Session, key_id: int, hours: float) -> tuple[str, str]:
    """A new session for the key; returns (cookie token, CSRF token). Expired rows are purged."""
    now = dt.datetime.now(dt.UTC)
    s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    s.add(
        WebSessionRow(
            token_hash=_hash(token),
            key_id=key_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return token, csrf


def find_session(s: Session, token: str) -> WebSession | None:
    """The live session for a cookie token: unknown, expired or revoked-key sessions are None."""
    if not token or len(token) > 100:
        return None
    found = s.execute(
        select(WebSessionRow, ApiKeyRow)
        .join(ApiKeyRow, ApiKeyRow.id == WebSessionRow.key_id)
        .where(WebSessionRow.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    row, key = found
    if key.revoked_at is not None or _aware(row.expires_at) <= dt.datetime.now(dt.UTC):
        return None
    return WebSession(Principal(key.id, key.role, key.company_id, key.rate_per_min), row.csrf)


def close_session(s: Session, token: str) -> None:
    s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _hash(token)))
