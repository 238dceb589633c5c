"""Reading the scan state: which folder is which series, what each folder looked like last time.

Everything here is a read; the writes live in sync.py. Each loader is one query.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db.models import Episode, LibraryFolder, LibraryIssue, Series

# the issue kinds a user is asked to match to a series, and all the others (file level)
UNMAPPED = "unmapped"


@dataclass(frozen=True, slots=True)
class SeriesRef:
    id: int
    key: str
    folder: str


@dataclass(slots=True)
class FolderRecord:
    """A series folder as recorded by the last scan that read it."""

    series_id: int | None
    linked: int | None
    dirs: dict[str, int] = field(default_factory=dict)  # path -> mtime_ns


async def load_series_refs(session: AsyncSession) -> dict[str, SeriesRef]:
    """Every series by its folder name."""
    rows = await session.execute(select(Series.id, Series.key, Series.folder))
    return {folder: SeriesRef(id_, key, folder) for id_, key, folder in rows}


async def series_by_key(session: AsyncSession, key: str) -> SeriesRef | None:
    row = (
        await session.execute(select(Series.id, Series.key, Series.folder).where(Series.key == key))
    ).first()
    return SeriesRef(row[0], row[1], row[2]) if row else None


async def load_records(
    session: AsyncSession, folders: Collection[str] | None = None
) -> dict[str, FolderRecord]:
    """The recorded folders, grouped by series folder (all of them, or those named)."""
    query = select(
        LibraryFolder.series_folder,
        LibraryFolder.path,
        LibraryFolder.mtime_ns,
        LibraryFolder.series_id,
        LibraryFolder.linked,
    )
    if folders is not None:
        query = query.where(LibraryFolder.series_folder.in_(list(folders)))
    records: dict[str, FolderRecord] = {}
    for series_folder, path, mtime, series_id, linked in await session.execute(query):
        record = records.get(series_folder)
        if record is None:
            record = records[series_folder] = FolderRecord(None, None)
        record.dirs[path] = mtime
        if path == series_folder:
            record.series_id, record.linked = series_id, linked
    return records


async def load_root_issues(session: AsyncSession) -> set[tuple[str, str, str]]:
    """The issues of the library root itself, as (kind, path, detail)."""
    rows = await session.execute(
        select(LibraryIssue.kind, LibraryIssue.path, LibraryIssue.detail).where(
            LibraryIssue.series_folder == "", LibraryIssue.folder == ""
        )
    )
    return {(kind, path, detail) for kind, path, detail in rows}


async def linked_counts(
    session: AsyncSession, series_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Downloaded episodes per series (series without any are absent)."""
    query = (
        select(Episode.series_id, func.count())
        .where(Episode.is_downloaded.is_(True))
        .group_by(Episode.series_id)
    )
    if series_ids is not None:
        query = query.where(Episode.series_id.in_(list(series_ids)))
    return {sid: n for sid, n in await session.execute(query)}


async def list_issues(
    session: AsyncSession,
    *,
    unmapped: bool,
    series_folder: str | None = None,
    limit: int = 500,
    offset: int = 0,
) -> tuple[int, list[LibraryIssue]]:
    """Unmapped folders (``unmapped=True``) or file-level issues, oldest first, and their total."""
    cond = LibraryIssue.kind == UNMAPPED if unmapped else LibraryIssue.kind != UNMAPPED
    query = select(LibraryIssue).where(cond)
    if series_folder is not None:
        query = query.where(LibraryIssue.series_folder == series_folder)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(LibraryIssue.series_folder, LibraryIssue.path).limit(limit).offset(offset)
    )
    return total, list(rows.scalars())
