"""The SeriesResource of odd and hostile series: artwork only for files that exist, external
ids only when known, remote text passed as data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

from showkeeper.config import Settings
from showkeeper.db.models import Episode, Series
from tests.compat.sonarr import check_response


async def test_images_ids_and_hostile_text(
    api: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    library = Path(str(settings.library_dir))
    (library / "Safe").mkdir()
    (library / "Safe" / "poster.jpg").write_bytes(b"\xff\xd8jpeg")
    (library / "Safe" / "logo.png").write_bytes(b"\x89PNG")
    (library / "Safe" / "fanart.png").write_bytes(b"not the expected name")
    async with app.state.ctx.db.write() as s:
        hostile = Series(
            key="tvdb-81189",
            folder="Safe",
            name="<script>alert(1)</script> ../../etc",
            overview="<img src=x onerror=alert(1)>",
            image_url="javascript:alert(1)",
        )
        other = Series(key="plain", folder="../outside", name="Plain", image_url="https://x/p.jpg")
        s.add_all([hostile, other])
        await s.flush()
        s.add_all(
            [
                Episode(series_id=hostile.id, season=0, episode=1, air_date=date(2024, 1, 1)),
                Episode(series_id=hostile.id, season=1, episode=1, air_date=date(2099, 1, 1)),
                Episode(series_id=hostile.id, season=1, episode=2, is_downloaded=True, size=10),
            ]
        )
    resp = await api.get("/api/v3/series")
    assert resp.status_code == 200
    check_response("GET", "/api/v3/series", 200, resp.json())
    by_key = {s["titleSlug"]: s for s in resp.json()}
    shown = by_key["tvdb-81189"]
    assert shown["images"] == [
        {
            "coverType": "poster",
            "url": "/api/series/tvdb-81189/artwork/poster",
            "remoteUrl": "/api/series/tvdb-81189/artwork/poster",
        },
        {
            "coverType": "clearlogo",
            "url": "/api/series/tvdb-81189/artwork/logo",
            "remoteUrl": "/api/series/tvdb-81189/artwork/logo",
        },
    ]
    assert shown["tvdbId"] == 81189 and shown["tmdbId"] == 0 and shown["imdbId"] is None
    assert shown["title"] == "<script>alert(1)</script> ../../etc"  # JSON data, not markup
    assert shown["remotePoster"] is None  # only http(s) URLs are passed on
    assert shown["path"] == f"{library}/Safe"
    assert [s["seasonNumber"] for s in shown["seasons"]] == [0, 1]
    assert shown["statistics"]["seasonCount"] == 1
    assert shown["statistics"]["episodeFileCount"] == 1
    assert shown["statistics"]["totalEpisodeCount"] == 3
    assert shown["nextAiring"] == "2099-01-01T00:00:00Z"
    plain = by_key["plain"]
    assert plain["images"] == [] and plain["tvdbId"] == 0
    assert plain["remotePoster"] == "https://x/p.jpg"
    only = await api.get(f"/api/v3/series/{shown['id']}")
    assert only.json() == shown


async def test_files_outside_the_library_are_never_probed(
    api: httpx.AsyncClient, app: Any, settings: Settings, tmp_path: Path
) -> None:
    from showkeeper.library.mediainfo import MediaInfoCache
    from tests.integration.downloads.servers import make_media

    make_media(tmp_path / "outside.mp4", seconds=1)
    async with app.state.ctx.db.write() as s:
        series = Series(key="escape", folder="Escape", name="Escape")
        s.add(series)
        await s.flush()
        episode = Episode(
            series_id=series.id,
            season=1,
            episode=1,
            is_downloaded=True,
            file_path="../outside.mp4",
            size=5,
        )
        s.add(episode)
        await s.flush()
        episode_id = episode.id
    cache = app.state.ctx.service(MediaInfoCache)
    resp = await api.get(f"/api/v3/episodefile/{episode_id}")
    assert resp.status_code == 200
    check_response("GET", f"/api/v3/episodefile/{episode_id}", 200, resp.json())
    assert "mediaInfo" not in resp.json()
    assert resp.json()["quality"]["quality"]["name"] == "Unknown"
    assert cache.probes == 0
