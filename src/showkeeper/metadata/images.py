"""Download artwork through the guarded client and write it where Kodi and Jellyfin look.

Each target tries its URLs best first; the first one whose bytes pass
:func:`artwork.prepare_image` is written. The ownership rules of :func:`artwork.decide` say
whether a file may be (re)written at all; ``owned`` (file name -> sha256) is updated with
what was written, so the next run can tell our files from another tool's.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import select, update

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.logging import get_logger
from showkeeper.metadata.artwork import (
    ArtworkError,
    decide,
    digest,
    prepare_image,
    thumb_path,
    write_image,
)
from showkeeper.net import HttpClient, OutboundError
from showkeeper.sources.fetching import make_client

log = get_logger(__name__)
FETCH_DEADLINE_S = 60.0
MAX_TRIES = 3  # URLs tried per target before giving up
IMAGES_AT_ONCE = 4  # files of one series fetched at once (image hosts are CDNs)


@dataclass(frozen=True, slots=True)
class Target:
    rel: str  # relative to the library root
    key: str  # relative to the series folder (the key in Series.artwork)
    urls: tuple[str, ...]


@dataclass
class ImageRun:
    """What one pass over targets did."""

    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def fetch_image(http: HttpClient, url: str, target: str, *, max_bytes: int) -> bytes:
    """GET an image and check it for ``target``'s type.

    Raises:
        ArtworkError: not an image, too large, broken; or the fetch failed (its message).
    """
    try:
        async with asyncio.timeout(FETCH_DEADLINE_S):
            result = await http.fetch(url, max_bytes=max_bytes, retries=1)
    except OutboundError as exc:
        raise ArtworkError(str(exc)) from None
    except TimeoutError:
        raise ArtworkError(f"{url} took longer than {FETCH_DEADLINE_S:g}s") from None
    return await asyncio.to_thread(prepare_image, result.body, target, max_bytes=max_bytes)


async def apply_targets(
    http: HttpClient,
    root: Path,
    targets: list[Target],
    owned: dict[str, str],
    *,
    max_bytes: int,
    replace: bool,
    refresh: bool,
) -> ImageRun:
    """Write the targets a few at once (``IMAGES_AT_ONCE``); ``owned`` gains what was written."""
    run = ImageRun()
    limit = asyncio.Semaphore(IMAGES_AT_ONCE)

    async def one(target: Target) -> None:
        async with limit:
            await _apply_one(http, root, target, owned, run, max_bytes, replace, refresh)

    await asyncio.gather(*(one(t) for t in targets))
    return run


async def _apply_one(
    http: HttpClient,
    root: Path,
    target: Target,
    owned: dict[str, str],
    run: ImageRun,
    max_bytes: int,
    replace: bool,
    refresh: bool,
) -> None:
    try:
        path = ensure_inside(root, target.rel)
    except UnsafePathError as exc:
        run.errors.append(f"{target.key[:200]}: {exc}")
        return
    decision = await asyncio.to_thread(
        decide, path, owned.get(target.key), max_bytes=max_bytes, replace=replace, refresh=refresh
    )
    if decision != "write":
        run.kept.append(target.key)
        return
    if not target.urls:
        return
    problems: list[str] = []
    for url in target.urls[:MAX_TRIES]:
        try:
            data = await fetch_image(http, url, target.rel, max_bytes=max_bytes)
            await asyncio.to_thread(write_image, root, target.rel, data)
        except (ArtworkError, UnsafePathError, OSError) as exc:
            problems.append(f"{url[:300]}: {exc}")
            log.warning("artwork not written", file=target.rel[:300], url=url[:300], error=str(exc))
            continue
        owned[target.key] = digest(data)
        run.written.append(target.key)
        return
    run.errors.append(f"{target.key[:200]}: {problems[-1] if problems else 'no image'}")


async def write_episode_thumb(
    db: Database, settings: Settings, root: Path, episode_id: int
) -> ImageRun:
    """After a download: the ``<stem>-thumb.jpg`` beside the episode, when a thumbnail URL is
    known (from the source or TMDB) and no valid thumb is there yet."""
    async with db.session() as s:
        found = (
            await s.execute(
                select(Episode, Series)
                .join(Series, Series.id == Episode.series_id)
                .where(Episode.id == episode_id)
            )
        ).one_or_none()
    run = ImageRun()
    if found is None:
        return run
    episode, series = found
    if not episode.is_downloaded or not episode.file_path or not episode.image_url:
        return run
    rel = thumb_path(episode.file_path)
    try:
        key = str(PurePosixPath(rel).relative_to(series.folder))
    except ValueError:
        return run
    owned = dict(series.artwork or {})
    async with make_client(settings, concurrency=2) as http:
        run = await apply_targets(
            http,
            root,
            [Target(rel=rel, key=key, urls=(episode.image_url,))],
            owned,
            max_bytes=settings.artwork_max_mb * 1024 * 1024,
            replace=False,
            refresh=False,
        )
    if run.written:
        async with db.write() as s:
            current = await s.scalar(select(Series.artwork).where(Series.id == series.id))
            merged = {**(current or {}), key: owned[key]}
            await s.execute(update(Series).where(Series.id == series.id).values(artwork=merged))
    return run
