"""Retention: remove what a series' rule no longer keeps, and mark it ignored.

The global rule and the safety floor live in system_settings ("library.retention"); a series
may replace the rule (series_library_rules.retention, ``{"inherit": false, ...}``). A run
marks the removed episodes ignored (never missing, so never downloaded again; undo with
:func:`unignore`; their queued downloads are cancelled) and not downloaded, writes a ``deleted`` history row with the size of each
file, in one transaction, and only then deletes the files with their NFO, thumbnails and
subtitles (a crash in between leaves files the next scan links again and the next run removes).

It runs after each download (:class:`RetentionKeeper`, listed in downloads/after.py), after the
daily rescan (automation/jobs.py), and on demand (API, ``showkeeper retention``). A run that
would remove more than ``max_share`` of a series' files is refused unless confirmed.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import (
    DownloadHistory,
    Episode,
    QueueItem,
    Series,
    SeriesLibraryRules,
    SystemSetting,
)
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.domain.retention import (
    DEFAULT_MAX_SHARE,
    Candidate,
    RetentionRule,
    RuleError,
    parse_rule,
    parse_share,
    select_removed,
)
from showkeeper.downloads import finish
from showkeeper.errors import ShowkeeperError
from showkeeper.events import BusConsumer, Subscription
from showkeeper.library.companions import FolderNames, with_suffix
from showkeeper.library.naming import put_setting, rules_of, series_row
from showkeeper.logging import get_logger

log = get_logger(__name__)

GLOBAL_KEY = "library.retention"
HISTORY_STATUS = "deleted"


class RetentionError(ShowkeeperError):
    """A retention setting was refused (400)."""


@dataclass(slots=True)
class Removal:
    episode_ids: list[int]
    label: str
    file_path: str | None
    reason: str
    size: int = 0
    paths: list[str] = field(default_factory=list)  # the video and its companions, absolute

    def as_dict(self) -> dict[str, Any]:
        return {
            "episode_ids": self.episode_ids,
            "episode": self.label,
            "file_path": self.file_path,
            "reason": self.reason,
            "size": self.size,
        }


@dataclass(slots=True)
class RetentionResult:
    series_key: str
    rule: RetentionRule
    on_disk: int = 0
    delete: list[Removal] = field(default_factory=list)
    skip: list[Removal] = field(default_factory=list)  # not on disk: marked, not downloaded
    needs_confirmation: bool = False
    applied: bool = False
    freed_bytes: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "series_key": self.series_key,
            "rule": self.rule.as_dict(),
            "rule_text": self.rule.describe(),
            "on_disk": self.on_disk,
            "delete": [r.as_dict() for r in self.delete],
            "skip": [r.as_dict() for r in self.skip],
            "needs_confirmation": self.needs_confirmation,
            "applied": self.applied,
            "freed_bytes": self.freed_bytes,
            "errors": self.errors,
        }


def _refused(exc: RuleError) -> RetentionError:
    return RetentionError(str(exc))


async def _global(session: AsyncSession) -> tuple[RetentionRule, float]:
    value = await session.scalar(select(SystemSetting.value).where(SystemSetting.key == GLOBAL_KEY))
    data = value if isinstance(value, dict) else {}
    try:
        rule = parse_rule({k: data[k] for k in ("keep_newest", "max_age_days", "by") if k in data})
        share = parse_share(data.get("max_share", DEFAULT_MAX_SHARE))
    except RuleError:
        return RetentionRule(), DEFAULT_MAX_SHARE
    return rule, share


async def retention_settings(db: Database) -> dict[str, Any]:
    async with db.session() as s:
        rule, share = await _global(s)
    return {**rule.as_dict(), "max_share": share, "rule_text": rule.describe()}


async def set_retention(db: Database, values: dict[str, Any]) -> dict[str, Any]:
    """Set the global rule and/or the safety floor (``max_share``).

    Raises:
        RetentionError: a value is refused (nothing is stored).
    """
    values = dict(values)
    async with db.write() as s:
        rule, share = await _global(s)
        try:
            if "max_share" in values:
                share = parse_share(values.pop("max_share"))
            if values:
                rule = parse_rule({**rule.as_dict(), **values})
        except RuleError as exc:
            raise _refused(exc) from None
        await put_setting(s, GLOBAL_KEY, {**rule.as_dict(), "max_share": share})
    return await retention_settings(db)


async def _rule_for(session: AsyncSession, series_id: int) -> tuple[RetentionRule, float, bool]:
    rule, share = await _global(session)
    rules = await rules_of(session, series_id)
    own = rules.retention if rules is not None else {}
    if own and not own.get("inherit", True):
        try:
            return parse_rule({k: v for k, v in own.items() if k != "inherit"}), share, False
        except RuleError:
            log.warning("a stored retention rule is invalid; keeping everything", series=series_id)
            return RetentionRule(), share, False
    return rule, share, True


async def series_retention(db: Database, key: str) -> dict[str, Any]:
    async with db.session() as s:
        series = await series_row(s, key)
        rule, share, inherit = await _rule_for(s, series.id)
    return {
        "series_key": key,
        "inherit": inherit,
        "effective": rule.as_dict(),
        "rule_text": rule.describe(),
        "max_share": share,
    }


async def set_series_retention(db: Database, key: str, values: dict[str, Any]) -> dict[str, Any]:
    """``{"inherit": true}`` uses the global rule; otherwise the values are the series' rule.

    Raises:
        NotFoundError: no such series.
        RetentionError: a value is refused (nothing is stored).
    """
    values = dict(values)
    inherit = values.pop("inherit", False)
    if not isinstance(inherit, bool):
        raise RetentionError(f"inherit must be true or false, got {inherit!r}")
    try:
        rule = None if inherit else parse_rule(values)
    except RuleError as exc:
        raise _refused(exc) from None
    async with db.write() as s:
        series = await series_row(s, key)
        rules = await rules_of(s, series.id)
        if rules is None:
            rules = SeriesLibraryRules(series_id=series.id, naming={}, retention={})
            s.add(rules)
        rules.retention = (
            {"inherit": True} if rule is None else {"inherit": False, **rule.as_dict()}
        )
    return await series_retention(db, key)


def _today() -> date:
    return datetime.now(UTC).date()


def _label(episodes: list[Episode]) -> str:
    first = episodes[0]
    return f"S{first.season:02d}E{first.episode:02d}"


async def _download_dates(session: AsyncSession, ids: list[int]) -> dict[int, date]:
    out: dict[int, date] = {}
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(DownloadHistory.episode_id, func.max(DownloadHistory.finished_at))
            .where(
                DownloadHistory.episode_id.in_(ids[i : i + 500]),
                DownloadHistory.status == "completed",
            )
            .group_by(DownloadHistory.episode_id)
        )
        for eid, finished in rows:
            if isinstance(finished, str):  # a driver that hands back text for MAX()
                finished = datetime.fromisoformat(finished)
            if eid is not None and isinstance(finished, datetime):
                out[eid] = finished.date()
    return out


def _mtime_date(root: str, path: str) -> date | None:
    try:
        return datetime.fromtimestamp(os.stat(ensure_inside(root, path)).st_mtime, UTC).date()
    except (OSError, UnsafePathError):
        return None


async def plan_retention(
    db: Database, root: Path, key: str, *, today: date | None = None, confirm: bool = False
) -> RetentionResult:
    """What the series' rule removes now (a dry run changes nothing).

    Raises:
        NotFoundError: no such series.
    """
    today = today or _today()
    async with db.session() as s:
        series = await series_row(s, key)
        rule, share, _ = await _rule_for(s, series.id)
        result = RetentionResult(key, rule)
        if not rule.active:
            return result
        query = select(Episode).where(Episode.series_id == series.id, Episode.ignored.is_(False))
        rows = list(await s.scalars(query))
        downloaded = [e for e in rows if e.is_downloaded and e.file_path]
        dates = (
            await _download_dates(s, [e.id for e in downloaded]) if rule.by != "air_date" else {}
        )
    files: dict[str, list[Episode]] = {}
    for ep in downloaded:
        files.setdefault(str(ep.file_path), []).append(ep)
    result.on_disk = len(files)
    candidates: list[Candidate] = []
    groups: dict[str, list[Episode]] = {}
    real_root = os.path.realpath(root)
    for path, eps in files.items():
        first = min(eps, key=lambda e: (e.season, e.episode))
        if rule.by == "air_date":
            when = first.air_date
        else:
            when = dates.get(first.id) or await asyncio.to_thread(_mtime_date, real_root, path)
        candidates.append(Candidate(path, when, (first.season, first.episode), True))
        groups[path] = eps
    if rule.by == "air_date":
        for ep in rows:
            aired = ep.air_date is None or ep.air_date <= today
            if ep.is_downloaded or not (ep.at_source and ep.monitored and not ep.filtered):
                continue
            if aired and series.monitored:
                cand_key = f"episode:{ep.id}"
                candidates.append(Candidate(cand_key, ep.air_date, (ep.season, ep.episode), False))
                groups[cand_key] = [ep]
    for cand, reason in select_removed(rule, candidates, today):
        eps = groups[cand.key]
        removal = Removal(
            [e.id for e in eps], _label(eps), cand.key if cand.on_disk else None, reason
        )
        (result.delete if cand.on_disk else result.skip).append(removal)
    if result.delete and not confirm and len(result.delete) > share * result.on_disk:
        result.needs_confirmation = True
    return result


def _measure(root: str, removals: list[Removal]) -> list[str]:
    """Find each removal's video and companions and add up their sizes; returns problems."""
    names = FolderNames()
    errors: list[str] = []
    for removal in removals:
        assert removal.file_path is not None
        try:
            video = str(ensure_inside(root, removal.file_path))
        except UnsafePathError as exc:
            errors.append(str(exc))
            continue
        for path in [video, *(with_suffix(video, sfx) for sfx in names.companions(video))]:
            try:
                removal.size += os.lstat(path).st_size
            except OSError:
                continue
            removal.paths.append(path)
    return errors


