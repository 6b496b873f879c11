"""Service errors and the one place where every domain error becomes an HTTP response."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import DataError as DbDataError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.errors import (
    ConfigError,
    DataError,
    MatcherError,
    NotFittedError,
    ScenarioClosedError,
    UnknownIdError,
)

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error with an HTTP status and a message that names the problem and the fix."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthorized(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooLarge(ServiceError):
    status = 413


class Invalid(ServiceError):
    status = 422


class TooManyRequests(ServiceError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    status = 503


_MATCHER_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (UnknownIdError, 404),
    (ScenarioClosedError, 409),
    (NotFittedError, 503),
    (DataError, 422),
    (ConfigError, 422),
)


def _body(message: str, field: str | None = None) -> dict[str, object]:
    detail: dict[str, object] = {"message": message}
    if field:
        detail["field"] = field
    return {"detail": detail}


def status_of(exc: Exception) -> int:
    if isinstance(exc, ServiceError):
        return exc.status
    for kind, status in _MATCHER_STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def _reply(
    request: Request,
    status: int,
    body: Mapping[str, object],
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON for the API; for web UI paths, the page the UI registered (``error_page``)."""
    page = getattr(request.app.state, "error_page", None)
    path = request.url.path
    if page is not None and (path == "/ui" or path.startswith("/ui/")):
        detail = body.get("detail")
        message = str(detail.get("message", "")) if isinstance(detail, dict) else str(detail)
        response: Response = page(request, status, message)
        return response
    return JSONResponse(dict(body), status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers: service and engine errors, validation, database outages."""

    async def service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return _reply(request, exc.status, _body(exc.message, exc.field), headers)

    async def matcher_error(request: Request, exc: Exception) -> Response:
        return _reply(request, status_of(exc), _body(str(exc)))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, (RequestValidationError, ValidationError))
        problems = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            problems.append({"field": ".".join(loc) or "body", "problem": err.get("msg", "")})
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems[:5])
        return _reply(
            request,
            422,
            {"detail": {"message": message or "invalid request", "errors": problems}},
        )

    async def database_error(request: Request, exc: Exception) -> Response:
        # the driver's own words ("database is locked", "connection refused"), never the SQL
        # statement or its parameters, which SQLAlchemy's message carries and may hold contacts
        why = str(getattr(exc, "orig", "") or "").splitlines()[:1]
        logger.warning("database unavailable: %s %s", exc.__class__.__name__, "".join(why)[:200])
        return _reply(
            request,
            503,
            _body("the database is unavailable; try again in a moment"),
            {"Retry-After": "5"},
        )

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(MatcherError, matcher_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(ValidationError, validation_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(InterfaceError, database_error)

    async def integrity_error(request: Request, exc: Exception) -> Response:
        logger.info("write conflict: %s", exc.__class__.__name__)
        return _reply(
            request, 409, _body("another request changed the same record at the same time; retry")
        )

    app.add_exception_handler(IntegrityError, integrity_error)

    async def value_error(request: Request, exc: Exception) -> Response:
        logger.info("value refused by the database: %s", exc.__class__.__name__)
        return _reply(
            request, 422, _body("a value cannot be stored: invalid characters or out of range")
        )

    app.add_exception_handler(DbDataError, value_error)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail
        if exc.status_code == 400 and isinstance(detail, str) and "parsing the body" in detail:
            detail = "the body could not be read: send UTF-8 JSON (or a multipart upload)"
        body = {"detail": detail if isinstance(detail, dict) else {"message": str(detail)}}
        return _reply(request, exc.status_code, body, getattr(exc, "headers", None))

    app.add_exception_handler(StarletteHTTPException, http_error)
