"""Database engine, sessions and migrations (Alembic, run at start)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as DbEngine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


WRITE = "matcher_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def make_db(url: str) -> DbEngine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout, enforced foreign keys, secure
    deletion (erased rows are overwritten, not left in free pages) and real transactions.

    pysqlite opens transactions itself, lazily, and not before a ``SAVEPOINT``: a transaction
    whose first statement was a savepoint committed its rows when the savepoint was released,
    even if the transaction was then rolled back (a failed import kept part of its rows). As
    SQLAlchemy documents for pysqlite, the driver's own transaction handling is switched off
    and ``BEGIN`` is emitted on SQLAlchemy's ``begin`` event: ``BEGIN IMMEDIATE`` for writers
    (:func:`transaction`, :func:`writing`), so a writer waits for the write lock up front (the
    busy timeout applies) instead of failing when it upgrades from reading.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            # owner only, as the index folder is (it holds contacts): created 0600 before
            # SQLite opens it, whose -wal and -shm files then take the same mode; a file an
            # earlier version made 0644 is narrowed
            if not path.exists():
                path.touch(mode=0o600, exist_ok=True)
            for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                try:
                    if f.exists() and f.stat().st_mode & 0o077:
                        f.chmod(0o600)
                except OSError as exc:  # another user's file: leave it, say so
                    logger.warning("could not make %s owner-only: %s", f, exc)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    db = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(db, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's begin event opens transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(db, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(WRITE)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return db


def migrate(db: DbEngine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def session_factory(db: DbEngine) -> sessionmaker[Session]:
    return sessionmaker(db, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One writing session, committed at the end or rolled back (all of it) on any error."""
    with factory() as session, writing(session):
        yield session


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """A write transaction on a fresh ``session``: all of it commits, or none of it."""
    with session.begin():
        session.connection(execution_options={WRITE: True})
        yield session


CHECKPOINT_WAIT_MS = 200  # how long a checkpoint waits for readers before giving up for now


def checkpoint(factory: sessionmaker[Session]) -> bool:
    """SQLite: copy the write-ahead log into the database file and truncate it, so pages
    an erasure overwrote (``secure_delete``) leave no older copy in ``-wal``. Returns whether
    the log was emptied; False while a reader still reads an older snapshot (the caller
    tries again later).

    ``wal_checkpoint(TRUNCATE)`` blocks new writers while it waits for readers: with the
    connection's 30 s busy timeout a request that holds a read transaction and writes
    through another session (the portal does) waited 30 s for it and failed. The checkpoint
    waits :data:`CHECKPOINT_WAIT_MS` at most, then copies what it can and returns busy."""
    bind = factory.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return True
    raw = bind.raw_connection()
    conn = raw.driver_connection
    try:
        (before,) = conn.execute("PRAGMA busy_timeout").fetchone()
        conn.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(before)}")
        return not busy
    finally:
        raw.close()
