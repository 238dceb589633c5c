"""HTTP directory listings: the series is a directory, seasons its subdirectories,
episodes the media files (numbers read by the library's file-name parser)."""

from __future__ import annotations

import asyncio
import datetime as dt
import mimetypes
import re
from dataclasses import dataclass, field

from showkeeper.domain.candidates import Candidate
from showkeeper.domain.filenames import is_media_file, parse_episode_filename, parse_season_folder
from showkeeper.net import FetchResult
from showkeeper.sources.base import (
    NotModified,
    RemoteEpisode,
    SeriesInfo,
    SeriesRef,
    Source,
    SourceEnv,
    SourceError,
    SourceMetadata,
)
from showkeeper.sources.dirlisting import (
    DirEntry,
    directory_name,
    is_listing,
    parse_listing,
)
from showkeeper.sources.feed_parse import looks_like_html
from showkeeper.sources.fetching import fetch
from showkeeper.sources.keys import slug_from_url
from showkeeper.sources.quality import height_from_name, order_candidates

MAX_SEASON_FOLDERS = 200
LISTING_CONCURRENCY = 4
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".webp")
# file stems (lower case) a directory may hold its artwork under, by kind
_ARTWORK_STEMS = {
    "posters": ("poster", "folder", "cover"),
    "fanart": ("fanart", "backdrop", "background"),
    "logos": ("logo", "clearlogo"),
    "banners": ("banner",),
}
_YEAR_RE = re.compile(r"^(?P<title>.*?)[\s._-]*[(\[]?(?P<year>(?:19|20)\d{2})[)\]]?$")


@dataclass(slots=True)
class _Group:
    season: int
    episode: int | None
    air_date: dt.date | None
    title: str | None
    files: list[tuple[DirEntry, int | None]] = field(default_factory=list)


def split_title_year(name: str) -> tuple[str, int | None]:
    """ "Attack on Titan (2013)" -> ("Attack on Titan", 2013)."""
    match = _YEAR_RE.match(name.strip())
    if match and match.group("title").strip():
        return match.group("title").strip(), int(match.group("year"))
    return name.strip(), None


