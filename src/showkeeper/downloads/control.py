"""The global queue state (running / paused / stopped), persisted in SystemSetting.

It lives in the database so it survives restarts and every worker process sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import select

from showkeeper.db import Database
from showkeeper.db.models import SystemSetting
from showkeeper.domain.queue_rules import (
    DEFAULT_STATE,
    QUEUE_STATES,
    QueueCommand,
    QueueState,
    apply_command,
)
from showkeeper.downloads.tables import dialect_insert, utc_now

STATE_KEY = "queue_state"


async def get_state(db: Database) -> QueueState:
    """The current global queue state (running when never set)."""
    async with db.session() as s:
        value = await s.scalar(select(SystemSetting.value).where(SystemSetting.key == STATE_KEY))
    state = value.get("state") if isinstance(value, dict) else None
    return cast(QueueState, state) if state in QUEUE_STATES else DEFAULT_STATE


async def command(db: Database, cmd: QueueCommand, *, now: datetime | None = None) -> QueueState:
    """Apply start/stop/pause/resume and persist the new state; returns it."""
    now = utc_now(now)
    table = SystemSetting.__table__
    async with db.write() as s:
        value = await s.scalar(select(SystemSetting.value).where(SystemSetting.key == STATE_KEY))
        current = value.get("state") if isinstance(value, dict) else None
        old = cast(QueueState, current) if current in QUEUE_STATES else DEFAULT_STATE
        new = apply_command(old, cmd)
        stmt = dialect_insert(s, table)  # type: ignore[arg-type]
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        await s.execute(
            stmt,
            [
                {
                    "key": STATE_KEY,
                    "value": {"state": new, "changed_at": now.isoformat()},
                    "updated_at": now,
                }
            ],
        )
    return new
