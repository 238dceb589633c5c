"""Channels and playlists of any site yt-dlp supports, read with flat extraction.

yt-dlp does its own HTTP, so the URL is checked by the SSRF guard first, extraction runs in
a thread with yt-dlp's socket_timeout and an overall deadline, and proxies from the
environment are ignored. Each entry's candidate is its page (kind "page"), which yt-dlp
resolves at download time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import subprocess
import sys
from functools import cache
from typing import Any

from showkeeper.domain.candidates import Candidate
from showkeeper.logging import get_logger
from showkeeper.net import OutboundError, check_url, resolve_and_check
from showkeeper.net.socks_guard import GuardedSocksProxy
from showkeeper.sources.base import (
    EpisodeMetadata,
    RemoteEpisode,
    SeriesInfo,
    SeriesRef,
    Source,
    SourceEnv,
    SourceError,
    SourceFetchError,
    SourceMetadata,
)
from showkeeper.sources.feed_parse import plain_text
from showkeeper.sources.keys import slug_from_url

log = get_logger(__name__)

MAX_NESTED_PLAYLISTS = 50
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
_NESTED_IE_RE = re.compile(r"(Tab|Playlist|Channel|Season|Series)$")
_CHANNEL_IE_RE = re.compile(r"(Tab|Channel|User)$")
# An overall bound on one extraction, in socket timeouts (it may take several requests).
DEADLINE_FACTOR = 20


class _Logger:
    """yt-dlp's messages go to our log at debug level, never to the console."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp", message=msg)

    info = debug

    def warning(self, msg: str) -> None:
        log.debug("yt-dlp warning", message=msg)

    def error(self, msg: str) -> None:
        log.debug("yt-dlp error", message=msg)


@cache
def _specific_extractors() -> tuple[Any, ...]:
    from yt_dlp.extractor import gen_extractor_classes

    return tuple(ie for ie in gen_extractor_classes() if ie.ie_key() != "Generic")


def _extractor_here(url: str) -> str | None:
    for ie in _specific_extractors():
        if ie.suitable(url):
            return str(ie.ie_key())
    return None


# The same question in a child interpreter: prints the extractor's name, or nothing.
_CHILD = """
import sys
from yt_dlp.extractor import gen_extractor_classes
for ie in gen_extractor_classes():
    if ie.ie_key() != "Generic" and ie.suitable(sys.argv[1]):
        print(ie.ie_key())
        break
"""
_CHILD_TIMEOUT_S = 60


