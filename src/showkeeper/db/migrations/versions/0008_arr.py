"""Tags (Sonarr v3 compatible API): labels, and which series carry them.

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("label", name="uq_tags_label"),
    )
    op.create_table(
        "series_tags",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name="fk_series_tags_series_id_series", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], name="fk_series_tags_tag_id_tags", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("series_id", "tag_id", name="pk_series_tags"),
    )
    op.create_index("ix_series_tags_tag_id", "series_tags", ["tag_id"])


def downgrade() -> None:
    op.drop_index("ix_series_tags_tag_id", table_name="series_tags")
    op.drop_table("series_tags")
    op.drop_table("tags")
