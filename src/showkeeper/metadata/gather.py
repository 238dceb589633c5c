"""What the metadata loader knows about a series before it writes anything: the source's own
metadata and, when a key is set and the match is confident (or chosen), TMDB's.

Both are optional. A failure of either is recorded as a message and the other still counts:
the source's metadata is the fallback when TMDB is off, fails or finds nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from showkeeper.config import Settings
from showkeeper.db.models import Episode, Series
from showkeeper.errors import ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.metadata.matching import confident_match
from showkeeper.metadata.tmdb import TmdbAuthError, TmdbClient, TmdbError, TmdbImages, is_image_path
from showkeeper.net import HttpClient
from showkeeper.sources.base import SeriesRef, SourceEnv, SourceMetadata
from showkeeper.sources.registry import get_source, kinds

log = get_logger(__name__)
MAX_SEASONS = 60
SEASONS_AT_ONCE = 4


@dataclass
class Gathered:
    """Everything the steps write from; image lists are URLs, best first."""

    source: SourceMetadata = field(default_factory=SourceMetadata)
    tmdb_id: int | None = None
    tmdb_match: str | None = None
    show: dict[str, Any] | None = None
    overview: str | None = None
    year: int | None = None
    genres: list[str] = field(default_factory=list)
    studio: str | None = None
    posters: list[str] = field(default_factory=list)
    fanart: list[str] = field(default_factory=list)
    logos: list[str] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)
    season_posters: dict[int, str] = field(default_factory=dict)
    # (season, episode) -> TMDB episode; air date -> TMDB episode (for date-numbered sources)
    by_number: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    by_date: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    tmdb_auth_failed: bool = False
    tmdb_requests: int = 0


def tmdb_configured(settings: Settings) -> bool:
    key = settings.tmdb_api_key
    return key is not None and bool(key.get_secret_value().strip())


async def source_metadata(series: Series, settings: Settings, http: HttpClient) -> SourceMetadata:
    """The source plugin's own metadata (empty for local series and unknown kinds)."""
    if not series.source_url or series.source_kind not in kinds():
        return SourceMetadata()
    env = SourceEnv(client=http, settings=settings)
    source = get_source(series.source_kind, env)
    ref = SeriesRef(
        key=series.key,
        url=series.source_url,
        kind=series.source_kind,
        options=dict(series.options or {}),
        state=dict(series.source_state or {}),
    )
    return await source.metadata(ref)


def _pick(items: list[dict[str, Any]], language: str) -> list[dict[str, Any]]:
    """Images in the user's language first, then without text, then the rest; by votes."""
    lang = language.split("-")[0].lower()

    def rank(item: dict[str, Any]) -> tuple[int, float]:
        tag = item.get("iso_639_1")
        first = 0 if tag == lang else 1 if tag in (None, "", "xx") else 2
        votes = item.get("vote_average")
        return first, -(float(votes) if isinstance(votes, int | float) else 0.0)

    return sorted(items, key=rank)


async def _tmdb(
    g: Gathered, series: Series, seasons: set[int], settings: Settings, http: HttpClient
) -> None:
    async with TmdbClient(settings, http=http) as tmdb:
        try:
            tmdb_id = series.tmdb_id
            if tmdb_id is None:
                results = await tmdb.search_tv(series.name)
                tmdb_id = confident_match(series.name, series.year, results)
                if tmdb_id is None:
                    g.errors["tmdb"] = (
                        f"no confident TMDB match for {series.name[:100]!r} "
                        f"({len(results)} results); pick one with Identify"
                    )
                    return
                g.tmdb_match = "auto"
            g.tmdb_id = tmdb_id
            # three independent calls at once: one round trip instead of three
            images_at, show, pictures = await _all(
                tmdb.configuration(), tmdb.tv(tmdb_id), tmdb.images(tmdb_id)
            )
            g.show = show
            _show_fields(g, show)
            _artwork(g, show, pictures, images_at, settings.metadata_language)
            known = {
                s["season_number"]
                for s in show.get("seasons") or []
                if isinstance(s, dict) and isinstance(s.get("season_number"), int)
            }
            # a source numbered by year (seasons 2023, 2024) is matched by air date: all seasons
            wanted = (seasons & known) or (known if seasons else set())
            numbers = sorted(wanted)[:MAX_SEASONS]
            limit = asyncio.Semaphore(SEASONS_AT_ONCE)

            async def season(number: int) -> dict[str, Any]:
                async with limit:
                    return await tmdb.season(tmdb_id, number)

            answers = await asyncio.gather(*(season(n) for n in numbers), return_exceptions=True)
            for number, answer in zip(numbers, answers, strict=True):
                if isinstance(answer, TmdbAuthError):
                    raise answer
                if isinstance(answer, TmdbError):
                    g.errors[f"tmdb season {number}"] = str(answer)
                elif isinstance(answer, BaseException):
                    raise answer
                else:
                    _season(g, number, answer, images_at)
        finally:
            g.tmdb_requests = tmdb.requests


