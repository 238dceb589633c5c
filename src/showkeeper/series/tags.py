"""Tags: labels a user attaches to series (stored in ``tags`` / ``series_tags``, migration 0008).

Labels are kept lower-case and trimmed, as Sonarr keeps them; creating a label that exists
answers the existing tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db import Database
from showkeeper.db.models import Series, SeriesTag, Tag
from showkeeper.errors import NotFoundError, ShowkeeperError

MAX_LABEL = 100
_LABEL = re.compile(r"^[^\x00-\x1f\x7f]+$")


class InvalidTagError(ShowkeeperError):
    status_code = 400


@dataclass(frozen=True, slots=True)
class TagView:
    id: int
    label: str


def clean_label(label: str) -> str:
    """Trimmed, lower-case; raises InvalidTagError when empty, too long or with controls."""
    value = label.strip().lower()
    if not value:
        raise InvalidTagError("a tag needs a label")
    if len(value) > MAX_LABEL:
        raise InvalidTagError(f"a tag label has at most {MAX_LABEL} characters")
    if not _LABEL.match(value):
        raise InvalidTagError("a tag label cannot contain control characters")
    return value


async def list_tags(db: Database) -> list[TagView]:
    async with db.session() as s:
        rows = await s.execute(select(Tag.id, Tag.label).order_by(Tag.label))
        return [TagView(i, label) for i, label in rows]


async def get_tag(db: Database, tag_id: int) -> TagView:
    async with db.session() as s:
        row = await s.get(Tag, tag_id)
        if row is None:
            raise NotFoundError(f"no tag with id {tag_id}")
        return TagView(row.id, row.label)


async def create_tag(db: Database, label: str) -> TagView:
    """The tag with this label, created when new."""
    value = clean_label(label)
    for _ in range(2):  # a concurrent create of the same label: read the winner's row
        try:
            async with db.write() as s:
                found = await s.scalar(select(Tag).where(Tag.label == value))
                if found is None:
                    found = Tag(label=value)
                    s.add(found)
                    await s.flush()
                return TagView(found.id, found.label)
        except IntegrityError:
            continue
    raise ShowkeeperError(f"tag {value!r} could not be created; try again")


async def rename_tag(db: Database, tag_id: int, label: str) -> TagView:
    value = clean_label(label)
    try:
        async with db.write() as s:
            row = await s.get(Tag, tag_id)
            if row is None:
                raise NotFoundError(f"no tag with id {tag_id}")
            row.label = value
            return TagView(row.id, row.label)
    except IntegrityError:
        raise InvalidTagError(f"another tag is already labelled {value!r}") from None


async def delete_tag(db: Database, tag_id: int) -> None:
    """Remove the tag from every series and delete it. Raises NotFoundError."""
    async with db.write() as s:
        if await s.get(Tag, tag_id) is None:
            raise NotFoundError(f"no tag with id {tag_id}")
        await s.execute(delete(SeriesTag).where(SeriesTag.tag_id == tag_id))
        await s.execute(delete(Tag).where(Tag.id == tag_id))


async def check_tags(db: Database, tag_ids: Sequence[int]) -> None:
    """Raises NotFoundError naming the ids that are no tag."""
    wanted = sorted(set(tag_ids))
    if not wanted:
        return
    async with db.session() as s:
        known = set((await s.execute(select(Tag.id).where(Tag.id.in_(wanted)))).scalars())
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise NotFoundError(f"no tag with id {', '.join(map(str, unknown[:5]))}")


async def tags_by_series(
    s: AsyncSession, series_ids: Iterable[int] | None = None
) -> dict[int, list[int]]:
    """Tag ids per series id (all series when ``series_ids`` is None)."""
    query = select(SeriesTag.series_id, SeriesTag.tag_id).order_by(SeriesTag.tag_id)
    if series_ids is not None:
        ids = list(series_ids)
        if not ids:
            return {}
        query = query.where(SeriesTag.series_id.in_(ids))
    out: dict[int, list[int]] = {}
    for series_id, tag_id in await s.execute(query):
        out.setdefault(series_id, []).append(tag_id)
    return out


async def set_series_tags(s: AsyncSession, series_id: int, tag_ids: Sequence[int]) -> None:
    """Replace a series' tags, inside the caller's write transaction.

    Raises:
        NotFoundError: a tag id names no tag (nothing is changed).
    """
    wanted = sorted(set(int(t) for t in tag_ids))
    if wanted:
        known = set((await s.execute(select(Tag.id).where(Tag.id.in_(wanted)))).scalars())
        unknown = [t for t in wanted if t not in known]
        if unknown:
            raise NotFoundError(f"no tag with id {', '.join(map(str, unknown[:5]))}")
    if await s.get(Series, series_id) is None:
        raise NotFoundError(f"no series with id {series_id}")
    await s.execute(delete(SeriesTag).where(SeriesTag.series_id == series_id))
    if wanted:
        await s.execute(insert(SeriesTag), [{"series_id": series_id, "tag_id": t} for t in wanted])
