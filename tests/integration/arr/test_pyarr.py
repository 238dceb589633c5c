"""pyarr (the scripts' Sonarr client) against a real showkeeper: every method of the subset."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyarr import SonarrAPI
from pyarr.exceptions import PyarrResourceNotFound

from showkeeper import __version__
from showkeeper.library.mediainfo import MediaInfoCache
from tests.integration.arr.conftest import SHOW, ArrServer, ArrSite, wait_for

pytestmark = pytest.mark.slow


def client(server: ArrServer) -> SonarrAPI:
    sonarr = SonarrAPI(server.url, server.api_key)
    sonarr.session.hooks["response"].append(server.validate_requests)
    return sonarr


def by_number(episodes: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {e["episodeNumber"]: e for e in episodes}


def test_pyarr_against_showkeeper(arr_server: ArrServer, arr_site: ArrSite) -> None:
    sonarr = client(arr_server)
    library = Path(str(arr_server.settings.library_dir))

    status = sonarr.get_system_status()
    assert status["appName"] == "showkeeper" and status["instanceName"] == "showkeeper"
    # a 3.x version, so clients that choose the API by version (Bazarr) use v3
    assert status["version"].startswith("3.") and status["packageVersion"] == __version__
    assert isinstance(sonarr.get_health(), list)
    disks = sonarr.get_disk_space()
    assert disks[0]["path"] == str(library) and disks[0]["freeSpace"] > 0
    assert sonarr.get_root_folder()[0]["path"] == str(library)
    assert sonarr.get_root_folder(1)["accessible"] is True
    (profile,) = sonarr.get_quality_profile()
    assert sonarr.get_quality_profile(profile["id"])["name"] == profile["name"]
    with pytest.deprecated_call():  # pyarr calls it deprecated; Sonarr v3 clients still use it
        (language,) = sonarr.get_language_profile()
    with pytest.deprecated_call():
        assert sonarr.get_language_profile(language["id"])["id"] == language["id"]

    # tags: create, read, rename
    tag = sonarr.create_tag("Kids")
    assert tag["label"] == "kids"
    assert sonarr.get_tag() == [tag]
    assert sonarr.get_tag(tag["id"]) == tag
    assert sonarr.upd_tag(tag["id"], "family")["label"] == "family"

    # a podcast directory search finds it by name
    (hit,) = sonarr.lookup_series(term="arr show")
    assert hit["title"] == SHOW and hit["titleSlug"] == arr_site.feed_url
    assert hit["statistics"]["totalEpisodeCount"] == 4

    # add the series from a lookup of its feed URL, as pyarr's add_series expects
    (found,) = sonarr.lookup_series(term=arr_site.feed_url)
    assert found["titleSlug"] == arr_site.feed_url
    added = sonarr.add_series(found, profile["id"], language["id"], str(library))
    series_id = added["id"]
    assert added["path"].startswith(str(library))
    series = wait_for(
        # the title is known at the add; the episodes come with the load
        lambda: (
            (s := sonarr.get_series(series_id))["title"] == SHOW
            and s["statistics"]["totalEpisodeCount"] > 0
            and s
        ),
        what="the series to load",
    )
    assert [s["id"] for s in sonarr.get_series()] == [series_id]
    assert series["statistics"]["totalEpisodeCount"] == 4
    assert series["statistics"]["episodeFileCount"] == 0
    assert series["seasons"][0]["seasonNumber"] == 1
    # a lookup of a known URL answers the series itself
    assert sonarr.lookup_series(term=arr_site.feed_url)[0]["id"] == series_id

    # tags round trip through the series
    series["tags"] = [tag["id"]]
    updated = sonarr.upd_series(series)
    assert updated["tags"] == [tag["id"]]
    assert sonarr.get_series(series_id)["tags"] == [tag["id"]]

    # missing before anything is downloaded: the three aired episodes, newest first
    wanted = sonarr.get_wanted(include_series=True)
    assert wanted["totalRecords"] == 3
    assert [r["episodeNumber"] for r in wanted["records"]] == [3, 2, 1]
    assert wanted["records"][0]["series"]["id"] == series_id

    # SeriesSearch queues the missing episodes and completes
    command = sonarr.post_command("SeriesSearch", seriesId=series_id)
    assert command["name"] == "SeriesSearch" and command["status"] in ("queued", "started")
    done = wait_for(
        lambda: (c := sonarr.get_command(command["id"]))["status"] in ("completed", "failed") and c,
        what="the command",
    )
    assert done["status"] == "completed", done
    assert done["id"] in [c["id"] for c in sonarr.get_command()]

    # E1 and E2 download; E3 is slow: visible in the queue with a falling sizeleft
    def slow_item() -> dict[str, Any] | None:
        queue = sonarr.get_queue(include_episode=True, include_series=True)
        for record in queue["records"]:
            if (
                record["episode"]["episodeNumber"] == 3
                and record["status"] == "downloading"
                and 0 < record["sizeleft"] < record["size"]
            ):
                return record
        return None

    first = wait_for(slow_item, what="E3 downloading")
    assert first["series"]["id"] == series_id and first["downloadId"]
    time.sleep(1.0)
    second = wait_for(slow_item, what="E3 still downloading")
    assert second["id"] == first["id"] and second["sizeleft"] < first["sizeleft"]
    assert second["trackedDownloadState"] == "downloading"
    sonarr.del_queue(first["id"])
    wait_for(
        lambda: all(r["id"] != first["id"] for r in sonarr.get_queue()["records"]),
        what="the cancel",
    )

    # episodes with files, files with quality and media info from ffprobe
    episodes = by_number(sonarr.get_episode(series_id, series=True))
    assert episodes[1]["hasFile"] and episodes[2]["hasFile"]
    assert not episodes[3]["hasFile"] and not episodes[4]["hasFile"]
    assert episodes[1]["episodeFileId"] == episodes[1]["id"]
    assert episodes[4]["airDateUtc"].startswith(arr_site.future_air_date)
    files = {f["id"]: f for f in sonarr.get_episode_file(series_id, series=True)}
    assert set(files) == {episodes[1]["id"], episodes[2]["id"]}
    one = sonarr.get_episode_file(episodes[1]["id"])
    assert one["path"].startswith(str(library)) and Path(one["path"]).is_file()
    assert one["size"] == Path(one["path"]).stat().st_size
    assert one["mediaInfo"]["resolution"] == "320x240"
    assert one["mediaInfo"]["videoCodec"] == "h264"
    assert one["mediaInfo"]["audioLanguages"] == "fre"
    assert one["mediaInfo"]["subtitles"] == "eng"
    assert one["quality"]["quality"]["name"] == "SDTV"
    two = files[episodes[2]["id"]]
    assert two["mediaInfo"]["resolution"] == "640x360"
    assert two["quality"]["quality"]["resolution"] == 480
    # media info is cached per file: asking again probes nothing
    cache = arr_server.ctx.service(MediaInfoCache)
    probes = cache.probes
    sonarr.get_episode_file(episodes[1]["id"])
    assert cache.probes == probes

    # statistics follow the files
    stats = sonarr.get_series(series_id)["statistics"]
    assert stats["episodeFileCount"] == 2
    assert stats["sizeOnDisk"] == one["size"] + two["size"]
    assert stats["percentOfEpisodes"] == pytest.approx(200 / 3, abs=0.01)

    # missing after the downloads and the cancel: only E3
    wanted = sonarr.get_wanted()
    assert [r["episodeNumber"] for r in wanted["records"]] == [3]

    # calendar: E4 in ten days
    start = datetime.now() + timedelta(days=5)
    calendar = sonarr.get_calendar(start, start + timedelta(days=10))
    assert [e["episodeNumber"] for e in calendar] == [4]

    # history: two imports and the cancelled one
    history = sonarr.get_history(page_size=50)
    events = sorted(r["eventType"] for r in history["records"])
    assert events.count("downloadFolderImported") == 2
    assert all(r["seriesId"] == series_id for r in history["records"])

    # episode edits
    edited = sonarr.upd_episode(episodes[3]["id"], {"monitored": False})
    assert edited["monitored"] is False
    assert sonarr.get_wanted()["totalRecords"] == 0
    changed = sonarr.upd_episode_monitor([episodes[3]["id"]], True)
    assert changed[0]["monitored"] is True
    assert sonarr.get_episode(episodes[3]["id"])["monitored"] is True

    # season monitoring through the series
    series = sonarr.get_series(series_id)
    series["seasons"][0]["monitored"] = False
    assert sonarr.upd_series(series)["seasons"][0]["monitored"] is False
    assert all(not e["monitored"] for e in sonarr.get_episode(series_id, series=True))

    # deleting a file makes its episode missing again
    sonarr.del_episode_file(episodes[2]["id"])
    assert not Path(files[episodes[2]["id"]]["path"]).exists()
    assert sonarr.get_episode(episodes[2]["id"])["hasFile"] is False

    # a deleted tag leaves the series
    sonarr.del_tag(tag["id"])
    assert sonarr.get_series(series_id)["tags"] == []

    # deleting the series with its files
    folder = Path(sonarr.get_series(series_id)["path"])
    assert folder.is_dir()
    sonarr.del_series(series_id, delete_files=True)
    assert not folder.exists()
    with pytest.raises(PyarrResourceNotFound):
        sonarr.get_series(series_id)
    assert sonarr.get_series() == []

    # every response above was checked against Sonarr's schemas
    assert len(arr_server.checked) >= 25, sorted(arr_server.checked)
