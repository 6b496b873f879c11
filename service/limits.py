"""Request limits applied around the app: body sizes, enforced while the body streams in
(before parsing), and heavy requests in flight per key (``HeavyRequests``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException

from .errors import TooManyRequests
from .ratelimit import InFlight

UPLOAD_PATHS = ("/scenarios/upload", "/companies/import", "/admin/imports")
EXPORT_SUFFIXES = (".csv", ".xlsx")
HEAVY_SCOPE_KEY = "matcher.heavy"
HEAVY_RETRY_S = 5
HEAVY_KINDS = "exports, imports, catalogue uploads, large searches"


class BodyLimit:
    """ASGI middleware: 413 when a body exceeds its limit (uploads have a larger one)."""

    def __init__(self, app: Any, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith(UPLOAD_PATHS) else self.max_body
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _too_large(send, limit)
                    return
        seen = 0
        responded = False

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not responded:
                await _too_large(send, limit)


class _BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTP exceptions met while reading a body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit is {limit} bytes")


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {"detail": {"message": f"request body too large: the limit is {limit} bytes"}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeavySlot:
    """A heavy request's claim on ``InFlight``, taken once its key is known (``take``, from
    the authentication dependency) and given back when the response has been sent."""

    def __init__(self, kind: str, in_flight: InFlight) -> None:
        self.kind = kind
        self.in_flight = in_flight
        self.key_id: int | None = None

    def take(self, key_id: int) -> None:
        """Hold a slot for ``key_id``, or raise 429 when its cap or the service's is full."""
        if self.key_id is not None:
            return
        full = self.in_flight.enter(key_id)
        if full is None:
            self.key_id = key_id
            return
        n = self.in_flight.per_key if full == "key" else self.in_flight.total
        running = f"{n} heavy request{'' if n == 1 else 's'} ({HEAVY_KINDS})"
        if full == "key":
            raise TooManyRequests(
                f"this key already has {running} in progress; wait for "
                f"{'it' if n == 1 else 'one'} to finish and retry in {HEAVY_RETRY_S} s",
                HEAVY_RETRY_S,
            )
        raise TooManyRequests(
            f"the service is running {running}; retry in {HEAVY_RETRY_S} s", HEAVY_RETRY_S
        )

    def release(self) -> None:
        if self.key_id is not None:
            self.in_flight.leave(self.key_id)
            self.key_id = None


def _results(values: dict[str, Any]) -> int:
    """How many results a request asks for: ``top_k`` × ``page`` (0 when not numbers)."""

    def number(name: str, default: int) -> int:
        v = values.get(name, default)
        v = v[0] if isinstance(v, list) and v else v
        try:
            return max(int(v), 0)
        except (TypeError, ValueError):
            return 0

    return number("top_k", 20) * max(number("page", 1), 1)


def heavy_kind(method: str, path: str, query: bytes, max_light: int) -> str | None:
    """Why a request is heavy by its line alone (``"upload"``, ``"export"``, ``"search"``),
    or None. ``POST /search`` carries ``top_k`` in its body: ``HeavyRequests`` reads it."""
    if method == "POST" and path.endswith(UPLOAD_PATHS):
        return "upload"
    if path.endswith(EXPORT_SUFFIXES):
        return "export"
    if query and b"top_k" in query:
        if _results(parse_qs(query.decode("latin-1"))) > max_light:
            return "search"
    return None


class HeavyRequests:
    """ASGI middleware: marks heavy requests (``heavy_kind``) with a ``HeavySlot`` in the scope;
    ``service.auth.limit_rate`` takes it for the request's key, and it is given back when the
    app has sent the whole response (a streamed export included)."""

    def __init__(self, app: Any, in_flight: InFlight, max_light: int) -> None:
        self.app = app
        self.in_flight = in_flight
        self.max_light = max_light

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        kind = heavy_kind(method, path, scope.get("query_string", b""), self.max_light)
        if kind is None and method == "POST" and path == "/search":
            receive, asked = await _peek_json(receive)
            if asked is not None and _results(asked) > self.max_light:
                kind = "search"
        if kind is None:
            await self.app(scope, receive, send)
            return
        slot = HeavySlot(kind, self.in_flight)
        scope[HEAVY_SCOPE_KEY] = slot
        try:
            await self.app(scope, receive, send)
        finally:
            slot.release()


async def _peek_json(receive: Any) -> tuple[Any, dict[str, Any] | None]:
    """Read a (size-limited: ``BodyLimit`` runs outside) body and return a ``receive`` that
    replays it, with the body parsed as a JSON object (None if it is not one)."""
    messages = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # the route answers it properly
        doc = None

    async def replay() -> Any:
        return messages.pop(0) if messages else await receive()

    return replay, doc if isinstance(doc, dict) else None
