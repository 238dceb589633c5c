"""Retention over real files: 200 episodes, both rule kinds, the safety floor, ignored (and
undone), history rows with sizes, companions deleted, and the run after a real download."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db.models import DownloadHistory, Episode, QueueItem
from showkeeper.series.missing import missing_episodes
from tests.integration.downloads.queue_support import serve_directory, wait_until
from tests.integration.downloads.servers import make_media
from tests.integration.library.manage_support import COMPANIONS, downloaded_series, tree

TODAY = datetime.now(UTC).date()


async def _state(db: Any) -> dict[int, tuple[bool, bool, str | None]]:
    async with db.session() as s:
        return {
            e.episode: (e.is_downloaded, e.ignored, e.file_path)
            for e in await s.scalars(select(Episode))
        }


async def test_keep_newest_over_200_episodes(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    # aired on the 200 days before today: episode 200 is the newest
    disk = await downloaded_series(
        db, library_dir, "news", "News", 200, first_aired=TODAY - timedelta(days=201)
    )
    assert (await api.put("/api/series/news/retention", json={"keep_newest": 0})).status_code == 400
    ok = await api.put("/api/series/news/retention", json={"keep_newest": 10})
    assert ok.status_code == 200, ok.text
    assert ok.json()["rule_text"] == "keep the newest 10 (by air date)"

    dry = (await api.get("/api/series/news/retention")).json()["dry_run"]
    assert len(dry["delete"]) == 190 and dry["needs_confirmation"]
    assert {d["episode"] for d in dry["delete"]} == {f"S01E{n:02d}" for n in range(1, 191)}
    assert len(tree(library_dir)) == 600  # a dry run deletes nothing

    floor = await api.post("/api/series/news/retention/run", json={"dry_run": False})
    assert floor.json()["needs_confirmation"] and not floor.json()["applied"]
    assert len(tree(library_dir)) == 600

    run = await api.post("/api/series/news/retention/run", json={"dry_run": False, "confirm": True})
    body = run.json()
    assert body["applied"] and body["freed_bytes"] == 190 * (100 + len(COMPANIONS))
    kept = {
        f"News/Season 01/News - S01E{n:02d}{sfx}"
        for n in range(191, 201)
        for sfx in (".mkv", *COMPANIONS)
    }
    assert set(tree(library_dir)) == kept
    state = await _state(db)
    assert all(state[n] == (False, True, None) for n in range(1, 191))
    assert all(state[n][:2] == (True, False) for n in range(191, 201))
    async with db.session() as s:
        history = list(await s.scalars(select(DownloadHistory).order_by(DownloadHistory.episode)))
    assert len(history) == 190
    assert {(h.status, h.size) for h in history} == {("deleted", 100 + len(COMPANIONS))}
    assert history[0].file_path == disk.files[0]
    assert history[0].error == "retention: beyond the newest 10"

    # ignored episodes are not missing, so they are not downloaded again
    assert await missing_episodes(db, series_key="news") == []
    again = await api.post("/api/series/news/retention/run", json={"dry_run": False})
    assert again.json()["delete"] == []  # steady state: nothing more to do
    undo = await api.post("/api/series/news/unignore", json={"episode_ids": disk.episode_ids[:5]})
    assert undo.json()["unignored"] == 5
    assert [m.episode for m in await missing_episodes(db, series_key="news")] == [1, 2, 3, 4, 5]


async def test_max_age_by_download_date(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    disk = await downloaded_series(db, library_dir, "chan", "Chan", 200, companions=False)
    # episodes 1-100: the history says when they were downloaded (n days ago);
    # 101-200: no history, the file's modification time says it (n - 100 days ago)
    now = datetime.now(UTC)
    async with db.write() as s:
        for n, eid in enumerate(disk.episode_ids[:100], start=1):
            s.add(
                DownloadHistory(
                    episode_id=eid, series_key="chan", season=1, episode=n,
                    status="completed", finished_at=now - timedelta(days=n, hours=1),
                )
            )  # fmt: skip
    for n, rel in enumerate(disk.files[100:], start=1):
        stamp = time.time() - (n * 86400 + 3600)
        os.utime(library_dir / rel, (stamp, stamp))
    await api.put("/api/retention", json={"max_age_days": 30, "by": "downloaded", "max_share": 1})
    assert (await api.get("/api/retention")).json()["max_share"] == 1.0
    series = (await api.get("/api/series/chan/retention")).json()
    assert series["inherit"] and series["effective"]["by"] == "downloaded"
    result = await api.post("/api/retention/run", json={"dry_run": False})
    [body] = result.json()["results"]
    removed = sorted(d["episode"] for d in body["delete"])
    expected = sorted(
        [f"S01E{n:02d}" for n in range(31, 101)] + [f"S01E{n + 100:02d}" for n in range(31, 101)]
    )
    assert removed == expected
    assert len(tree(library_dir)) == 60
    # the series' own rule replaces the global one; inherit goes back
    await api.put("/api/series/chan/retention", json={"keep_newest": 5, "by": "downloaded"})
    assert (await api.get("/api/series/chan/retention")).json()["inherit"] is False
    back = await api.put("/api/series/chan/retention", json={"inherit": True})
    assert back.json()["inherit"] is True and back.json()["effective"]["max_age_days"] == 30


async def test_by_air_date_episodes_outside_the_rule_are_not_downloaded(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    disk = await downloaded_series(
        db, library_dir, "daily", "Daily", 6, first_aired=TODAY - timedelta(days=7)
    )
    async with db.write() as s:  # episodes 1-3 are known but not on disk
        for eid, rel in zip(disk.episode_ids[:3], disk.files[:3], strict=True):
            ep = await s.get(Episode, eid)
            assert ep is not None
            ep.is_downloaded, ep.file_path = False, None
            (library_dir / rel).unlink()
            for sfx in COMPANIONS:
                (library_dir / rel).with_name(Path(rel).stem + sfx).unlink()
    assert len(await missing_episodes(db, series_key="daily")) == 3
    async with db.write() as s:  # one of them is queued already: it would only be deleted
        s.add(QueueItem(episode_id=disk.episode_ids[0], status="queued"))
    await api.put("/api/series/daily/retention", json={"keep_newest": 2})
    body = (await api.post("/api/series/daily/retention/run", json={"dry_run": False})).json()
    assert [d["episode"] for d in body["delete"]] == ["S01E04"]
    assert sorted(d["episode"] for d in body["skip"]) == ["S01E01", "S01E02", "S01E03"]
    assert await missing_episodes(db, series_key="daily") == []
    async with db.session() as s:
        assert list(await s.scalars(select(QueueItem.status))) == ["cancelled"]


async def test_settings_refusals(api: httpx.AsyncClient, app: Any, library_dir: Path) -> None:
    await downloaded_series(app.state.ctx.db, library_dir, "s", "S", 1)
    for body in ({"keep_newest": 0}, {"max_age_days": -1}, {"max_share": 0}, {"max_share": 2}):
        resp = await api.put("/api/retention", json=body)
        assert resp.status_code in (400, 422), body
    zero = await api.put("/api/retention", json={"keep_newest": 0})
    assert "would remove every episode" in zero.json()["detail"]
    assert (await api.get("/api/retention")).json()["keep_newest"] is None
    assert (await api.get("/api/series/nope/retention")).status_code == 404


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"download_workers_in_server": True})


@pytest.mark.slow
async def test_retention_runs_after_a_real_download(
    api: httpx.AsyncClient, app: Any, library_dir: Path, tmp_path: Path
) -> None:
    """A daily channel at keep-newest-2: downloading the newest episode removes the oldest."""
    db = app.state.ctx.db
    media = tmp_path / "media"
    media.mkdir()
    make_media(media / "e4.mp4", seconds=1)
    disk = await downloaded_series(
        db, library_dir, "chan", "Chan", 4, first_aired=TODAY - timedelta(days=5)
    )
    newest = disk.episode_ids[3]
    async with db.write() as s:
        ep = await s.get(Episode, newest)
        assert ep is not None
        ep.is_downloaded, ep.file_path = False, None
    (library_dir / disk.files[3]).unlink()
    await api.put("/api/series/chan/retention", json={"keep_newest": 3})
    with serve_directory(media) as base:
        async with db.write() as s:
            ep = await s.get(Episode, newest)
            assert ep is not None
            ep.candidates = [{"url": f"{base}/e4.mp4"}]
        resp = await api.post("/api/queue/add", json={"episode_ids": [newest]})
        assert resp.status_code == 201, resp.text

        async def trimmed() -> bool:
            state = await _state(db)
            return state[4][0] and state[1][1]

        await wait_until(trimmed, timeout=60)
    state = await _state(db)
    assert state[1] == (False, True, None)
    assert [state[n][:2] for n in (2, 3, 4)] == [(True, False)] * 3
    assert not (library_dir / disk.files[0]).exists()
    assert not any(p.startswith("Chan/Season 01/Chan - S01E01") for p in tree(library_dir))


def test_cli_dry_run_floor_and_confirm(settings: Settings, library_dir: Path) -> None:
    import asyncio

    from typer.testing import CliRunner

    from showkeeper.cli import app as cli
    from showkeeper.context import open_context
    from showkeeper.library.retention import set_series_retention

    async def seed() -> None:
        async with open_context(settings) as ctx:
            await downloaded_series(ctx.db, library_dir, "s", "S", 4, companions=False)
            await set_series_retention(ctx.db, "s", {"keep_newest": 1})

    asyncio.run(seed())
    env = {
        "SHOWKEEPER_DATA_DIR": str(settings.data_dir),
        "SHOWKEEPER_LIBRARY_DIR": str(library_dir),
    }
    runner = CliRunner()
    dry = runner.invoke(cli, ["retention", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "S01E01" in dry.output and "would remove 3 files" in dry.output
    floor = runner.invoke(cli, ["retention", "--series", "s"], env=env)
    assert "more than the safety floor; run with --confirm" in floor.output
    assert len(tree(library_dir)) == 4
    done = runner.invoke(cli, ["retention", "--series", "s", "--confirm"], env=env)
    assert done.exit_code == 0, done.output
    assert "removed 3 files (300 bytes freed)" in done.output
    assert tree(library_dir) == ["S/Season 01/S - S01E04.mkv"]


async def test_the_daily_rescan_job_applies_the_rules(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    from showkeeper.automation.jobs import Jobs

    db = app.state.ctx.db
    await downloaded_series(db, library_dir, "d", "D", 5, first_aired=TODAY - timedelta(days=9))
    await api.put("/api/series/d/retention", json={"keep_newest": 3})
    await Jobs().get("rescan")(app.state.ctx)
    assert sorted(p for p in tree(library_dir) if p.endswith(".mkv")) == [
        f"D/Season 01/D - S01E0{n}.mkv" for n in (3, 4, 5)
    ]
    state = await _state(db)
    assert [state[n][1] for n in range(1, 6)] == [True, True, False, False, False]
