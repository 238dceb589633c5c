"""Naming settings: the global scheme (system_settings "library.naming", shared by every
process, so a change reaches running workers without a restart), a series' override
(series_library_rules.naming), where an episode belongs, and the preview of a scheme.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import Episode, Series, SeriesLibraryRules, SystemSetting
from showkeeper.domain.naming import (
    DEFAULT_SCHEME,
    FIELDS,
    NamingScheme,
    episode_path,
    merge,
    scheme_from,
    series_folder,
    validate_scheme,
)
from showkeeper.domain.paths import EpisodeNaming, UnsafePathError, safe_extension
from showkeeper.errors import NotFoundError, ShowkeeperError

GLOBAL_KEY = "library.naming"
PREVIEW_MAX = 500


class NamingError(ShowkeeperError):
    """A template or naming setting was refused; the message names it and why (400)."""


async def _setting(session: AsyncSession, key: str) -> dict[str, Any]:
    value = await session.scalar(select(SystemSetting.value).where(SystemSetting.key == key))
    return value if isinstance(value, dict) else {}


async def put_setting(session: AsyncSession, key: str, value: dict[str, Any]) -> None:
    """Write one system_settings row (inside the caller's write transaction)."""
    await session.merge(SystemSetting(key=key, value=value))


async def series_row(session: AsyncSession, key: str) -> Series:
    """The series with this key.

    Raises:
        NotFoundError: there is none.
    """
    series = await session.scalar(select(Series).where(Series.key == key))
    if series is None:
        raise NotFoundError(f"no series with key {key!r}")
    return series


async def rules_of(session: AsyncSession, series_id: int) -> SeriesLibraryRules | None:
    return await session.get(SeriesLibraryRules, series_id)


async def global_scheme(session: AsyncSession) -> NamingScheme:
    return scheme_from(await _setting(session, GLOBAL_KEY))


async def scheme_for(session: AsyncSession, series_id: int) -> NamingScheme:
    """The series' effective scheme: its override over the global one."""
    base = await global_scheme(session)
    rules = await rules_of(session, series_id)
    return merge(base, rules.naming if rules is not None else {})


def _checked(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    try:
        return validate_scheme(values, partial=partial)
    except UnsafePathError as exc:
        raise NamingError(str(exc)) from None


async def naming_settings(db: Database) -> dict[str, Any]:
    """The global scheme, the defaults and the documented fields."""
    async with db.session() as s:
        scheme = await global_scheme(s)
    return {"naming": scheme.as_dict(), "defaults": DEFAULT_SCHEME.as_dict(), "fields": FIELDS}


async def set_naming(db: Database, values: dict[str, Any]) -> NamingScheme:
    """Change the global templates given in ``values`` (others keep their value).

    Raises:
        NamingError: a template is refused (nothing is stored).
    """
    clean = _checked(values, partial=False)
    async with db.write() as s:
        current = (await global_scheme(s)).as_dict()
        scheme = NamingScheme(**{**current, **clean})
        await put_setting(s, GLOBAL_KEY, scheme.as_dict())
    return scheme


async def series_naming(db: Database, key: str) -> dict[str, Any]:
    """A series' override (None: the global template) and its effective scheme."""
    async with db.session() as s:
        series = await series_row(s, key)
        rules = await rules_of(s, series.id)
        override = {k: (rules.naming if rules else {}).get(k) for k in NamingScheme().as_dict()}
        effective = await scheme_for(s, series.id)
    return {"series_key": key, "override": override, "effective": effective.as_dict()}


async def set_series_naming(db: Database, key: str, values: dict[str, Any]) -> dict[str, Any]:
    """Set (a str) or clear (None) the series' own templates.

    Raises:
        NotFoundError: no such series.
        NamingError: a template is refused (nothing is stored).
    """
    clean = _checked(values, partial=True)
    async with db.write() as s:
        series = await series_row(s, key)
        rules = await rules_of(s, series.id)
        if rules is None:
            rules = SeriesLibraryRules(series_id=series.id, naming={}, retention={})
            s.add(rules)
        merged = {**rules.naming, **clean}
        rules.naming = {k: v for k, v in merged.items() if v is not None}
    return await series_naming(db, key)


def quality_of(candidates: Any) -> str | None:
    """``"1080p"``: the best candidate's video height, when a source says it."""
    items = candidates if isinstance(candidates, list) else []
    heights = [c.get("quality") for c in items if isinstance(c, dict)]
    ints = [h for h in heights if isinstance(h, int) and not isinstance(h, bool)]
    return f"{max(ints)}p" if ints else None


class EpisodeLike(Protocol):
    """What naming reads of an episode (an ORM row or a plain :class:`EpisodeRow`)."""

    @property
    def id(self) -> int: ...
    @property
    def season(self) -> int: ...
    @property
    def episode(self) -> int: ...
    @property
    def title(self) -> str | None: ...
    @property
    def absolute_number(self) -> int | None: ...
    @property
    def air_date(self) -> date | None: ...
    @property
    def candidates(self) -> Any: ...
    @property
    def remote_id(self) -> str | None: ...
    @property
    def file_path(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class EpisodeRow:
    """The columns naming needs, without an ORM object per row (a library has many)."""

    id: int
    season: int
    episode: int
    title: str | None
    absolute_number: int | None
    air_date: date | None
    candidates: Any
    remote_id: str | None
    file_path: str | None


EPISODE_ROW_COLUMNS = (
    Episode.id,
    Episode.season,
    Episode.episode,
    Episode.title,
    Episode.absolute_number,
    Episode.air_date,
    Episode.candidates,
    Episode.remote_id,
    Episode.file_path,
)


def naming_of(series: Series, episodes: Sequence[EpisodeLike], ext: str) -> EpisodeNaming:
    """What names the file of ``episodes`` (one, or several for a multi-episode file).

    Raises:
        UnsafePathError: a number is out of range or the extension is not a media one.
    """
    first = episodes[0]
    return EpisodeNaming(
        series=series.name,
        season=first.season,
        episodes=tuple(sorted(e.episode for e in episodes)),
        title=first.title,
        ext=safe_extension(ext),
        absolute=first.absolute_number,
        air_date=first.air_date,
        year=series.year,
        quality=quality_of(first.candidates),
        source_id=first.remote_id,
    )


def folder_for(scheme: NamingScheme, series: Series) -> str:
    """The series folder the scheme asks for.

    Raises:
        UnsafePathError: the template cannot be rendered.
    """
    return series_folder(
        scheme,
        current=series.folder,
        name=series.name,
        year=series.year,
        source_id=series.key,
    )


def target_path(
    scheme: NamingScheme,
    series: Series,
    episodes: Sequence[EpisodeLike],
    ext: str,
    *,
    folder: str,
) -> PurePosixPath:
    """Where the file of ``episodes`` belongs, inside series folder ``folder``.

    Raises:
        UnsafePathError: the name cannot be made (bad extension, template without an
            identifier this episode has).
    """
    return episode_path(scheme, folder, naming_of(series, episodes, ext))


def extension_of(path: str) -> str:
    return PurePosixPath(path).suffix


async def preview(
    db: Database, key: str, values: dict[str, Any] | None = None, *, limit: int = 50
) -> dict[str, Any]:
    """Render the series' episodes with its scheme, changed by ``values`` (not stored).

    Downloaded episodes keep their file's extension; the others show ``.mp4``. Names that two
    files would share are listed as collisions.

    Raises:
        NotFoundError: no such series.
        NamingError: a template in ``values`` is refused.
    """
    clean = _checked(values or {}, partial=True)
    limit = max(1, min(limit, PREVIEW_MAX))
    async with db.session() as s:
        series = await series_row(s, key)
        scheme = merge(await scheme_for(s, series.id), clean)
        rows = list(
            await s.scalars(
                select(Episode)
                .where(Episode.series_id == series.id)
                .order_by(Episode.season.desc(), Episode.episode.desc())
                .limit(limit)
            )
        )
    try:
        folder = folder_for(scheme, series)
    except UnsafePathError as exc:
        raise NamingError(f"series_folder: {exc}") from None
    items: list[dict[str, Any]] = []
    for ep in reversed(rows):
        ext = extension_of(ep.file_path) if ep.file_path else ".mp4"
        item: dict[str, Any] = {
            "episode_id": ep.id,
            "season": ep.season,
            "episode": ep.episode,
            "title": ep.title,
            "current": ep.file_path,
        }
        try:
            item["path"] = target_path(scheme, series, [ep], ext, folder=folder).as_posix()
        except UnsafePathError as exc:
            item["path"], item["error"] = None, str(exc)
        items.append(item)
    counts = Counter(i["path"] for i in items if i["path"])
    collisions = sorted(p for p, n in counts.items() if n > 1)
    return {
        "series_key": key,
        "naming": scheme.as_dict(),
        "folder": folder,
        "items": items,
        "collisions": collisions,
    }
