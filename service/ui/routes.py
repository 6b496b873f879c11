"""The web UI's pages: thin adapters over the same store and engine calls as the JSON API.

Every page needs a signed-in browser session (``websession``); forms and htmx requests carry
the session's CSRF token. Errors reach ``error_page`` through the app's one error mapping.
Each page group has its own router in ``service/ui/pages/``; ``router`` holds their routes in
the order below.
"""

from __future__ import annotations

from fastapi import APIRouter

from .pages import admin, catalogue, home, pipeline, portal, runs, scenarios, search
from .pages.common import HERE, PREFIX, SECURITY_HEADERS, error_page

__all__ = ["HERE", "PAGES", "SECURITY_HEADERS", "error_page", "router"]

PAGES = (home, catalogue, scenarios, pipeline, search, portal, runs, admin)

router = APIRouter(prefix=PREFIX, include_in_schema=False)
for _page in PAGES:
    # The routes themselves, not ``include_router``: recent FastAPI keeps an included router
    # as one nested entry, and ``router.routes`` should list every UI route (a test reads it).
    router.routes.extend(_page.router.routes)
