"""Service fixtures: one app per database backend (SQLite always, PostgreSQL when configured).

PostgreSQL tests run when ``MATCHER_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it) and then
must pass: an unreachable server fails them. Each module gets a fresh database on that server.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import FIXTURES

PG_ENV = "MATCHER_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgres"]


@dataclass
class Keys:
    admin: str
    recruiter: str
    company: str  # speaks for firm T01
    other_company: str  # speaks for a firm not yet registered ("NEW1")

    def header(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        return {"Authorization": f"Bearer {getattr(self, role)}"}


def _pg_database(tag: str) -> Iterator[str]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests skipped: set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"matcher_{tag}_{secrets.token_hex(4)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - the variable is set, so this must not skip
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'matcher.db'}"
    else:
        yield from _pg_database(request.module.__name__.rsplit(".", 1)[-1][:20])


def matcher_env(db_url: str, folder: Path, cache_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``matcher`` process (CLI or server) on ``db_url``, its index in
    ``folder`` and the test fixtures as seed."""
    env = dict(os.environ)
    env.update(
        MATCHER_DATABASE_URL=db_url,
        MATCHER_INDEX_DIR=str(folder / "index"),
        MATCHER_CACHE_DIR=str(cache_dir),
        MATCHER_SEED_CATALOGUE=str(FIXTURES / "catalogue_small.yaml"),
        MATCHER_SEED_COMPANIES=str(FIXTURES / "companies.jsonl"),
        HF_HUB_OFFLINE="1",
        **extra,
    )
    return env


def make_settings(db_url: str, folder: Path, cache_dir: Path, **kw):
    from service.config import Settings

    values = dict(
        database_url=db_url,
        index_dir=folder / "index",
        cache_dir=cache_dir,
        seed_catalogue=FIXTURES / "catalogue_small.yaml",
        seed_companies=FIXTURES / "companies.jsonl",
        save_delay_s=0.0,
        batch_dir=folder / "batch",
        models_dir=folder / "models",
        batch_top_n=5,
        batch_block_size=5,
        rate_limit=1_000_000,  # suites send hundreds of requests a minute per key
    )
    values.update(kw)
    return Settings(_env_file=None, **values)


def make_keys(app) -> Keys:
    from service import auth
    from service.db import transaction

    made = {}
    with transaction(app.state.sessions) as s:
        for role, company in (
            ("admin", None),
            ("recruiter", None),
            ("company", "T01"),
            ("other_company", "NEW1"),
        ):
            _, made[role] = auth.create_key(s, "company" if company else role, company)
    return Keys(**made)


@pytest.fixture(scope="module")
def service(db_url: str, tmp_path_factory: pytest.TempPathFactory, cache_dir: Path):
    """A running app (lifespan entered) with one key per role."""
    from fastapi.testclient import TestClient

    from service.app import create_app

    folder = tmp_path_factory.mktemp("service")
    app = create_app(make_settings(db_url, folder, cache_dir))
    with TestClient(app) as client:
        yield client, make_keys(app)


@pytest.fixture
def client(service):
    return service[0]


@pytest.fixture
def keys(service) -> Keys:
    return service[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app, timeout_s: float = 300) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
