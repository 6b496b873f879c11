"""The application factory: settings in, a FastAPI app out (``matcher serve`` runs it)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from . import errors
from .config import Settings, get_settings
from .db import make_db, migrate, session_factory
from .index import IndexHolder
from .limits import BodyLimit
from .ratelimit import RateLimiter
from .routes import admin, batch, companies, feedback, health, scenarios, search
from .ui import routes as ui_routes

logger = logging.getLogger(__name__)


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
        logger.info("service ready")
        try:
            yield
        finally:
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
    app.state.limiter = RateLimiter()
    errors.install(app)
    for module in (health, scenarios, companies, search, feedback, batch, admin):
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
    app.add_middleware(
        BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    return app
