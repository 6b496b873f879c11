"""The application factory: settings in, a FastAPI app out (``matcher serve`` runs it)."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import errors
from .config import Settings, get_settings
from .db import make_db, migrate, session_factory
from .import_jobs import ImportRunner
from .index import IndexHolder
from .limits import BodyLimit, HeavyRequests
from .ratelimit import InFlight, make_limiter
from .routes import admin, batch, companies, feedback, health, interest, pipeline, scenarios, search
from .ui import routes as ui_routes

logger = logging.getLogger(__name__)

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def docs_csp(html: bytes) -> str:
    """The UI's Content-Security-Policy for a docs page, its own inline scripts allowed by
    hash (Swagger UI starts from one; anything injected into the page would not run)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    csp = ui_routes.SECURITY_HEADERS["Content-Security-Policy"]
    # ReDoc runs its search index in a worker it builds from a blob: URL
    return csp.replace("script-src 'self'", f"script-src 'self' {hashes}".rstrip()).replace(
        "; frame-ancestors", "; worker-src 'self' blob:; frame-ancestors"
    )


class DocsHeaders:
    """ASGI middleware: ``/docs`` and ``/redoc`` (fastapi-offline's pages) get the UI's
    security headers (CSP, X-Frame-Options, nosniff, …), so the API docs cannot be framed or
    made to run scripts they do not ship."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in DOCS_PATHS:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            headers = MutableHeaders(scope=start)
            headers.update(ui_routes.SECURITY_HEADERS)
            headers["Content-Security-Policy"] = docs_csp(bytes(body))
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})

        await self.app(scope, receive, buffered)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the database is migrated and the index loaded or repaired at start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = make_db(settings.database_url)
        migrate(db)
        sessions = session_factory(db)
        holder = IndexHolder(settings, sessions)
        holder.start()
        app.state.sessions = sessions
        app.state.holder = holder
        app.state.db = db
        app.state.import_runner = ImportRunner(holder)  # background company imports
        app.state.import_runner.start()
        logger.info("service ready")
        try:
            yield
        finally:
            app.state.import_runner.stop()
            holder.stop()
            db.dispose()

    # API docs with Swagger UI served from the package, not a CDN (intranets have no internet)
    app = FastAPIOffline(
        title="scenario-matcher",
        version="0.1.0",
        summary="Matches a development zone's investment scenarios with company profiles.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limiter = make_limiter(settings.redis_url, settings.redis_prefix)
    app.state.in_flight = InFlight(settings.heavy_per_key, settings.heavy_total)
    errors.install(app)
    for module in (
        health,
        scenarios,
        interest,
        companies,
        search,
        feedback,
        pipeline,
        batch,
        admin,
    ):
        app.include_router(module.router)
    app.include_router(ui_routes.router)
    app.mount("/static", StaticFiles(directory=ui_routes.HERE / "static"), name="static")
    app.state.error_page = ui_routes.error_page

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=303)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(  # inside BodyLimit, which bounds the search body it reads
        HeavyRequests, in_flight=app.state.in_flight, max_light=settings.heavy_results
    )
    app.add_middleware(
        BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    app.add_middleware(DocsHeaders)
    return app
