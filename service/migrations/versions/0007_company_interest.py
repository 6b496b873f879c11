"""company_interest: a company's "interested" mark on a scenario, kept apart from feedback

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_interest",
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenarios.id"]),
        sa.PrimaryKeyConstraint("scenario_id", "company_id"),
    )
    with op.batch_alter_table("company_interest", schema=None) as batch_op:
        batch_op.create_index("ix_company_interest_company", ["company_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("company_interest", schema=None) as batch_op:
        batch_op.drop_index("ix_company_interest_company")
    op.drop_table("company_interest")
