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
