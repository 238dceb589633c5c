"""After a download, the episode gets its thumbnail beside its NFO (and repair notices a
missing one)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image
from sqlalchemy import update

from showkeeper.config import Settings
from showkeeper.context import open_context
from showkeeper.db.models import Episode, Series
from showkeeper.metadata.loader import series_needing_repair
from showkeeper.metadata.service import write_series_nfos
from showkeeper.services import download_companions
from tests.metadata_site import MetaSite

from .seed import seed_series


async def test_download_complete_writes_nfo_and_thumb(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    async with open_context(settings, services=download_companions) as ctx:
        rows = await seed_series(ctx.db, library_dir)
        episode_id, rel = rows[(1, 2)]
        async with ctx.db.write() as s:
            await s.execute(
                update(Episode)
                .where(Episode.id == episode_id)
                .values(image_url=site.url("/art/ep2.jpg"))
            )
            await s.execute(
                update(Series).values(
                    episodes_loaded=True, has_nfo=True, logo_loaded=True, images_loaded=True
                )
            )
        await write_series_nfos(ctx.db, library_dir, "example-com-dark")
        ctx.bus.publish("download_complete", episode_id=episode_id)
        thumb = library_dir / rel.replace(".mp4", "-thumb.jpg")
        async with asyncio.timeout(20):
            while not thumb.exists():
                await asyncio.sleep(0.05)
        with Image.open(thumb) as img:
            assert (img.format, img.size) == ("JPEG", (320, 180))
        assert (library_dir / rel.replace(".mp4", ".nfo")).exists()
        assert await series_needing_repair(ctx) == []
        thumb.unlink()
        assert await series_needing_repair(ctx) == ["example-com-dark"]


async def test_a_thumb_gone_with_its_episode_is_forgotten_after_one_repair(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    from showkeeper.metadata.loader import repair_metadata

    async with open_context(settings, services=download_companions) as ctx:
        rows = await seed_series(ctx.db, library_dir)
        episode_id, rel = rows[(1, 2)]
        async with ctx.db.write() as s:
            await s.execute(
                update(Episode)
                .where(Episode.id == episode_id)
                .values(image_url=site.url("/art/ep2.jpg"))
            )
        await repair_metadata(ctx, force=True)
        thumb = library_dir / rel.replace(".mp4", "-thumb.jpg")
        assert thumb.is_file() and await series_needing_repair(ctx) == []
        # the episode's file and its thumb go away (a rename elsewhere, a deletion)
        thumb.unlink()
        (library_dir / rel).unlink()
        async with ctx.db.write() as s:
            await s.execute(
                update(Episode)
                .where(Episode.id == episode_id)
                .values(is_downloaded=False, file_path=None)
            )
        assert await series_needing_repair(ctx) == ["example-com-dark"]
        await repair_metadata(ctx)
        assert await series_needing_repair(ctx) == []  # not looked for every day after