async def _cancel_queued(db: Database, episode_ids: list[int]) -> None:
    """Queued downloads of episodes the rule no longer keeps would only be deleted again."""
    if not episode_ids:
        return
    async with db.session() as s:
        items = [
            item_id
            for i in range(0, len(episode_ids), 500)
            for item_id in await s.scalars(
                select(QueueItem.id).where(
                    QueueItem.episode_id.in_(episode_ids[i : i + 500]),
                    QueueItem.status == "queued",
                )
            )
        ]
    for item_id in items:
        await finish.cancel(db, item_id)


def _delete_files(removals: list[Removal]) -> tuple[int, list[str]]:
    """Delete what :func:`_measure` found; returns the bytes freed and the failures."""
    freed = 0
    errors: list[str] = []
    for removal in removals:
        for path in removal.paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                errors.append(f"{path}: {exc.strerror}")
        freed += removal.size
    return freed, errors


async def apply_retention(
    db: Database, root: Path, key: str, *, today: date | None = None, confirm: bool = False
) -> RetentionResult:
    """Run the series' rule: mark, record, then delete (see the module's doc).

    A run that needs confirmation changes nothing and says so (``needs_confirmation``).
    """
    result = await plan_retention(db, root, key, today=today, confirm=confirm)
    if result.needs_confirmation or not (result.delete or result.skip):
        return result
    # sizes first, so the history has them even though the files go after the commit
    problems = await asyncio.to_thread(_measure, os.path.realpath(root), result.delete)
    now = datetime.now(UTC)
    ids = [eid for r in [*result.delete, *result.skip] for eid in r.episode_ids]
    async with db.write() as s:
        series = await series_row(s, key)
        eps = {e.id: e for e in await s.scalars(select(Episode).where(Episode.id.in_(ids)))}
        for i in range(0, len(ids), 500):
            await s.execute(
                update(Episode)
                .where(Episode.id.in_(ids[i : i + 500]))
                .values(ignored=True, is_downloaded=False, file_path=None, size=None)
            )
        history = [
            {
                "episode_id": eid,
                "series_key": series.key,
                "season": eps[eid].season,
                "episode": eps[eid].episode,
                "status": HISTORY_STATUS,
                "file_path": r.file_path,
                "size": r.size,
                "error": f"retention: {r.reason}",
                "attempts": 0,
                "finished_at": now,
            }
            for r in result.delete
            for eid in r.episode_ids[:1]
            if eid in eps
        ]
        if history:
            await s.execute(insert(DownloadHistory), history)
    await _cancel_queued(db, [eid for r in result.skip for eid in r.episode_ids])
    freed, errors = await asyncio.to_thread(_delete_files, result.delete)
    result.applied, result.freed_bytes, result.errors = True, freed, problems + errors
    if result.delete:
        log.info("retention removed episodes", series=key, files=len(result.delete), bytes=freed)
    return result


