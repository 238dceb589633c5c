"""Download workers: per-host bookkeeping for the politeness delay between downloads.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from showkeeper.db.models import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_hosts",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("last_activity_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_download_hosts"),
    )


def downgrade() -> None:
    op.drop_table("download_hosts")
