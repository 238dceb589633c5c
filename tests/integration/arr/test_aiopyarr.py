"""aiopyarr (Home Assistant's Sonarr client) against a real showkeeper: every method of the
subset, typed answers, every body checked against Sonarr's schemas."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiopyarr import ArrException
from aiopyarr.models.host_configuration import PyArrHostConfiguration
from aiopyarr.models.sonarr import SonarrCommands, SonarrSeriesAdd
from aiopyarr.sonarr_client import SonarrClient

from tests.integration.arr.conftest import SHOW, ArrServer, ArrSite

pytestmark = pytest.mark.slow


class CheckedSession:
    """An aiohttp session that validates every /api/v3 JSON answer before aiopyarr reads it."""

    def __init__(self, server: ArrServer) -> None:
        self.server = server
        self.session = aiohttp.ClientSession()

    async def request(self, method: str, url: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.session.request(method, url, **kwargs)
        if "json" in response.headers.get("Content-Type", ""):
            body = await response.json()  # kept by aiohttp: aiopyarr reads it again
            self.server.validate(method, response.url.path, response.status, body)
        return response

    async def close(self) -> None:
        await self.session.close()


async def until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_aiopyarr_against_showkeeper(arr_server: ArrServer, arr_site: ArrSite) -> None:
    session = CheckedSession(arr_server)
    host = PyArrHostConfiguration(api_token=arr_server.api_key, url=arr_server.url, api_ver="v3")
    sonarr = SonarrClient(host_configuration=host, session=session)  # type: ignore[arg-type]
    try:
        await run(sonarr, arr_server, arr_site)
    finally:
        await session.close()


async def run(sonarr: SonarrClient, server: ArrServer, site: ArrSite) -> None:
    library = str(server.settings.library_dir)

    # what Home Assistant's Sonarr integration reads first
    status = await sonarr.async_get_system_status()
    assert status.appName == "showkeeper" and isinstance(status.startTime, datetime)
    disks = await sonarr.async_get_diskspace()
    assert disks[0].path == library and disks[0].freeSpace > 0
    assert isinstance(await sonarr.async_get_failed_health_checks(), list)
    (root,) = await sonarr.async_get_root_folders()
    assert root.path == library
    (profile,) = await sonarr.async_get_quality_profiles()
    assert (await sonarr.async_get_quality_profiles(profile.id)).name == profile.name
    (language,) = await sonarr.async_get_languages()
    assert (await sonarr.async_get_languages(language.id)).id == language.id

    tag = await sonarr.async_add_tag("Evening")
    assert tag.label == "evening"
    tag.label = "night"
    assert (await sonarr.async_edit_tag(tag)).label == "night"
    assert [t.label for t in await sonarr.async_get_tags()] == ["night"]

    (found,) = await sonarr.async_lookup_series(term=site.feed_url)
    assert found.titleSlug == site.feed_url
    data = dict(found.attributes)
    data.update(
        rootFolderPath=library,
        qualityProfileId=profile.id,
        languageProfileId=language.id,
        monitored=True,
        tags=[tag.id],
        addOptions={"searchForMissingEpisodes": False},
    )
    added = await sonarr.async_add_series(SonarrSeriesAdd(data))
    series_id = added.id
    assert added.tags == [tag.id]

    async def loaded() -> Any:
        series = await sonarr.async_get_series(series_id)
        # the title is known from the add (the source was read for the key); the episodes
        # arrive with the load
        loaded = series.title == SHOW and series.statistics.totalEpisodeCount > 0
        return series if loaded else None

    series = await until(loaded, "the series to load")
    assert series.statistics.totalEpisodeCount == 4
    assert isinstance(series.added, datetime)
    assert [s.id for s in await sonarr.async_get_series()] == [series_id]

    series.monitored = False
    assert (await sonarr.async_edit_series(series)).monitored is False
    series.monitored = True
    assert (await sonarr.async_edit_series(series)).monitored is True

    wanted = await sonarr.async_get_wanted(page_size=2, include_series=True)
    assert wanted.totalRecords == 3 and len(wanted.records) == 2
    assert wanted.records[0].series.id == series_id

    command = await sonarr.async_sonarr_command(SonarrCommands.SERIES_SEARCH, seriesid=series_id)

    async def command_done() -> Any:
        current = await sonarr.async_get_commands(command.id)
        return current if current.status in ("completed", "failed") else None

    assert (await until(command_done, "the command")).status == "completed"
    assert command.id in [c.id for c in await sonarr.async_get_commands()]

    async def slow_download() -> Any:
        queue = await sonarr.async_get_queue(include_episode=True)
        for record in queue.records:
            if record.episode.episodeNumber == 3 and 0 < record.sizeleft < record.size:
                return record
        return None

    first = await until(slow_download, "E3 downloading")
    await asyncio.sleep(1.0)
    second = await until(slow_download, "E3 still downloading")
    assert second.sizeleft < first.sizeleft
    details = await sonarr.async_get_queue_details()
    assert [d.id for d in details if d.episodeId == first.episodeId] == [first.id]

    episodes = {e.episodeNumber: e for e in await sonarr.async_get_episodes(series_id, series=True)}

    async def two_files() -> Any:
        files = await sonarr.async_get_episode_files(series_id, series=True)
        return files if len(files) == 2 else None

    files = await until(two_files, "E1 and E2 on disk")
    one = await sonarr.async_get_episode_files(episodes[1].id)
    assert one.mediaInfo.resolution == "320x240" and one.mediaInfo.subtitles == "eng"
    assert {f.id for f in files} == {episodes[1].id, episodes[2].id}

    start = datetime.now() + timedelta(days=5)
    calendar = await sonarr.async_get_calendar(
        start, start + timedelta(days=10), include_series=True
    )
    assert [(c.episodeNumber, c.series.id) for c in calendar] == [(4, series_id)]

    history = await sonarr.async_get_history(page_size=20)
    assert history.totalRecords >= 2
    assert {r.eventType for r in history.records} == {"downloadFolderImported"}
    per_series = await sonarr.async_get_history_since(seriesid=series_id)
    assert len(per_series) == history.totalRecords

    episode = await sonarr.async_get_episodes(episodes[4].id)
    episode.monitored = False
    assert (await sonarr.async_edit_episode(episode)).monitored is False
    changed = await sonarr.async_episode_monitor([episodes[4].id], monitored=True)
    assert changed[0].monitored is True

    await sonarr.async_delete_episode_file(episodes[1].id)
    assert (await sonarr.async_get_episodes(episodes[1].id)).hasFile is False

    await sonarr.async_delete_tag(tag.id)
    assert await sonarr.async_get_tags() == []
    await sonarr.async_delete_series(series_id, delete_files=True)
    with pytest.raises(ArrException, match="404"):  # aiopyarr wraps its 404 error
        await sonarr.async_get_series(series_id)
    assert len(server.checked) >= 25, sorted(server.checked)
