"""Item 9: a very long title gives names that leave room for every companion file
(``.part``, ``.part.state.tmp``, NFO and artwork temp files), a clean-up error after the
commit never fails the item, and the database and the disk agree afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from showkeeper.db.models import Episode, QueueItem
from showkeeper.domain.paths import COMPANION_SUFFIX_BYTES, NAME_MAX_BYTES
from showkeeper.downloads import foreground, service
from tests.conftest import stray_files
from tests.integration.downloads.queue_support import add_series, wait_until
from tests.integration.downloads.servers import MediaServer, Resource, make_media

TITLES = ["A" * 1000, "é" * 1000, "日本語のタイトル" * 120]
KINDS = [("mp4", "video/mp4"), ("ts", "video/mp2t"), ("mkv", "video/x-matroska")]


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"download_retry_base_s": 0.05, "download_max_attempts": 1})


def library_files(root: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    }


async def test_long_titles_download_with_nfo_and_db_and_disk_agree(
    settings, library_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from showkeeper.context import open_context
    from showkeeper.services import download_companions

    async with open_context(settings, services=download_companions) as ctx:
        await _download_and_check(ctx, library_dir, tmp_path)


async def _download_and_check(ctx, library_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with MediaServer() as server:
        episodes = []
        n = 0
        for title in TITLES:
            for ext, content_type in KINDS:
                n += 1
                body = make_media(tmp_path / f"src{n}.{ext}", seconds=1).read_bytes()
                url = server.add(f"/e{n}", Resource(body, content_type=content_type))
                episodes.append((n, title, url))
        ids = await add_series(
            ctx.db, "long", [(1, n, [{"url": url}]) for n, _title, url in episodes]
        )
        async with ctx.db.write() as s:
            for episode_id, (_n, title, _url) in zip(ids, episodes, strict=True):
                await s.execute(update(Episode).where(Episode.id == episode_id).values(title=title))
        result = await service.enqueue_episodes(ctx, ids)
        final = await foreground.run_until_finished(ctx, result.item_ids)
    async with ctx.db.session() as s:
        errors = (await s.execute(select(QueueItem.status, QueueItem.last_error))).all()
    assert set(final.values()) == {"completed"}, errors

    async def nfos_written() -> bool:
        return sum(name.endswith(".nfo") for name in library_files(library_dir)) >= len(ids) + 1

    await wait_until(nfos_written)
    async with ctx.db.session() as s:
        rows = (await s.execute(select(Episode).where(Episode.id.in_(ids)))).scalars().all()
    on_disk = library_files(library_dir)
    media = {p for p in on_disk if not p.endswith(".nfo")}
    assert {r.file_path for r in rows if r.is_downloaded} == media
    assert all(r.is_downloaded for r in rows)
    for row in rows:
        assert row.file_path is not None
        stem = Path(row.file_path).stem
        assert f"{Path(row.file_path).with_suffix('.nfo')}" in on_disk
        assert len(stem.encode()) + COMPANION_SUFFIX_BYTES <= NAME_MAX_BYTES
        assert (library_dir / row.file_path).stat().st_size == row.size
    assert stray_files(library_dir) == []
