"""company places: the city's divisions and the folded name beside what the firm wrote

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:30:00.000000

``companies.city_canonical`` holds the divisions the current profile's city resolves to
(``matcher.places``: ``福建省/泉州市/晋江市``, ``|`` between the meanings of an ambiguous alias,
the folded form of a place the table does not know); ``companies.name_folded`` the name folded
as ``GET /companies?q=`` compares it (NFKC, traditional → simplified, lower case). Both are
filled here for the rows that exist, in pages of firms by id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PAGE = 5000


def upgrade() -> None:
    # columns added in place (a copy of the table on SQLite would cascade to the versions)
    with op.batch_alter_table("companies", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("name_folded", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("city_canonical", sa.Text(), nullable=True))
    fill(op.get_bind())


def fill(conn: sa.Connection) -> int:
    """Fill both columns for every stored firm from its current version; returns the count."""
    from matcher.normalise import normalise
    from matcher.places import resolve

    companies = sa.table(
        "companies",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("current_version", sa.Integer),
        sa.column("name_folded", sa.String),
        sa.column("city_canonical", sa.Text),
    )
    versions = sa.table(
        "company_versions",
        sa.column("company_id", sa.String),
        sa.column("version", sa.Integer),
        sa.column("profile", sa.JSON),
    )
    update = (
        companies.update()
        .where(companies.c.id == sa.bindparam("b_id"))
        .values(name_folded=sa.bindparam("b_name"), city_canonical=sa.bindparam("b_city"))
    )
    done, last = 0, ""
    while True:
        page = conn.execute(
            sa.select(companies.c.id, companies.c.name, versions.c.profile)
            .join(
                versions,
                (versions.c.company_id == companies.c.id)
                & (versions.c.version == companies.c.current_version),
            )
            .where(companies.c.id > last)
            .order_by(companies.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            return done
        rows = []
        for cid, name, profile in page:
            city = str((profile or {}).get("city") or "").strip()
            rows.append(
                {
                    "b_id": cid,
                    "b_name": normalise(name or "").lower()[:300],
                    "b_city": resolve(city).canonical if city else None,
                }
            )
        conn.execute(update, rows)
        done += len(rows)
        last = page[-1][0]


def downgrade() -> None:
    # never a copy of the table on SQLite: dropping the old one would cascade to the versions
    # (foreign keys are on); SQLite 3.35+ drops columns in place
    with op.batch_alter_table("companies", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("city_canonical")
        batch_op.drop_column("name_folded")
