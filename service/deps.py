"""Shared route dependencies as type aliases (``SessionDep``, ``HolderDep``, ``SettingsDep``).

Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in its
thread pool, one thread hop per dependency per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from .config import Settings
from .index import IndexHolder


def _session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


async def _holder(request: Request) -> IndexHolder:
    holder: IndexHolder = request.app.state.holder
    return holder


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(_session)]
HolderDep = Annotated[IndexHolder, Depends(_holder)]
SettingsDep = Annotated[Settings, Depends(_settings)]
