"""The missing-episodes query finds active queue rows through the partial unique index
(SQLite can only use it when the status values are literals, not bound parameters)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from showkeeper.context import AppContext
from showkeeper.db.models import QueueItem
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series, episodes


async def test_missing_uses_the_active_queue_index(ctx: AppContext) -> None:
    await add_series(ctx.db, "show", "Show", [Ep(1, n) for n in range(1, 6)])
    ids = {k: v["id"] for k, v in (await episodes(ctx.db)).items()}
    async with ctx.db.write() as s:
        s.add(QueueItem(episode_id=ids[("show", 1, 2)], status="queued"))
        s.add(QueueItem(episode_id=ids[("show", 1, 3)], status="downloading"))
        s.add(QueueItem(episode_id=ids[("show", 1, 4)], status="failed"))

    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "download_queue" in statement:
            seen.append((statement, params))

    engine = ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        missing = await missing_episodes(ctx.db, series_key="show")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [m.episode for m in missing] == [1, 4, 5]

    assert len(seen) == 1
    statement, params = seen[0]
    async with ctx.db.session() as s:
        conn = await s.connection()
        raw = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
        plan = " | ".join(str(row[-1]) for row in raw)
    assert "uq_download_queue_active_episode" in plan, plan
    assert "SCAN download_queue" not in plan, plan
