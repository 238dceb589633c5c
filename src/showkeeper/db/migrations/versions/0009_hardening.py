"""Hardening: login attempts reserved before the password check (shared by every process);
download workers that hold a liveness lock (PostgreSQL: dead workers found in seconds);
per-host download limits shared by every worker process.

Revision ID: 0009
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from showkeeper.db.models import UTCDateTime

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_key", "login_attempts", ["key"])
    op.create_table(
        "download_workers",
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_download_workers"),
    )
    op.create_table(
        "download_host_limits",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.Column("delay_s", sa.Float(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_download_host_limits"),
    )


def downgrade() -> None:
    op.drop_table("download_host_limits")
    op.drop_table("download_workers")
    op.drop_table("login_attempts")