async def run_retention(
    db: Database,
    root: Path | None,
    *,
    series_key: str | None = None,
    dry_run: bool = False,
    confirm: bool = False,
    today: date | None = None,
) -> list[RetentionResult]:
    """Run (or with ``dry_run`` plan) the rules of one series or of all series with a rule."""
    if root is None:
        return []
    async with db.session() as s:
        if series_key is not None:
            keys = [(await series_row(s, series_key)).key]
        else:
            keys = list(await s.scalars(select(Series.key).order_by(Series.key)))
    out = []
    for key in keys:
        run = plan_retention if dry_run else apply_retention
        result = await run(db, root, key, today=today, confirm=confirm)
        if series_key is not None or result.rule.active:
            out.append(result)
    return out


async def unignore(db: Database, key: str, episode_ids: list[int] | None = None) -> int:
    """Undo ignoring: the episodes (all of the series when None) may be missing again."""
    async with db.write() as s:
        series = await series_row(s, key)
        stmt = update(Episode).where(Episode.series_id == series.id, Episode.ignored.is_(True))
        if episode_ids is not None:
            stmt = stmt.where(Episode.id.in_(episode_ids))
        done = await s.execute(stmt.values(ignored=False))
    return int(done.rowcount)  # type: ignore[attr-defined]


class RetentionKeeper(BusConsumer):
    """After a download, the series' rule runs (unconfirmed: the safety floor holds)."""

    name = "retention-keeper"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx.bus, types={"download_complete"})
        self.ctx = ctx

    async def consume(self, sub: Subscription) -> None:
        async for event in sub:
            root = self.ctx.settings.library_dir
            key = event.data.get("series_key")
            # another process's download (relayed on PostgreSQL) is that process's to keep
            if root is None or not isinstance(key, str) or event.origin is not None:
                continue
            try:
                result = await apply_retention(self.ctx.db, root, key)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retention after a download failed", series=key)
                continue
            if result.needs_confirmation:
                log.warning(
                    "retention needs confirmation: it would remove more than the safety floor",
                    series=key,
                    files=len(result.delete),
                )
