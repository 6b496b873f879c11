"""Request body size limits, enforced while the body streams in (before parsing)."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException

UPLOAD_PATHS = ("/scenarios/upload", "/companies/import")


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
