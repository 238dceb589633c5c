"""Metadata: the TMDB match, the loader's step, flags and times, episode plots and thumbs.

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = ("episodes_loaded", "has_nfo", "logo_loaded", "images_loaded")


def upgrade() -> None:
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("tmdb_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tmdb_match", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("metadata_status", sa.String(length=40), nullable=True))
        for flag in FLAGS:
            batch.add_column(
                sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        batch.add_column(sa.Column("loading_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("loading_completed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("metadata_errors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("artwork", sa.JSON(), nullable=True))
    with op.batch_alter_table("episodes") as batch:
        batch.add_column(sa.Column("overview", sa.Text(), nullable=True))
        batch.add_column(sa.Column("image_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tmdb_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("episodes") as batch:
        for name in ("tmdb_id", "image_url", "overview"):
            batch.drop_column(name)
    with op.batch_alter_table("series") as batch:
        for name in (
            "artwork",
            "metadata_errors",
            "loading_completed_at",
            "loading_started_at",
            *reversed(FLAGS),
            "metadata_status",
            "tmdb_match",
            "tmdb_id",
        ):
            batch.drop_column(name)
