"""The SQLite database file holds contacts: owner-only, as the index folder is."""

from __future__ import annotations

import stat

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from service.db import make_db, migrate, transaction


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_file_and_its_wal_and_shm_are_created_owner_only(tmp_path):
    """They were 0644 (readable by every local user) while the index folder was 0700."""
    path = tmp_path / "var" / "matcher.db"
    db = make_db(f"sqlite:///{path}")
    try:
        migrate(db)
        with db.connect() as held:  # an open connection keeps the -wal and -shm files
            held.execute(text("SELECT 1"))
            with transaction(sessionmaker(db)) as s:
                s.execute(text("CREATE TABLE probe (x INTEGER)"))
                s.execute(text("INSERT INTO probe VALUES (1)"))
            files = [path, path.with_name("matcher.db-wal"), path.with_name("matcher.db-shm")]
            assert all(f.exists() for f in files)
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        db.dispose()


def test_an_existing_world_readable_file_is_narrowed(tmp_path):
    path = tmp_path / "matcher.db"
    db = make_db(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    path.chmod(0o644)  # as an earlier version made it
    db = make_db(f"sqlite:///{path}")
    try:
        assert _mode(path) == 0o600
        with db.connect() as conn:  # and it is still the same database
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        db.dispose()


def test_a_checkpoint_never_holds_a_writer_behind_an_open_reader(tmp_path):
    """A request reads in its own session (a read transaction held open) and writes through
    another; an erasure's ``wal_checkpoint(TRUNCATE)`` started in between blocks new writers
    while it waits for that reader, so with the 30 s busy timeout the write failed after 30 s
    (503 "database unavailable" in CI) and the checkpoint did not finish either. The
    checkpoint now waits briefly, gives up (the WAL is truncated later) and lets the write in."""
    import threading
    import time

    from service.db import checkpoint

    db = make_db(f"sqlite:///{tmp_path / 'matcher.db'}")
    factory = sessionmaker(db)
    try:
        with transaction(factory) as s:
            s.execute(text("CREATE TABLE probe (x INTEGER)"))
            s.execute(text("INSERT INTO probe VALUES (1)"))
        with factory() as reader:
            reader.execute(text("SELECT count(*) FROM probe")).scalar()  # snapshot held
            with transaction(factory) as s:  # a commit after it: the WAL has newer frames
                s.execute(text("INSERT INTO probe VALUES (2)"))
            results: dict[str, object] = {}
            cp = threading.Thread(target=lambda: results.update(cp=checkpoint(factory)))
            cp.start()
            time.sleep(0.05)  # the checkpoint is waiting for the reader now

            def write() -> None:
                with transaction(factory) as s:
                    s.execute(text("INSERT INTO probe VALUES (3)"))
                results["write"] = True

            w = threading.Thread(target=write)
            w.start()
            w.join(timeout=10)
            assert not w.is_alive() and results.get("write") is True
            cp.join(timeout=10)
            assert results["cp"] is False  # busy: the reader still reads an older snapshot
        assert checkpoint(factory) is True  # no reader left: the log is emptied
        with factory() as s:  # the pooled connection keeps its 30 s busy timeout
            assert s.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        db.dispose()
