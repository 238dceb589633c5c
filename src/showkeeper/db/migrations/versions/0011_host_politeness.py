"""Adaptive host politeness: a source host's halved limit and pause after a 429/503 (or
repeated timeouts), shared by every worker process's claim.

Revises 0004, which created download_hosts (the other revisions branch from 0001; the app
upgrades to heads).

Revision ID: 0011
Revises: 0004
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from showkeeper.db.models import UTCDateTime

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("download_hosts") as batch:
        batch.add_column(sa.Column("throttle_limit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("throttle_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("timed_out_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("download_hosts") as batch:
        batch.drop_column("timed_out_at")
        batch.drop_column("throttle_until")
        batch.drop_column("throttle_limit")