def _extractor_in_child(url: str) -> str | None:
    """:func:`_extractor_here` asked of a short-lived ``python -I``; OSError or
    subprocess.SubprocessError when it cannot answer."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", _CHILD, url],
        capture_output=True,
        text=True,
        timeout=_CHILD_TIMEOUT_S,
        check=True,
    )
    return done.stdout.strip() or None


def specific_extractor(url: str) -> str | None:
    """Name of a site-specific yt-dlp extractor for ``url`` (not the generic one).

    Loading yt-dlp's ~1,800 extractors and their URL patterns costs a process about 40 MB
    that it keeps for good. A process that has not loaded them (adding a feed from the CLI
    or the server) asks a child interpreter instead: the same answer for the same CPU time
    plus an interpreter start (~0.1 s). A process that already has them asks them itself.
    """
    if "yt_dlp.extractor" not in sys.modules:
        try:
            return _extractor_in_child(url)
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("yt-dlp extractor check in a child failed", error=str(exc))
    return _extractor_here(url)


def _clean_error(exc: BaseException) -> str:
    text = _ANSI_RE.sub("", str(exc)).strip()
    return text.removeprefix("ERROR: ").strip() or type(exc).__name__


def _when(entry: dict[str, Any]) -> dt.datetime | None:
    for name in ("timestamp", "release_timestamp"):
        value = entry.get(name)
        if isinstance(value, int | float):
            try:
                return dt.datetime.fromtimestamp(value, tz=dt.UTC)
            except (OverflowError, OSError, ValueError):
                pass
    for name in ("upload_date", "release_date"):
        value = entry.get(name)
        if isinstance(value, str) and re.fullmatch(r"\d{8}", value):
            try:
                return dt.datetime.strptime(value, "%Y%m%d").replace(tzinfo=dt.UTC)
            except ValueError:
                pass
    return None


class YtDlpSource(Source):
    """A channel or playlist URL; seasons by playlist (default) or by upload year."""

    kind = "ytdlp"
    label = "yt-dlp channel or playlist"

    def __init__(self, env: SourceEnv) -> None:
        super().__init__(env)
        self._info: dict[str, dict[str, Any]] = {}
        self._listed: dict[str, dict[str, Any]] = {}  # what episodes() read, for metadata()

    @classmethod
    def matches_url(cls, url: str) -> bool:
        return specific_extractor(url) is not None

    @classmethod
    def detect(cls, url: str, body: bytes, content_type: str) -> int:
        # Any other web page may still hold videos yt-dlp's generic extractor can find.
        return 10 if "html" in content_type.lower() or b"<html" in body[:2048].lower() else 0

    def _options(self, proxy: str) -> dict[str, Any]:
        return {
            "extract_flat": "in_playlist",
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "skip_download": True,
            "socket_timeout": self.env.settings.source_timeout_s,
            "logger": _Logger(),
            "cachedir": False,
            # every connection (redirects too) through the guard, never the environment's proxy
            "proxy": proxy,
            "retries": 1,
            "extractor_retries": 1,
        }

    async def _guard(self, url: str) -> None:
        try:
            parsed = check_url(url)
            host = parsed.raw_host or ""
            await resolve_and_check(
                host,
                parsed.port or 0,
                self.env.client.allowed_networks,
                url=url,
            )
        except OutboundError as exc:
            raise SourceFetchError(str(exc)) from None
        except OSError as exc:
            raise SourceFetchError(f"could not resolve the host of {url} ({exc})") from None

    def _extract_sync(self, url: str, proxy: str) -> dict[str, Any]:
        import yt_dlp

        with yt_dlp.YoutubeDL(self._options(proxy)) as ydl:
            info = ydl.extract_info(url, download=False)
            return dict(ydl.sanitize_info(info) or {})

    async def _extract(self, url: str) -> dict[str, Any]:
        await self._guard(url)
        deadline = self.env.settings.source_timeout_s * DEADLINE_FACTOR
        guard = GuardedSocksProxy(self.env.client.allowed_networks)
        try:
            async with guard, asyncio.timeout(deadline):
                return await asyncio.to_thread(self._extract_sync, url, guard.url)
        except TimeoutError:
            raise SourceFetchError(
                f"yt-dlp took longer than {deadline:g}s to read {url}; try again later"
            ) from None
        except Exception as exc:  # yt-dlp raises DownloadError/ExtractorError and friends
            if guard.blocked:
                raise SourceFetchError(guard.blocked[0]) from None
            message = _clean_error(exc)
            if "Unsupported URL" in message:
                raise SourceError(
                    f"yt-dlp cannot read {url}: unsupported URL (no channel, playlist or "
                    "video found there); check the address"
                ) from None
            raise SourceError(f"yt-dlp could not read {url}: {message}") from None

    async def probe(self, url: str) -> SeriesInfo:
        info = await self._extract(url)
        if info.get("_type") not in ("playlist", "multi_video"):
            raise SourceError(
                f"{url} is a single video, not a channel or playlist; add the channel or "
                "playlist it belongs to"
            )
        self._info[url] = info
        thumbnails = [t.get("url") for t in info.get("thumbnails") or [] if t.get("url")]
        title = (
            info.get("title")
            or info.get("playlist_title")
            or info.get("channel")
            or info.get("uploader")
            or slug_from_url(url)
        )
        return SeriesInfo(
            key=slug_from_url(url),
            title=str(title)[:500],
            overview=plain_text(info.get("description")),
            images=tuple(reversed(thumbnails)),
            language=info.get("language") or None,
        )

    async def episodes(self, series: SeriesRef) -> list[RemoteEpisode]:
        info = self._info.pop(series.url, None)
        if info is None:
            info = await self._extract(series.url)
        self._listed[series.url] = info
        mode = series.options.get("season_mode", "playlist")
        seasons = await self._seasons(info, nested=mode == "playlist")
        reverse = _reverse(series.options.get("playlist_order"), info)
        episodes: list[RemoteEpisode] = []
        last_year: int | None = None
        for season_number, entries in seasons:
            page = info.get("webpage_url")
            listed = [e for e in (_episode(x, season_number, page) for x in entries) if e]
            listed = _publication_order(listed, reverse=reverse)
            if mode == "year":
                for ep in listed:
                    year = ep.published.year if ep.published else last_year
                    last_year = year or last_year
                    episodes.append(_with_season(ep, year or 1))
            else:
                episodes.extend(listed)
        if mode == "year":
            episodes.sort(key=lambda e: e.season)
        return episodes

    async def metadata(self, series: SeriesRef) -> SourceMetadata:
        """The channel's avatar (poster) and banner (fanart, banner), uncropped where offered,
        its description; each video's thumbnail and description."""
        info = self._listed.get(series.url) or self._info.get(series.url)
        if info is None:
            info = await self._extract(series.url)
        return channel_metadata(info)

    async def _seasons(
        self, info: dict[str, Any], *, nested: bool
    ) -> list[tuple[int, list[dict[str, Any]]]]:
        """Entries grouped by season: one per nested playlist, else everything in season 1."""
        entries = [e for e in info.get("entries") or [] if isinstance(e, dict)]
        if not nested:
            return [(1, self._flatten(entries))]
        playlists = [e for e in entries if _is_playlist(e)]
        if not playlists or len(playlists) != len(entries):
            return [(1, self._flatten(entries))]
        seasons: list[tuple[int, list[dict[str, Any]]]] = []
        for number, entry in enumerate(playlists[:MAX_NESTED_PLAYLISTS], start=1):
            children = entry.get("entries")
            if children is None:
                children = (await self._extract(str(entry["url"]))).get("entries") or []
            seasons.append((number, [c for c in children if isinstance(c, dict)]))
        return seasons

    @staticmethod
    def _flatten(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for entry in entries:
            children = entry.get("entries")
            if isinstance(children, list):
                out.extend(c for c in children if isinstance(c, dict))
            else:
                out.append(entry)
        return out


def _http(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _thumbnails(info: dict[str, Any]) -> list[dict[str, Any]]:
    found = [t for t in info.get("thumbnails") or [] if isinstance(t, dict) and _http(t.get("url"))]
    single = _http(info.get("thumbnail"))
    if single and all(t.get("url") != single for t in found):
        found.append({"url": single})
    return found


def _best(thumbs: list[dict[str, Any]]) -> list[str]:
    def area(t: dict[str, Any]) -> int:
        w, h = t.get("width"), t.get("height")
        return int(w) * int(h) if isinstance(w, int) and isinstance(h, int) else 0

    ordered = sorted(thumbs, key=lambda t: (area(t), t.get("preference") or 0), reverse=True)
    return [str(t["url"]) for t in ordered]


def channel_metadata(info: dict[str, Any]) -> SourceMetadata:
    """A channel/playlist info dict (yt-dlp's) -> its artwork, description and episodes'."""
    thumbs = _thumbnails(info)

    def named(word: str) -> list[str]:
        picked = [t for t in thumbs if word in str(t.get("id") or "")]
        # "avatar_uncropped" / "banner_uncropped" first: the full image, not a square crop
        picked.sort(key=lambda t: "uncropped" not in str(t.get("id") or ""))
        return [str(t["url"]) for t in picked]

    avatars, banners = named("avatar"), named("banner")
    rest = [u for u in _best(thumbs) if u not in avatars and u not in banners]
    episodes: dict[str, EpisodeMetadata] = {}
    page = info.get("webpage_url")
    stack = [e for e in info.get("entries") or [] if isinstance(e, dict)]
    while stack:
        entry = stack.pop()
        children = entry.get("entries")
        if isinstance(children, list):
            stack.extend(c for c in children if isinstance(c, dict))
            continue
        key = _remote_id(entry, page if isinstance(page, str) else None)
        if key is None:
            continue
        images = _best(_thumbnails(entry))
        overview = plain_text(entry.get("description"))
        if images or overview:
            episodes[key] = EpisodeMetadata(overview=overview, image=images[0] if images else None)
    return SourceMetadata(
        overview=plain_text(info.get("description")),
        author=plain_text(info.get("channel") or info.get("uploader"), 300),
        categories=tuple(str(c)[:100] for c in (info.get("categories") or [])[:20]),
        posters=tuple(avatars + rest),
        fanart=tuple(banners),
        banners=tuple(banners),
        episodes=episodes,
    )


def _remote_id(entry: dict[str, Any], playlist_page: str | None) -> str | None:
    """The remote id :func:`_episode` gives this entry (None when it is not an episode)."""
    from yt_dlp.utils import unsmuggle_url

    page = _page_url(entry, playlist_page)
    if not page or not page.startswith(("http://", "https://")):
        return None
    smuggled = unsmuggle_url(entry["url"])[1] if isinstance(entry.get("url"), str) else None
    return str(entry.get("id") or (smuggled or {}).get("force_videoid") or page)[:2000]


def _is_playlist(entry: dict[str, Any]) -> bool:
    if entry.get("_type") in ("playlist", "multi_video"):
        return True
    ie_key = str(entry.get("ie_key") or "")
    return bool(entry.get("_type") == "url" and _NESTED_IE_RE.search(ie_key))


def _reverse(order: Any, info: dict[str, Any]) -> bool:
    if order in ("listed", "reversed"):
        return bool(order == "reversed")
    # Channels list newest first; playlists and pages oldest first.
    return bool(_CHANNEL_IE_RE.search(str(info.get("extractor_key") or "")))


def _page_url(entry: dict[str, Any], playlist_page: str | None) -> str | None:
    """The entry's own page; for videos found inline on the playlist's page, their media URL
    (yt-dlp reads a direct media URL as well)."""
    from yt_dlp.utils import unsmuggle_url

    url = entry.get("url")
    if entry.get("_type") in ("url", "url_transparent") and isinstance(url, str):
        return str(unsmuggle_url(url)[0])
    page = entry.get("webpage_url")
    if isinstance(page, str) and page != playlist_page:
        return page
    return url if isinstance(url, str) else None


def _episode(entry: dict[str, Any], season: int, playlist_page: str | None) -> RemoteEpisode | None:
    from yt_dlp.utils import unsmuggle_url

    page = _page_url(entry, playlist_page)
    if not page or not page.startswith(("http://", "https://")):
        return None
    smuggled = unsmuggle_url(entry["url"])[1] if isinstance(entry.get("url"), str) else None
    remote_id = entry.get("id") or (smuggled or {}).get("force_videoid") or page
    published = _when(entry)
    duration = entry.get("duration")
    return RemoteEpisode(
        remote_id=str(remote_id)[:2000],
        season=season,
        title=plain_text(entry.get("title"), 500),
        air_date=published.date() if published else None,
        published=published,
        duration_s=int(duration) if isinstance(duration, int | float) and duration > 0 else None,
        candidates=(Candidate(url=page, kind="page"),),
    )


def _publication_order(episodes: list[RemoteEpisode], *, reverse: bool) -> list[RemoteEpisode]:
    listed = list(reversed(episodes)) if reverse else list(episodes)
    if listed and all(e.published is not None for e in listed):
        listed.sort(key=lambda e: e.published or dt.datetime.min.replace(tzinfo=dt.UTC))
    return listed


def _with_season(ep: RemoteEpisode, season: int) -> RemoteEpisode:
    from dataclasses import replace

    return replace(ep, season=season)
