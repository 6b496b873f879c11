"""The entry pages: ``/ui`` (to the viewer's start page), sign-in, sign-out, language."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from ... import auth, store
from ...db import transaction
from ...deps import SettingsDep
from ...errors import NotFound, Unauthorized
from .. import views
from ..i18n import LANGS, translator
from ..websession import COOKIE, LANG_COOKIE, close_session, open_session
from .common import PREFIX, AnyViewer, form_with_csrf, lang_of, page, web_session

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SIGNIN_COOKIE = "matcher_signin"


def home_of(role: str) -> str:
    """Where a role starts: a company at its portal, staff at the catalogue."""
    return "/ui/portal" if role == "company" else "/ui/catalogue"


@router.get("")
def home(request: Request) -> Response:
    try:
        ws = web_session(request)
    except Unauthorized:
        return RedirectResponse("/ui/signin", status_code=303)
    return RedirectResponse(home_of(ws.principal.role), status_code=303)


def _signin_page(
    request: Request, next_: str, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    insecure = (
        request.app.state.settings.cookie_secure
        and request.url.scheme == "http"
        and request.url.hostname not in ("localhost", "127.0.0.1", "::1")
    )
    response = page(
        request,
        "signin.html",
        {"signin_token": token, "next": next_, "error": error, "insecure": insecure},
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE, token, max_age=1800, httponly=True, samesite="strict", path="/ui"
    )
    return response


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    return _signin_page(request, views.safe_next(next))


@router.post("/signin")
async def signin(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    t = translator(lang_of(request))
    next_ = views.safe_next(str(form.get("next") or ""))
    sent = str(form.get("signin_token") or "")
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        return _signin_page(request, next_, t("signin.expired"), 403)
    key = str(form.get("key") or "").strip()
    if not key:
        return _signin_page(request, next_, t("signin.empty"), 422)

    def check() -> tuple[str, str] | None:
        with transaction(request.app.state.sessions) as s:
            principal = auth.lookup(s, key[:200])
            if principal is None:
                return None
            token, _csrf = open_session(s, principal.key_id, settings.session_hours)
            store.audit(s, principal.actor, "signin", "web_session", None)
            return token, principal.role

    opened = await run_in_threadpool(check)
    if opened is None:
        return _signin_page(request, next_, t("signin.bad"), 401)
    token, role = opened
    target = next_ if next_ != "/ui" else home_of(role)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/ui")
    return response


@router.post("/signout")
async def signout(request: Request, ws: AnyViewer) -> Response:
    await form_with_csrf(request, ws)

    def close() -> None:
        with transaction(request.app.state.sessions) as s:
            close_session(s, request.cookies.get(COOKIE, ""))
            store.audit(s, ws.principal.actor, "signout", "web_session", None)

    await run_in_threadpool(close)
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, next: str | None = None) -> Response:  # noqa: A002
    if lang not in LANGS:
        raise NotFound(f"no language {lang!r}; use one of {', '.join(LANGS)}")
    response = RedirectResponse(views.safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response
