"""Library scan state: folders as last read (mtimes) and the issues the scanner reported.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from showkeeper.db.models import UTCDateTime

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("series_folder", sa.String(255), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=True),
        sa.Column("scanned_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name="fk_library_folders_series_id_series",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_library_folders"),
        sa.UniqueConstraint("path", name="uq_library_folders_path"),
    )
    op.create_index("ix_library_folders_series_folder", "library_folders", ["series_folder"])
    op.create_index("ix_library_folders_series_id", "library_folders", ["series_id"])
    op.create_table(
        "library_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("series_folder", sa.String(255), nullable=False),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("found_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_library_issues"),
    )
    op.create_index("ix_library_issues_kind_id", "library_issues", ["kind", "id"])
    op.create_index("ix_library_issues_series_folder", "library_issues", ["series_folder"])
    op.create_index("ix_library_issues_folder", "library_issues", ["folder"])


def downgrade() -> None:
    op.drop_table("library_issues")
    op.drop_table("library_folders")
