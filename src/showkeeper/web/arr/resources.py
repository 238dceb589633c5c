"""Our models in Sonarr's v3 resource shapes (field names and types of its OpenAPI document).

Pure mapping, no I/O: the routes read through the services and hand the results here.
Sonarr's schemas allow no other fields, so nothing of ours is added beside theirs.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from showkeeper.automation.commands import CommandRecord
from showkeeper.db.models import Episode
from showkeeper.downloads.history import HistoryEntry
from showkeeper.downloads.views import ItemView
from showkeeper.library.mediainfo import MediaInfo
from showkeeper.series.catalog import SeasonStats, SeriesEntry

PROFILE_ID = 1
PROFILE_NAME = "Best available"
ARTWORK_COVER = {"poster": "poster", "fanart": "fanart", "logo": "clearlogo", "banner": "banner"}
_EXTERNAL_ID = re.compile(r"^(tvdb|tmdb|imdb)-(\w{1,20})$")


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def air_utc(value: date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00Z"


def span(seconds: float | None) -> str | None:
    """A .NET TimeSpan as Sonarr writes it: ``hh:mm:ss`` (``d.hh:mm:ss`` past a day)."""
    if seconds is None or seconds < 0:
        return None
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{clock}" if days else clock


def external_ids(key: str) -> dict[str, Any]:
    """tvdb/tmdb/imdb ids when the series was identified by one (key ``tvdb-81189``)."""
    out: dict[str, Any] = {"tvdbId": 0, "tmdbId": 0, "imdbId": None}
    match = _EXTERNAL_ID.match(key)
    if match:
        kind, value = match.groups()
        if kind == "imdb":
            out["imdbId"] = value
        elif value.isdigit() and int(value) < 2**31:
            out[f"{kind}Id"] = int(value)
    return out


def clean_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def language(code: str | None) -> dict[str, Any]:
    return {"id": 1, "name": code or "English"} if code else {"id": 0, "name": "Unknown"}


def images(entry: SeriesEntry) -> list[dict[str, Any]]:
    out = []
    for kind in entry.artwork:
        url = f"/api/series/{entry.key}/artwork/{kind}"
        out.append({"coverType": ARTWORK_COVER[kind], "url": url, "remoteUrl": url})
    return out


def _percent(files: int, count: int) -> float:
    return round(files * 100.0 / count, 2) if count else 0.0


def season_resource(stats: SeasonStats) -> dict[str, Any]:
    return {
        "seasonNumber": stats.season,
        "monitored": stats.monitored,
        "statistics": {
            "nextAiring": air_utc(stats.next_airing),
            "previousAiring": air_utc(stats.previous_airing),
            "episodeFileCount": stats.files,
            "episodeCount": stats.episode_count,
            "totalEpisodeCount": stats.total,
            "sizeOnDisk": stats.size,
            "releaseGroups": [],
            "percentOfEpisodes": _percent(stats.files, stats.episode_count),
        },
        "images": [],
    }


def series_resource(entry: SeriesEntry, *, root: str | None) -> dict[str, Any]:
    """A SeriesResource; ``root`` is the library folder (Sonarr's root folder)."""
    path = f"{root.rstrip('/')}/{entry.folder}" if root else entry.folder
    ended = False
    first = min((s.previous_airing for s in entry.seasons if s.previous_airing), default=None)
    poster = entry.image_url if entry.image_url and entry.image_url.startswith("http") else None
    out: dict[str, Any] = {
        "id": entry.id,
        "title": entry.name,
        "alternateTitles": [],
        "sortTitle": entry.name.lower(),
        "status": "upcoming"
        if entry.seasons and first is None and entry.files == 0
        else "continuing",
        "ended": ended,
        "overview": entry.overview,
        "nextAiring": air_utc(entry.next_airing),
        "previousAiring": air_utc(entry.previous_airing),
        "network": entry.source_kind,
        "airTime": None,
        "images": images(entry),
        "originalLanguage": language(entry.language),
        "remotePoster": poster,
        "seasons": [season_resource(s) for s in entry.seasons],
        "year": entry.year or 0,
        "path": path,
        "qualityProfileId": PROFILE_ID,
        "languageProfileId": PROFILE_ID,
        "seasonFolder": True,
        "monitored": entry.monitored,
        "monitorNewItems": "all" if entry.monitored else "none",
        "useSceneNumbering": False,
        "runtime": 0,
        "tvRageId": 0,
        "tvMazeId": 0,
        "firstAired": air_utc(first),
        "lastAired": air_utc(entry.previous_airing),
        "seriesType": "standard",
        "cleanTitle": clean_title(entry.name),
        "titleSlug": entry.key,
        "rootFolderPath": root,
        "folder": entry.folder,
        "certification": None,
        "genres": [],
        "tags": entry.tags,
        "added": iso(entry.created_at),
        "ratings": {"votes": 0, "value": 0.0},
        "statistics": {
            "seasonCount": sum(1 for s in entry.seasons if s.season > 0),
            "episodeFileCount": entry.files,
            "episodeCount": entry.episode_count,
            "totalEpisodeCount": entry.total,
            "sizeOnDisk": entry.size,
            "releaseGroups": [],
            "percentOfEpisodes": _percent(entry.files, entry.episode_count),
        },
    }
    out.update(external_ids(entry.key))
    return out


def episode_resource(
    ep: Episode, *, series: dict[str, Any] | None = None, file: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": ep.id,
        "seriesId": ep.series_id,
        "tvdbId": 0,
        "episodeFileId": ep.id if ep.is_downloaded else 0,
        "seasonNumber": ep.season,
        "episodeNumber": ep.episode,
        "title": ep.title,
        "airDate": ep.air_date.isoformat() if ep.air_date else None,
        "airDateUtc": air_utc(ep.air_date),
        "runtime": round((ep.duration_s or 0) / 60),
        "overview": None,
        "hasFile": bool(ep.is_downloaded),
        "monitored": bool(ep.monitored),
        "absoluteEpisodeNumber": ep.absolute_number,
        "unverifiedSceneNumbering": False,
        "images": [],
    }
    if series is not None:
        out["series"] = series
    if file is not None:
        out["episodeFile"] = file
    return out


def quality(info: MediaInfo | None) -> dict[str, Any]:
    """Sonarr's quality for a web download of the file's resolution (Unknown if unread)."""
    height = info.height if info is not None and info.ok else 0
    for minimum, qid, name in (
        (2160, 18, "WEBDL-2160p"),
        (1080, 3, "WEBDL-1080p"),
        (720, 5, "WEBDL-720p"),
        (480, 8, "WEBDL-480p"),
    ):
        if height >= minimum:
            found = {"id": qid, "name": name, "source": "web", "resolution": minimum}
            break
    else:
        found = (
            {"id": 1, "name": "SDTV", "source": "television", "resolution": 480}
            if height > 0
            else {"id": 0, "name": "Unknown", "source": "unknown", "resolution": 0}
        )
    return {"quality": found, "revision": {"version": 1, "real": 0, "isRepack": False}}


def runtime_text(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def media_info_resource(info: MediaInfo | None) -> dict[str, Any] | None:
    if info is None or not info.ok:
        return None
    return {
        "audioBitrate": info.audio_bitrate,
        "audioChannels": info.audio_channels,
        "audioCodec": info.audio_codec,
        "audioLanguages": "/".join(info.audio_languages),
        "audioStreamCount": info.audio_streams,
        "videoBitDepth": info.video_bit_depth,
        "videoBitrate": info.video_bitrate,
        "videoCodec": info.video_codec,
        "videoFps": info.fps,
        "videoDynamicRange": "",
        "videoDynamicRangeType": "",
        "resolution": f"{info.width}x{info.height}" if info.width else "",
        "runTime": runtime_text(info.duration_s),
        "scanType": "Progressive" if info.video_codec else "",
        "subtitles": "/".join(info.subtitle_languages),
    }


def episode_file_resource(
    ep: Episode,
    *,
    library_dir: str | None,
    folder: str,
    modified: datetime | None,
    info: MediaInfo | None,
) -> dict[str, Any]:
    relative = ep.file_path or ""
    inside = PurePosixPath(relative)
    if inside.parts[:1] == (folder,):
        inside = PurePosixPath(*inside.parts[1:])
    absolute = f"{library_dir.rstrip('/')}/{relative}" if library_dir else relative
    out: dict[str, Any] = {
        "id": ep.id,
        "seriesId": ep.series_id,
        "seasonNumber": ep.season,
        "relativePath": str(inside),
        "path": absolute,
        "size": int(ep.size or 0),
        "dateAdded": iso(modified or ep.updated_at),
        "sceneName": None,
        "releaseGroup": None,
        "languages": [
            language(lang) for lang in (info.audio_languages if info and info.ok else ())
        ][:5],
        "quality": quality(info),
        "customFormats": [],
        "customFormatScore": 0,
        "indexerFlags": 0,
        "releaseType": "singleEpisode",
        "qualityCutoffNotMet": False,
    }
    media = media_info_resource(info)
    if media is not None:
        out["mediaInfo"] = media
    return out


QUEUE_STATUS = {
    "queued": "queued",
    "downloading": "downloading",
    "failed": "failed",
    "completed": "completed",
    "cancelled": "failed",
}
TRACKED_STATE = {
    "queued": "downloading",
    "downloading": "downloading",
    "failed": "failed",
    "completed": "imported",
    "cancelled": "ignored",
}


def queue_resource(
    item: ItemView,
    *,
    series_id: int,
    paused: bool,
    series: dict[str, Any] | None = None,
    episode: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    total = float(item.total_bytes or 0)
    left = max(total - float(item.downloaded_bytes), 0.0) if total else 0.0
    eta = item.eta_s
    if eta is None and item.speed_bps and total:
        eta = left / item.speed_bps
    status = QUEUE_STATUS.get(item.status, "unknown")
    if paused and item.status == "queued":
        status = "paused"
    failed = item.status == "failed"
    at = now or datetime.now(UTC)
    out: dict[str, Any] = {
        "id": item.id,
        "seriesId": series_id,
        "episodeId": item.episode_id,
        "seasonNumber": item.season,
        "languages": [],
        "quality": quality(None),
        "customFormats": [],
        "customFormatScore": 0,
        "size": total,
        "title": f"{item.series_name} - S{item.season:02d}E{item.episode:02d}"
        + (f" - {item.title}" if item.title else ""),
        "estimatedCompletionTime": iso(at + timedelta(seconds=eta)) if eta is not None else None,
        "added": iso(item.created_at),
        "status": status,
        "trackedDownloadStatus": "error" if failed else "ok",
        "trackedDownloadState": TRACKED_STATE.get(item.status, "downloading"),
        "statusMessages": (
            [{"title": "download failed", "messages": [item.last_error]}]
            if failed and item.last_error
            else []
        ),
        "errorMessage": item.last_error if failed else None,
        "downloadId": f"showkeeper-{item.id}",
        "protocol": "unknown",
        "downloadClient": "showkeeper",
        "downloadClientHasPostImportCategory": False,
        "indexer": item.source_host,
        "outputPath": None,
        "episodeHasFile": item.status == "completed",
        "sizeleft": left,
        "timeleft": span(eta),
    }
    if series is not None:
        out["series"] = series
    if episode is not None:
        out["episode"] = episode
    return out


HISTORY_EVENT = {
    "completed": "downloadFolderImported",
    "failed": "downloadFailed",
    "cancelled": "downloadIgnored",
}


def history_resource(
    entry: HistoryEntry,
    *,
    series: dict[str, Any] | None = None,
    episode: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"attempts": str(entry.attempts)}
    if entry.file_path:
        data["importedPath"] = entry.file_path
    if entry.size is not None:
        data["size"] = str(entry.size)
    if entry.error:
        data["message"] = entry.error
    out: dict[str, Any] = {
        "id": entry.id,
        "episodeId": entry.episode_id or 0,
        "seriesId": entry.series_id or 0,
        "sourceTitle": f"{entry.series_key} - S{entry.season:02d}E{entry.episode:02d}",
        "languages": [],
        "quality": quality(None),
        "customFormats": [],
        "customFormatScore": 0,
        "qualityCutoffNotMet": False,
        "date": iso(entry.finished_at),
        "downloadId": f"showkeeper-history-{entry.id}",
        "eventType": HISTORY_EVENT.get(entry.status, "unknown"),
        "data": data,
    }
    if series is not None:
        out["series"] = series
    if episode is not None:
        out["episode"] = episode
    return out


def command_resource(record: CommandRecord) -> dict[str, Any]:
    duration = (
        span((record.ended - record.started).total_seconds())
        if record.started and record.ended
        else None
    )
    return {
        "id": record.id,
        "name": record.name,
        "commandName": record.name,
        "message": record.error or record.message,
        "body": {"sendUpdatesToClient": False, "name": record.name},
        "priority": "normal",
        "status": record.status,
        "result": {"completed": "successful", "failed": "unsuccessful"}.get(
            record.status, "unknown"
        ),
        "queued": iso(record.queued),
        "started": iso(record.started),
        "ended": iso(record.ended),
        "duration": duration,
        "exception": record.error,
        "trigger": "manual",
        "clientUserAgent": None,
        "stateChangeTime": iso(record.ended or record.started or record.queued),
        "sendUpdatesToClient": False,
        "updateScheduledTask": False,
        "lastExecutionTime": iso(record.ended),
    }
