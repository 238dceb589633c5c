"""Artwork for the browser: the files in the series folder (never a path from the request),
and resized copies for the grid cached under ``data_dir/artwork-cache``."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import NotFoundError
from showkeeper.metadata.artwork import (
    FILE_NAMES,
    ArtworkError,
    Kind,
    inspect_image,
    sniff,
    thumb_path,
)

WIDTHS: Final = (100, 150, 200, 300, 400, 600)
CACHE_DIR: Final = "artwork-cache"
_TYPES: Final = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class ServedImage:
    path: Path
    etag: str
    media_type: str


def _etag(path: Path, width: int | None) -> str:
    st = path.stat()
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}-{width or 0}"'


def _resized(settings: Settings, source: Path, etag: str, width: int, png: bool) -> Path:
    """A copy at most ``width`` px wide, made once per source version."""
    name = hashlib.sha256(f"{source}|{etag}".encode()).hexdigest()[:32]
    out = settings.data_dir / CACHE_DIR / f"{name}-{width}.{'png' if png else 'jpg'}"
    if out.exists():
        return out
    max_bytes = settings.artwork_max_mb * 1024 * 1024
    data = source.read_bytes()[: max_bytes + 1]
    inspect_image(data, max_bytes=max_bytes)
    from PIL import Image  # loaded by inspect_image already; not at import (see artwork.py)

    with Image.open(io.BytesIO(data)) as img:
        img.load()
        if img.width > width:
            img.thumbnail((width, width * 4))
        buf = io.BytesIO()
        if png:
            img.convert("RGBA").save(buf, "PNG")
        else:
            img.convert("RGB").save(buf, "JPEG", quality=85)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, out)
    return out


def _serve(settings: Settings, root: Path, rel: str, width: int | None) -> ServedImage:
    try:
        path = ensure_inside(root, rel)
    except UnsafePathError:
        raise NotFoundError("no such artwork") from None
    if not path.is_file():
        raise NotFoundError(f"no {PurePosixPath(rel).name} in the series folder yet")
    etag = _etag(path, width)
    png = path.suffix.lower() == ".png"
    if width is not None:
        try:
            resized = _resized(settings, path, etag, width, png)
        except (ArtworkError, OSError) as exc:
            raise NotFoundError(f"artwork cannot be shown ({exc})") from None
        return ServedImage(resized, etag, "image/png" if png else "image/jpeg")
    with open(path, "rb") as fh:
        head = fh.read(16)
    kind = sniff(head)
    if kind is None:
        raise NotFoundError("artwork file is not an image")
    return ServedImage(path, etag, _TYPES[kind])


def _check_width(width: int | None) -> int | None:
    if width is None:
        return None
    return min((w for w in WIDTHS if w >= width), default=WIDTHS[-1])


async def series_artwork(
    db: Database, settings: Settings, root: Path, key: str, kind: Kind, width: int | None
) -> ServedImage:
    """The series' poster/fanart/logo/banner file (optionally resized).

    Raises:
        NotFoundError: no such series, or no such file (yet).
    """
    async with db.session() as s:
        folder = await s.scalar(select(Series.folder).where(Series.key == key))
    if folder is None:
        raise NotFoundError(f"no series with key {key[:200]!r}")
    rel = str(PurePosixPath(folder) / FILE_NAMES[kind])
    return await asyncio.to_thread(_serve, settings, root, rel, _check_width(width))


async def episode_thumb(
    db: Database,
    settings: Settings,
    root: Path,
    key: str,
    season: int,
    episode: int,
    width: int | None,
) -> ServedImage:
    """The ``-thumb.jpg`` beside a downloaded episode.

    Raises:
        NotFoundError: no such series or episode, not downloaded, or no thumbnail.
    """
    async with db.session() as s:
        path = await s.scalar(
            select(Episode.file_path)
            .join(Series, Series.id == Episode.series_id)
            .where(Series.key == key, Episode.season == season, Episode.episode == episode)
        )
    if not path:
        raise NotFoundError(f"no downloaded episode S{season:02d}E{episode:02d} of {key[:200]!r}")
    return await asyncio.to_thread(_serve, settings, root, thumb_path(path), _check_width(width))
