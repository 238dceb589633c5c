"""Episodes without download candidates (imported from a legacy library ``data`` file) are
not queued by enqueue_missing or /api/queue/add; they are counted as skipped instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from structlog.testing import capture_logs

from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.downloads.service import enqueue_missing
from showkeeper.library.service import run_scan
from tests.integration.downloads.queue_support import add_series


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"download_workers_in_server": False})


def legacy_folder(library_dir: Path) -> None:
    """A folder of the old tool: a key file, a data file listing S01E01-03, S01E01 on disk."""
    folder = library_dir / "Legacy Show (2019)"
    (folder / "Season 01").mkdir(parents=True)
    (folder / "Season 01" / "Legacy Show S01E01.mp4").write_bytes(b"\0" * 64)
    (folder / "key").write_text("legacy-show\n")
    (folder / "data").write_text(
        '{"key": "legacy-show", "name": "Legacy Show", "folder": "Legacy Show (2019)",'
        ' "episodeDict": {"1": [1, 2, 3]}}'
    )


async def queued_episodes(db) -> list[tuple[str, int]]:
    async with db.session() as s:
        rows = await s.execute(
            select(Series.key, Episode.episode)
            .join(Episode, Episode.series_id == Series.id)
            .join(QueueItem, QueueItem.episode_id == Episode.id)
            .order_by(Series.key, Episode.episode)
        )
        return [(key, n) for key, n in rows]


async def test_enqueue_missing_skips_episodes_without_candidates(app, library_dir) -> None:
    ctx = app.state.ctx
    legacy_folder(library_dir)
    result = await run_scan(ctx)
    assert result.stats.series_created == 1
    await add_series(
        ctx.db, "fed", [(1, n, [{"url": f"http://m.example/{n}.mp4"}]) for n in (1, 2)]
    )

    with capture_logs() as logs:
        assert await enqueue_missing(ctx) == 2
    assert await queued_episodes(ctx.db) == [("fed", 1), ("fed", 2)]
    skipped = [e for e in logs if "skipped_no_candidates" in e]
    assert [e["skipped_no_candidates"] for e in skipped] == [2]  # legacy S01E02, S01E03

    # A refresh that finds S01E03 at the source gives it a candidate: now it is queued.
    async with ctx.db.write() as s:
        await s.execute(
            update(Episode)
            .where(Episode.episode == 3, Episode.candidates == [])
            .values(candidates=[{"url": "http://m.example/legacy3.mp4"}])
        )
    assert await enqueue_missing(ctx) == 1
    assert ("legacy-show", 3) in await queued_episodes(ctx.db)
    assert ("legacy-show", 2) not in await queued_episodes(ctx.db)


async def test_queue_add_reports_skipped_episodes(api, app, library_dir) -> None:
    ctx = app.state.ctx
    legacy_folder(library_dir)
    await run_scan(ctx)
    missing = (await api.get("/api/library/missing", params={"series_key": "legacy-show"})).json()
    assert [m["episode"] for m in missing["items"]] == [2, 3]  # missing, though not downloadable

    resp = await api.post("/api/queue/add", json={"series_key": "legacy-show", "missing": True})
    assert resp.status_code == 201, resp.text
    assert resp.json() == {
        "added": 0,
        "item_ids": [],
        "already_queued": [],
        "skipped_no_candidates": 2,
    }
    every = await api.post("/api/queue/add", json={"series_key": "legacy-show", "missing": False})
    assert every.json()["added"] == 0 and every.json()["skipped_no_candidates"] == 2
    status = (await api.get("/api/queue/status")).json()
    assert sum(status["counts"].values()) == 0  # nothing queued that could only fail

    await add_series(ctx.db, "fed", [(1, 1, [{"url": "http://m.example/1.mp4"}])])
    fed = await api.post("/api/queue/add", json={"series_key": "fed", "missing": True})
    assert fed.json()["added"] == 1 and fed.json()["skipped_no_candidates"] == 0
