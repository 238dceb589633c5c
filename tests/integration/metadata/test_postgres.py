"""The metadata loader on PostgreSQL: a series added with TMDB ends with its files and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from showkeeper.config import Settings
from tests.metadata_site import TMDB_ID, MetaSite, show_feed
from tests.pg import fresh_pg_database

from .conftest import running, with_tmdb
from .test_loader import STEPS, add, image, row


@pytest.mark.postgres
async def test_loader_on_postgres(settings: Settings, site: MetaSite, library_dir: Path) -> None:
    site.put("/show.xml", show_feed(site), "application/rss+xml")
    async with fresh_pg_database() as url:
        pg = with_tmdb(settings, site).model_copy(update={"database_url": url})
        async with running(pg) as (ctx, api):
            key, events = await add(ctx, api, site.url("/show.xml"))
            series = await row(ctx, key)
            status = (await api.get("/api/metadata/status")).json()
            detail = (await api.get(f"/api/series/{key}")).json()
    assert [e["status"] for e in events] == STEPS
    assert (series.tmdb_id, series.has_nfo, series.images_loaded) == (TMDB_ID, True, True)
    assert series.metadata_errors is None and status["status"] == "ok"
    assert detail["metadata"]["progress"] == {
        "episodes": True,
        "nfo": True,
        "logo": True,
        "images": True,
    }
    assert image(library_dir / "Kestrel Bay (2017)" / "poster.jpg") == ("JPEG", 400, 600)
