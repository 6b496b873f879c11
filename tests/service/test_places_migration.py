"""Migration 0005 fills the canonical city and the folded name for rows that exist, and its
downgrade keeps every firm's versions (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import text


def _alembic(db, fn, revision: str) -> None:
    from alembic.config import Config

    from service.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        cfg.attributes["connection"] = conn
        fn(cfg, revision)


def test_migration_fills_places_for_existing_rows(db_url):
    from alembic import command

    from service.db import make_db

    db = make_db(db_url)
    try:
        _alembic(db, command.upgrade, "0004")
        firms = [
            ("M1", "晉江鞋業有限公司", "晉江市"),
            ("M2", "Jinjiang Shoes", "Jinjiang City"),
            ("M3", "无城市有限公司", None),
            ("M4", "Munich Tools GmbH", "Munich, Germany"),
        ]
        companies = sa.table(
            "companies",
            *(sa.column(c) for c in ("id", "name", "name_key", "current_version")),
            sa.column("created_at", sa.DateTime),
            sa.column("updated_at", sa.DateTime),
        )
        versions = sa.table(
            "company_versions",
            sa.column("company_id"),
            sa.column("version"),
            sa.column("profile", sa.JSON),
            sa.column("actor"),
            sa.column("created_at", sa.DateTime),
        )
        at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        with db.begin() as conn:
            for cid, name, city in firms:
                conn.execute(
                    companies.insert().values(
                        id=cid,
                        name=name,
                        name_key=cid,
                        current_version=2,
                        created_at=at,
                        updated_at=at,
                    )
                )
                for version, where in ((1, "上海市"), (2, city)):
                    profile = {
                        "name": name,
                        "description": "鞋材",
                        **({"city": where} if where else {}),
                    }
                    conn.execute(
                        versions.insert().values(
                            company_id=cid,
                            version=version,
                            profile=profile,
                            actor="test",
                            created_at=at,
                        )
                    )
        _alembic(db, command.upgrade, "head")

        def stored():
            with db.connect() as conn:
                rows = conn.execute(
                    text("SELECT id, name_folded, city_canonical FROM companies ORDER BY id")
                ).all()
            return [tuple(r) for r in rows]

        assert stored() == [
            ("M1", "晋江鞋业有限公司", "福建省/泉州市/晋江市"),  # the current version's city
            ("M2", "jinjiang shoes", "福建省/泉州市/晋江市"),
            ("M3", "无城市有限公司", None),
            ("M4", "munich tools gmbh", "munich,germany"),
        ]
        _alembic(db, command.downgrade, "0004")
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM company_versions")).scalar() == 8
        _alembic(db, command.upgrade, "head")
        assert stored()[0] == ("M1", "晋江鞋业有限公司", "福建省/泉州市/晋江市")
    finally:
        db.dispose()
