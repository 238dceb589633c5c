"""Library management: ignored episodes, per-series naming/retention, the rename journal.

Revision ID: 0010
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from showkeeper.db.models import UTCDateTime

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(
            sa.Column("ignored", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "series_library_rules",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("naming", sa.JSON(), nullable=False),
        sa.Column("retention", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name="fk_series_library_rules_series_id_series",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", name="pk_series_library_rules"),
    )
    op.create_table(
        "rename_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("old_folder", sa.String(255), nullable=False),
        sa.Column("new_folder", sa.String(255), nullable=False),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("episodes", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name="fk_rename_batches_series_id_series",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_rename_batches"),
    )
    op.create_index("ix_rename_batches_series_id", "rename_batches", ["series_id"])


def downgrade() -> None:
    op.drop_index("ix_rename_batches_series_id", table_name="rename_batches")
    op.drop_table("rename_batches")
    op.drop_table("series_library_rules")
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("ignored")