async def _all(
    config: Awaitable[TmdbImages],
    show: Awaitable[dict[str, Any]],
    pictures: Awaitable[dict[str, list[dict[str, Any]]]],
) -> tuple[TmdbImages, dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """Await all three; the first error (a 401 before the others) is raised once all ended."""
    answers = await asyncio.gather(config, show, pictures, return_exceptions=True)
    auth: list[BaseException] = [a for a in answers if isinstance(a, TmdbAuthError)]
    failed = auth or [a for a in answers if isinstance(a, BaseException)]
    if failed:
        raise failed[0]
    at, details, images = answers
    if not (isinstance(at, TmdbImages) and isinstance(details, dict) and isinstance(images, dict)):
        raise TmdbError("TMDB answered in an unexpected shape; try again later")
    return at, details, images


def _show_fields(g: Gathered, show: dict[str, Any]) -> None:
    overview = show.get("overview")
    g.overview = overview if isinstance(overview, str) and overview.strip() else None
    first = show.get("first_air_date")
    if isinstance(first, str) and first[:4].isdigit():
        g.year = int(first[:4])
    g.genres = [
        str(x["name"])[:100]
        for x in show.get("genres") or []
        if isinstance(x, dict) and isinstance(x.get("name"), str)
    ][:20]
    networks = [
        n.get("name") for n in show.get("networks") or [] if isinstance(n, dict) and n.get("name")
    ]
    g.studio = str(networks[0])[:200] if networks else None


def _artwork(
    g: Gathered,
    show: dict[str, Any],
    pictures: dict[str, list[dict[str, Any]]],
    at: TmdbImages,
    language: str,
) -> None:
    def urls(items: list[dict[str, Any]]) -> list[str]:
        return [at.url(i["file_path"]) for i in _pick(items, language)]

    g.posters = urls(pictures["posters"])
    g.fanart = urls(pictures["backdrops"])
    g.logos = [
        u
        for u in urls(pictures["logos"])
        if u.lower().endswith((".png", ".jpg", ".jpeg", ".webp"))  # an SVG logo is not written
    ]
    for name, target in (("poster_path", g.posters), ("backdrop_path", g.fanart)):
        path = show.get(name)
        if is_image_path(path) and at.url(path) not in target:
            target.insert(0, at.url(path))


def _season(g: Gathered, number: int, season: dict[str, Any], at: TmdbImages) -> None:
    poster = season.get("poster_path")
    if is_image_path(poster):
        g.season_posters[number] = at.url(poster)
    for ep in season.get("episodes") or []:
        if not isinstance(ep, dict) or not isinstance(ep.get("episode_number"), int):
            continue
        still = ep.get("still_path")
        ep["_still"] = at.url(still) if is_image_path(still) else None
        g.by_number[(number, ep["episode_number"])] = ep
        air = ep.get("air_date")
        if isinstance(air, str) and air:
            g.by_date.setdefault(air, ep)


async def gather(
    series: Series, seasons: set[int], settings: Settings, http: HttpClient
) -> Gathered:
    """The source's metadata, and TMDB's unless it is off or the user said "no match"."""
    g = Gathered(tmdb_id=series.tmdb_id, tmdb_match=series.tmdb_match)
    try:
        g.source = await source_metadata(series, settings, http)
    except ShowkeeperError as exc:
        g.errors["source"] = str(exc)
        log.warning("source metadata not read", key=series.key, error=str(exc))
    if tmdb_configured(settings) and series.tmdb_match != "none":
        try:
            await _tmdb(g, series, seasons, settings, http)
        except TmdbError as exc:
            g.errors["tmdb"] = str(exc)
            g.tmdb_auth_failed = isinstance(exc, TmdbAuthError)
            log.warning("TMDB metadata not read", key=series.key, error=str(exc))
    src = g.source
    g.posters += [u for u in src.posters if u not in g.posters]
    g.fanart += [u for u in src.fanart if u not in g.fanart]
    g.logos += [u for u in src.logos if u not in g.logos]
    g.banners += [u for u in src.banners if u not in g.banners]
    if not g.genres:
        g.genres = list(src.categories)
    if not g.studio:
        g.studio = src.author
    if not g.overview:
        g.overview = src.overview
    return g


def episode_values(g: Gathered, episode: Episode) -> dict[str, Any]:
    """New overview, title, thumb URL and TMDB id of one episode (only what changes)."""
    tmdb = g.by_number.get((episode.season, episode.episode))
    if tmdb is None and episode.air_date is not None:
        # not found by number: the source numbers by date (or by upload year)
        tmdb = g.by_date.get(episode.air_date.isoformat())
    values: dict[str, Any] = {}
    own = g.source.episodes.get(episode.remote_id or "")
    overview = image = None
    if own is not None:
        overview, image = own.overview, own.image
    if tmdb is not None:
        text = tmdb.get("overview")
        overview = text if isinstance(text, str) and text.strip() else overview
        image = tmdb.get("_still") or image
        name = tmdb.get("name")
        if isinstance(name, str) and name.strip() and not episode.title:
            values["title"] = name.strip()[:500]
        if isinstance(tmdb.get("id"), int) and tmdb["id"] != episode.tmdb_id:
            values["tmdb_id"] = tmdb["id"]
    if overview and overview != episode.overview:
        values["overview"] = overview[:10000]
    if image and image != episode.image_url:
        values["image_url"] = image
    return values


def first_air(g: Gathered) -> dt.date | None:
    if g.show and isinstance(g.show.get("first_air_date"), str):
        try:
            return dt.date.fromisoformat(g.show["first_air_date"])
        except ValueError:
            return None
    return None
