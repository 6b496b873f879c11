"""What every UI page needs: template rendering, security headers, the error page, the
signed-in browser session and the CSRF check on posted forms."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ... import auth
from ...errors import Forbidden, Unauthorized
from .. import views
from ..i18n import DEFAULT_LANG, LANGS, translator
from ..websession import COOKIE, LANG_COOKIE, WebSession, find_session

HERE = Path(__file__).resolve().parent.parent  # service/ui: templates/ and static/
PREFIX = "/ui"
templates = Jinja2Templates(directory=HERE / "templates")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# ------------------------------------------------------------------ rendering
def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def page(
    request: Request,
    name: str,
    context: dict[str, Any],
    viewer: WebSession | None = None,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with the viewer, language and CSRF token, plus security headers."""
    lang = lang_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(lang),
            "lang": lang,
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else "",
            "here": here,
            "here_q": quote(here, safe=""),
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status: int, message: str) -> Response:
    """How the app's error mapping answers a UI request: sign-in for 401, else a page."""
    if status == 401:
        target = "/ui/signin?next=" + quote(views.safe_next(request.url.path), safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    t = translator(lang_of(request))
    shown = t("error.403") if status == 403 and not message else message
    viewer = getattr(request.state, "web_session", None)
    return page(request, "error.html", {"status": status, "message": shown}, viewer, status)


def now_text(t: dt.datetime | None) -> str:
    """A timestamp as the pages show it (UTC, to the minute)."""
    if t is None:
        return ""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["when"] = now_text


# ------------------------------------------------------------------ sessions and CSRF
def web_session(request: Request) -> WebSession:
    token = request.cookies.get(COOKIE, "")
    with request.app.state.sessions() as s:
        found = find_session(s, token) if token else None
    if found is None:
        raise Unauthorized("sign in")
    request.state.web_session = found
    auth.limit_rate(request, found.principal)
    return found


def require(*roles: str) -> Callable[..., WebSession]:
    def dependency(ws: Annotated[WebSession, Depends(web_session)]) -> WebSession:
        if ws.principal.role not in roles:
            raise Forbidden("")
        return ws

    return dependency


AnyViewer = Annotated[WebSession, Depends(require(*auth.ROLES))]
StaffViewer = Annotated[WebSession, Depends(require(*auth.STAFF))]
CompanyViewer = Annotated[WebSession, Depends(require("company"))]
AdminViewer = Annotated[WebSession, Depends(require("admin"))]


async def form_with_csrf(request: Request, ws: WebSession) -> dict[str, str]:
    """The posted form, after checking its CSRF token (form field or htmx header)."""
    form = await request.form()
    sent = request.headers.get("X-CSRF-Token") or str(form.get("csrf") or "")
    if not secrets.compare_digest(sent.encode(), ws.csrf.encode()):
        raise Forbidden("the form's security token is missing or stale: reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}