class HttpDirSource(Source):
    """A directory served as an index page by nginx, Apache or Python's http.server."""

    kind = "httpdir"
    label = "HTTP directory"

    def __init__(self, env: SourceEnv) -> None:
        super().__init__(env)
        self._root: dict[str, FetchResult] = {}
        self._entries: dict[str, list[DirEntry]] = {}  # the series folder's entries, for metadata

    @classmethod
    def detect(cls, url: str, body: bytes, content_type: str) -> int:
        return 85 if looks_like_html(body, content_type) and is_listing(body) else 0

    async def _listing(self, url: str) -> tuple[FetchResult, list[DirEntry]]:
        result = await fetch(self.env, url)
        if not is_listing(result.body):
            raise SourceError(
                f"{result.url} is not a directory listing (no nginx, Apache or http.server "
                "index page); give the URL of the series' folder"
            )
        return result, parse_listing(result.body, result.url)

    async def probe(self, url: str) -> SeriesInfo:
        result, _ = await self._listing(url)
        self._root[url] = result
        name = directory_name(result.url) or (result.url.split("//", 1)[-1].split("/")[0])
        title, year = split_title_year(name)
        return SeriesInfo(key=slug_from_url(url), title=title, year=year)

    async def episodes(self, series: SeriesRef) -> list[RemoteEpisode]:
        known: dict[str, list[str | None]] = series.state.get("listings") or {}
        if series.url not in self._root and known and await self._unchanged(known):
            raise NotModified
        root = self._root.pop(series.url, None)
        if root is None:
            root, entries = await self._listing(series.url)
        else:
            entries = parse_listing(root.body, root.url)
        self._entries[series.url] = entries
        validators: dict[str, list[str | None]] = {series.url: [root.etag, root.last_modified]}
        files: list[tuple[DirEntry, int | None]] = [(e, None) for e in entries if not e.is_dir]
        seasons = [
            (e, season)
            for e in entries
            if e.is_dir and (season := parse_season_folder(e.name)) is not None
        ][:MAX_SEASON_FOLDERS]
        limit = asyncio.Semaphore(LISTING_CONCURRENCY)

        async def read(folder: DirEntry) -> tuple[FetchResult, list[DirEntry]]:
            async with limit:
                return await self._listing(folder.url)

        listed = await asyncio.gather(*(read(folder) for folder, _ in seasons))
        for (folder, season), (result, children) in zip(seasons, listed, strict=True):
            validators[folder.url] = [result.etag, result.last_modified]
            files.extend((child, season) for child in children if not child.is_dir)
        series.state["listings"] = validators
        return self._group(files)

    async def _unchanged(self, known: dict[str, list[str | None]]) -> bool:
        """True when every listing read last time answers 304 to a conditional GET."""
        if any(etag is None and modified is None for etag, modified in known.values()):
            return False

        async def check(url: str, etag: str | None, modified: str | None) -> bool:
            result = await fetch(self.env, url, etag=etag, last_modified=modified)
            return result.not_modified

        answers = await asyncio.gather(*(check(u, *v) for u, v in known.items()))
        return all(answers)

    async def metadata(self, series: SeriesRef) -> SourceMetadata:
        """Artwork files the folder holds: ``poster.*``/``folder.*``, ``fanart.*``, ``logo.*``,
        ``banner.*`` (jpg, png or webp)."""
        entries = self._entries.get(series.url)
        if entries is None:
            _, entries = await self._listing(series.url)
        found: dict[str, list[str]] = {kind: [] for kind in _ARTWORK_STEMS}
        for entry in entries:
            name = entry.name.lower()
            if entry.is_dir or not name.endswith(_IMAGE_EXT):
                continue
            stem = name.rsplit(".", 1)[0]
            for kind, stems in _ARTWORK_STEMS.items():
                if stem in stems:
                    found[kind].append(entry.url)
        return SourceMetadata(
            posters=tuple(found["posters"]),
            fanart=tuple(found["fanart"]),
            logos=tuple(found["logos"]),
            banners=tuple(found["banners"]),
        )

    def _group(self, files: list[tuple[DirEntry, int | None]]) -> list[RemoteEpisode]:
        groups: dict[tuple[int, int | str], _Group] = {}
        for entry, hint in files:
            if not is_media_file(entry.name):
                continue
            parsed = parse_episode_filename(entry.name, season_hint=hint)
            if parsed is None:
                continue
            season = (
                parsed.season if parsed.season is not None else (hint if hint is not None else 1)
            )
            number = parsed.episodes[0] if parsed.episodes else None
            if number is None and parsed.air_date is None:
                continue
            gkey: tuple[int, int | str] = (
                season,
                number if number is not None else f"d{parsed.air_date}",
            )
            group = groups.setdefault(gkey, _Group(season, number, parsed.air_date, parsed.title))
            group.files.append((entry, height_from_name(entry.name)))
        numbered = [g for g in groups.values() if g.episode is not None]
        dated = sorted(
            (g for g in groups.values() if g.episode is None),
            key=lambda g: (g.air_date or dt.date.min, g.files[0][0].name),
        )
        numbered.sort(key=lambda g: (g.season, g.episode or 0))
        return [self._episode(g) for g in [*numbered, *dated]]

    def _episode(self, group: _Group) -> RemoteEpisode:
        candidates = order_candidates(
            (
                Candidate(
                    url=entry.url,
                    kind="direct",
                    quality=height,
                    mime=mimetypes.guess_type(entry.name)[0],
                    size=entry.size,
                )
                for entry, height in group.files
            ),
            max_height=self.env.settings.max_resolution,
        )
        if group.episode is not None:
            remote_id = f"S{group.season:02d}E{group.episode:02d}"
        else:
            remote_id = f"S{group.season:02d}D{group.air_date}"
        return RemoteEpisode(
            remote_id=remote_id,
            season=group.season,
            episode=group.episode,
            title=group.title,
            air_date=group.air_date,
            candidates=candidates,
        )
