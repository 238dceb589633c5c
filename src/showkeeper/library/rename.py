"""Rename what is on disk to a series' naming scheme: plan, apply, undo, and finish after a crash.

A rename is planned from the database (downloaded episodes and their files), checked as a
whole (a name two files would share, a target that exists, a file that vanished: refused,
nothing moves), then journaled: a ``rename_batches`` row listing every step (source and
destination, relative to the library root) is committed before the first file moves. Each step
is one ``os.rename`` inside the library root, so a file is always at its old or its new path.
When every step is done, one transaction points the episodes (and the series' folder) at the
new paths and marks the batch applied. A step that fails puts the done ones back.

A process killed in between leaves the batch ``applying`` (or ``undoing``):
:func:`recover_renames`, run at the next start, finishes its steps and brings the database in
line with where the files are. The latest applied batch of a series can be undone until the
next rename of that series.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update

from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import (
    Episode,
    LibraryFolder,
    LibraryIssue,
    QueueItem,
    RenameBatch,
    Series,
    SeriesLibraryRules,
)
from showkeeper.domain.naming import NamingScheme, merge
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import ConflictError, NotFoundError
from showkeeper.library.companions import FolderNames, with_suffix
from showkeeper.library.lock import ScanLease
from showkeeper.library.naming import (
    EPISODE_ROW_COLUMNS,
    EpisodeLike,
    EpisodeRow,
    folder_for,
    global_scheme,
    series_row,
    target_path,
)
from showkeeper.logging import get_logger

log = get_logger(__name__)

APPLYING, APPLIED, UNDOING, UNDONE, FAILED, SUPERSEDED = (
    "applying",
    "applied",
    "undoing",
    "undone",
    "failed",
    "superseded",
)
SHOWN_CONFLICTS = 5
CHUNK = 500  # values per IN (...)
_EPISODES: Table = Episode.__table__  # type: ignore[assignment]
_SERIES: Table = Series.__table__  # type: ignore[assignment]
_BATCHES: Table = RenameBatch.__table__  # type: ignore[assignment]


class RenameError(ConflictError):
    """A rename (or its undo) was refused or failed; nothing is left half-moved (409)."""


@dataclass(frozen=True, slots=True)
class Move:
    """One file (or the series folder) to move; paths relative to the library root."""

    old: str
    new: str
    kind: str  # folder, video, companion
    episode_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "kind": self.kind}


@dataclass(slots=True)
class RenamePlan:
    series_key: str
    series_id: int
    old_folder: str
    new_folder: str
    naming: NamingScheme
    moves: list[Move] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def folder_changes(self) -> bool:
        return self.old_folder != self.new_folder

    def rebase(self, path: str) -> str:
        """Where ``path`` (under the old folder) is once the folder itself has moved."""
        if self.folder_changes and path.startswith(self.old_folder + "/"):
            return self.new_folder + path[len(self.old_folder) :]
        return path

    def steps(self) -> list[tuple[str, str]]:
        """The renames in order: the folder first, then each file inside the new folder."""
        out = [(m.old, m.new) for m in self.moves if m.kind == "folder"]
        for m in self.moves:
            if m.kind != "folder" and self.rebase(m.old) != m.new:
                out.append((self.rebase(m.old), m.new))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "series_key": self.series_key,
            "naming": self.naming.as_dict(),
            "folder": {"old": self.old_folder, "new": self.new_folder},
            "moves": [m.as_dict() for m in self.moves],
            "conflicts": self.conflicts,
            "skipped": self.skipped,
        }


def _relative(root: str, path: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


class _Inside:
    """ensure_inside per directory (one realpath per folder, not per file)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._dirs: dict[str, str] = {}

    def path(self, relative: str) -> str:
        folder, _, name = relative.rpartition("/")
        if not name or name in (".", "..") or "\x00" in name:
            raise UnsafePathError(f"refused path {relative!r}: not a file name")
        if not folder:
            return str(ensure_inside(self.root, name))
        base = self._dirs.get(folder)
        if base is None:
            base = self._dirs[folder] = str(ensure_inside(self.root, folder))
        return f"{base}/{name}"


def build_plan(
    root: str,
    series: Series,
    scheme: NamingScheme,
    episodes: Sequence[EpisodeLike],
    folders: set[str],
) -> RenamePlan:
    """Work out every move for ``series`` (its downloaded ``episodes``); reads the disk.

    ``folders`` are the folders of every series (a new folder name must not be one of them).
    """
    root = os.path.realpath(root)
    try:
        new_folder = folder_for(scheme, series)
    except UnsafePathError as exc:
        new_folder = series.folder
        plan = RenamePlan(series.key, series.id, series.folder, new_folder, scheme)
        plan.conflicts.append(f"series folder: {exc}")
        return plan
    plan = RenamePlan(series.key, series.id, series.folder, new_folder, scheme)
    inside = _Inside(root)
    if plan.folder_changes:
        if new_folder in folders:
            plan.conflicts.append(f"folder {new_folder!r} belongs to another series")
        elif os.path.lexists(os.path.join(root, new_folder)):
            plan.conflicts.append(f"folder {new_folder!r} already exists in the library")
        if os.path.lexists(os.path.join(root, series.folder)):
            plan.moves.append(Move(series.folder, new_folder, "folder"))
        # else nothing is on disk yet: the series just takes the new name
    groups: dict[str, list[EpisodeLike]] = {}
    for ep in episodes:
        if ep.file_path:
            groups.setdefault(_relative(root, ep.file_path), []).append(ep)
    names = FolderNames()
    for old, group in sorted(groups.items()):
        label = f"S{group[0].season:02d}E{group[0].episode:02d}"
        try:
            old_abs = inside.path(old)
        except UnsafePathError as exc:
            plan.conflicts.append(f"{old}: {exc}")
            continue
        if not os.path.lexists(old_abs):
            plan.conflicts.append(f"{old} ({label}) is not on disk any more; rescan the series")
            continue
        try:
            new = target_path(
                scheme, series, group, os.path.splitext(old)[1], folder=new_folder
            ).as_posix()
            inside.path(new)
        except UnsafePathError as exc:
            plan.skipped.append(f"{old} ({label}): {exc}")
            continue
        if old == new:
            continue  # (a file that only moves with its folder is listed: its path changes)
        ids = tuple(ep.id for ep in group)
        plan.moves.append(Move(old, new, "video", ids))
        for suffix in names.companions(old_abs):
            plan.moves.append(
                Move(with_suffix(old, suffix), with_suffix(new, suffix), "companion", ids)
            )
    _check_targets(plan, root)
    return plan


def _check_targets(plan: RenamePlan, root: str) -> None:
    """Refuse names two files would share, and targets that are taken on disk."""
    files = [m for m in plan.moves if m.kind != "folder"]
    counts = Counter(m.new for m in files)
    sources = {plan.rebase(m.old) for m in files}
    seen: set[str] = set()
    for m in files:
        if counts[m.new] > 1:
            if m.new not in seen:
                seen.add(m.new)
                olds = sorted(x.old for x in files if x.new == m.new)
                plan.conflicts.append(f"{' and '.join(olds)} would both be named {m.new}")
            continue
        if plan.rebase(m.old) == m.new:
            continue  # it moves with its folder
        # what is at the target once the folder has moved = what is at its old place now
        now = m.new
        if plan.folder_changes and now.startswith(plan.new_folder + "/"):
            now = plan.old_folder + now[len(plan.new_folder) :]
        if now in sources:
            plan.conflicts.append(
                f"{m.new} is the current name of another file being renamed; rename in two steps"
            )
        elif os.path.lexists(os.path.join(root, now)):
            plan.conflicts.append(f"{m.new} already exists; move or delete it first")


async def load_plans(db: Database, root: Path, key: str | None = None) -> list[RenamePlan]:
    """The rename plans of one series (``key``) or of every series, read in one go.

    Raises:
        NotFoundError: ``key`` names no series.
    """
    async with db.session() as s:
        base = await global_scheme(s)
        query = select(Series).order_by(Series.key)
        chosen = list(await s.scalars(query.where(Series.key == key) if key else query))
        if key is not None and not chosen:
            raise NotFoundError(f"no series with key {key!r}")
        ids = [series.id for series in chosen]
        overrides: dict[int, dict[str, Any]] = {}
        episodes: dict[int, list[EpisodeLike]] = {}
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            rules = await s.scalars(
                select(SeriesLibraryRules).where(SeriesLibraryRules.series_id.in_(part))
            )
            overrides.update((r.series_id, r.naming) for r in rules)
            rows = await s.execute(
                select(Episode.series_id, *EPISODE_ROW_COLUMNS)
                .where(Episode.series_id.in_(part), Episode.is_downloaded.is_(True))
                .order_by(Episode.season, Episode.episode)
            )
            for series_id, *values in rows:
                episodes.setdefault(series_id, []).append(EpisodeRow(*values))
        folders = set(await s.scalars(select(Series.folder)))
        busy = await s.execute(
            select(Episode.series_id, Episode.season, Episode.episode)
            .join(QueueItem, QueueItem.episode_id == Episode.id)
            .where(QueueItem.status == "downloading")
        )
        downloading: dict[int, list[str]] = {}
        for series_id, season, number in busy:
            downloading.setdefault(series_id, []).append(f"S{season:02d}E{number:02d}")
    plans = []
    for series in chosen:
        plan = build_plan(
            str(root),
            series,
            merge(base, overrides.get(series.id, {})),
            episodes.get(series.id, []),
            folders,
        )
        for label in sorted(downloading.get(series.id, ())):
            # its file is being written to the old place: rename when it is done
            plan.conflicts.append(f"{label} is downloading; rename when it has finished")
        plans.append(plan)
    return plans


async def plan_rename(db: Database, root: Path, key: str) -> RenamePlan:
    """What a rename of the series would move (``GET /api/series/{key}/rename``).

    Raises:
        NotFoundError: no such series.
    """
    [plan] = await load_plans(db, root, key)
    return plan


class _StepError(Exception):
    pass


def _execute(root: str, steps: Sequence[tuple[str, str]]) -> None:
    """Run the renames in order; on any failure put the done ones back and raise."""
    done: list[tuple[str, str]] = []
    made: list[str] = []
    known: set[str] = set()
    try:
        for src, dst in steps:
            a, b = os.path.join(root, src), os.path.join(root, dst)
            if os.path.lexists(b):
                raise _StepError(f"{dst} appeared before {src} could be moved there")
            parent = os.path.dirname(b)
            if parent not in known:
                absent: list[str] = []
                folder = parent
                while not os.path.isdir(folder):
                    absent.append(folder)
                    folder = os.path.dirname(folder)
                for folder in reversed(absent):
                    os.mkdir(folder)
                    made.append(folder)
                known.add(parent)
            try:
                os.rename(a, b)
            except FileNotFoundError:
                if os.path.lexists(a):
                    raise
                raise _StepError(f"{src} vanished before it could be moved") from None
            done.append((src, dst))
    except (OSError, _StepError) as exc:
        for src, dst in reversed(done):
            try:
                os.rename(os.path.join(root, dst), os.path.join(root, src))
            except OSError:
                log.exception("could not put a renamed file back", path=dst)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        if isinstance(exc, _StepError):
            raise
        raise _StepError(f"{exc.strerror or exc}: {exc.filename or ''}") from None
    _prune(root, [src for src, _ in steps])


def _prune(root: str, sources: Sequence[str]) -> None:
    """Remove folders the moves left empty (season folders), deepest first."""
    folders = {os.path.dirname(os.path.join(root, s)) for s in sources}
    real_root = os.path.realpath(root)
    for folder in sorted(folders, key=len, reverse=True):
        if os.path.realpath(folder) == real_root:
            continue
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only when empty


def _episode_paths(plan: RenamePlan) -> list[list[Any]]:
    """[[episode ids], old path, new path] for every moved video."""
    return [[list(m.episode_ids), m.old, m.new] for m in plan.moves if m.kind == "video"]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """Where a batch left its series: episode paths, the folder, the batch's new status."""

    batch_id: int
    series_id: int
    paths: list[tuple[int, str]]
    folder: str
    old_folder: str
    status: str
    error: str | None = None


async def _record(db: Database, outcomes: Sequence[_Outcome]) -> None:
    """One transaction: episodes at their paths, series at their folders, batches done."""
    if not outcomes:
        return
    now = _now()
    async with db.write() as s:
        paths = [{"eid": eid, "path": p} for o in outcomes for eid, p in o.paths]
        if paths:
            await s.execute(
                update(_EPISODES)
                .where(_EPISODES.c.id == bindparam("eid"))
                .values(file_path=bindparam("path")),
                paths,
            )
        await s.execute(
            update(_SERIES).where(_SERIES.c.id == bindparam("sid")).values(folder=bindparam("f")),
            [{"sid": o.series_id, "f": o.folder} for o in outcomes],
        )
        # the scanner reads these series again (its folder rows know the old names)
        series_ids = [o.series_id for o in outcomes]
        names = sorted({f for o in outcomes for f in (o.folder, o.old_folder)})
        for i in range(0, max(len(series_ids), len(names)), CHUNK):
            ids, folders = series_ids[i : i + CHUNK], names[i : i + CHUNK]
            await s.execute(
                delete(LibraryFolder).where(
                    LibraryFolder.series_id.in_(ids) | LibraryFolder.series_folder.in_(folders)
                )
            )
            await s.execute(delete(LibraryIssue).where(LibraryIssue.series_folder.in_(folders)))
        applied = [o for o in outcomes if o.status == APPLIED]
        for i in range(0, len(applied), CHUNK):
            part = applied[i : i + CHUNK]
            await s.execute(
                update(RenameBatch)
                .where(
                    RenameBatch.series_id.in_([o.series_id for o in part]),
                    RenameBatch.status == APPLIED,
                    RenameBatch.id.not_in([o.batch_id for o in part]),
                )
                .values(status=SUPERSEDED)
            )
        await s.execute(
            update(_BATCHES)
            .where(_BATCHES.c.id == bindparam("bid"))
            .values(status=bindparam("st"), error=bindparam("err"), finished_at=now),
            [{"bid": o.batch_id, "st": o.status, "err": o.error} for o in outcomes],
        )


def _refusal(what: str, problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:SHOWN_CONFLICTS])
    more = len(problems) - SHOWN_CONFLICTS
    return f"{what}: {shown}" + (f" (and {more} more)" if more > 0 else "")


def _unchanged(plan: RenamePlan) -> dict[str, Any]:
    return {**plan.as_dict(), "batch_id": None, "moved": 0}


async def apply_plans(
    db: Database, root: Path, plans: Sequence[RenamePlan]
) -> list[dict[str, Any]]:
    """Apply checked plans: journal them all, move each one's files, record them all.

    A plan with conflicts is left as it is (its result lists them); a plan whose moves fail
    is put back and its result says why.
    """
    results = {plan.series_id: _unchanged(plan) for plan in plans}
    runnable = [p for p in plans if not p.conflicts and p.steps()]
    named = [p for p in plans if not p.conflicts and not p.steps() and p.folder_changes]
    if named:  # no folder on disk yet: only the name changes, nothing to journal or undo
        async with db.write() as s:
            await s.execute(
                update(_SERIES)
                .where(_SERIES.c.id == bindparam("sid"))
                .values(folder=bindparam("f")),
                [{"sid": p.series_id, "f": p.new_folder} for p in named],
            )
    if not runnable:
        return list(results.values())
    # one library-changing job at a time: no scan reads half-renamed folders
    lease = await ScanLease.acquire(db, f"rename-{uuid.uuid4().hex[:12]}", series_key=None)
    try:
        return await _apply_leased(db, root, runnable, results)
    finally:
        await lease.release()


async def _apply_leased(
    db: Database,
    root: Path,
    runnable: Sequence[RenamePlan],
    results: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    async with db.write() as s:
        batches = [
            RenameBatch(
                series_id=plan.series_id,
                status=APPLYING,
                old_folder=plan.old_folder,
                new_folder=plan.new_folder,
                moves=[list(step) for step in plan.steps()],
                episodes=_episode_paths(plan),
            )
            for plan in runnable
        ]
        s.add_all(batches)
        await s.flush()
        batch_ids = [b.id for b in batches]
    real_root = os.path.realpath(root)
    outcomes: list[_Outcome] = []
    for plan, batch_id in zip(runnable, batch_ids, strict=True):
        steps = plan.steps()
        try:
            if len(steps) > 50:
                await asyncio.to_thread(_execute, real_root, steps)
            else:
                _execute(real_root, steps)
        except _StepError as exc:
            message = f"rename of {plan.series_key} stopped and was put back: {exc}"
            paths = [(eid, old) for ids, old, _new in _episode_paths(plan) for eid in ids]
            outcomes.append(
                _Outcome(batch_id, plan.series_id, paths, plan.old_folder, plan.old_folder,
                         FAILED, message)
            )  # fmt: skip
            results[plan.series_id]["error"] = message
            continue
        paths = [(eid, new) for ids, _old, new in _episode_paths(plan) for eid in ids]
        outcomes.append(
            _Outcome(batch_id, plan.series_id, paths, plan.new_folder, plan.old_folder, APPLIED)
        )
        results[plan.series_id].update(batch_id=batch_id, moved=len(steps))
    await _record(db, outcomes)
    return list(results.values())


async def apply_rename(db: Database, root: Path, key: str) -> dict[str, Any]:
    """Rename the series' files (and folder) to its scheme, as planned now.

    Raises:
        NotFoundError: no such series.
        RenameError: a conflict (nothing moved), or a move failed (the done ones were put back).
    """
    plan = await plan_rename(db, root, key)
    if plan.conflicts:
        raise RenameError(_refusal(f"refused to rename {plan.series_key}", plan.conflicts))
    [result] = await apply_plans(db, root, [plan])
    if "error" in result:
        raise RenameError(result["error"])
    return result


async def rename_library(
    db: Database, root: Path, *, series_key: str | None = None, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Plan (and unless ``dry_run`` apply) the rename of one series or of every series.

    A series with conflicts is reported with them and left as it is; the others go on.
    """
    plans = await load_plans(db, root, series_key)
    if dry_run:
        return [_unchanged(plan) for plan in plans]
    return await apply_plans(db, root, plans)


async def undo_rename(db: Database, root: Path, batch_id: int) -> dict[str, Any]:
    """Move a series' files back to where the rename ``batch_id`` found them.

    Raises:
        NotFoundError: no such rename.
        RenameError: it is not the series' latest applied rename, a file is not where the
            rename put it, or its old place is taken (nothing moved).
    """
    async with db.session() as s:
        batch = await s.get(RenameBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"no rename with id {batch_id}")
        status, moves = batch.status, [tuple(m) for m in batch.moves]
        series_id, old_folder, new_folder = batch.series_id, batch.old_folder, batch.new_folder
        episodes = batch.episodes
    if status == SUPERSEDED:
        raise RenameError(f"rename {batch_id} cannot be undone: the series was renamed since")
    if status != APPLIED:
        raise RenameError(f"rename {batch_id} cannot be undone: it is {status}")
    steps = [(dst, src) for src, dst in reversed(moves)]
    real_root = os.path.realpath(root)
    problems = []
    for src, dst in steps:
        if not os.path.lexists(os.path.join(real_root, src)):
            problems.append(f"{src} is not there any more")
        elif os.path.lexists(os.path.join(real_root, dst)):
            problems.append(f"{dst} is taken")
    if problems:
        raise RenameError(_refusal(f"refused to undo rename {batch_id}", problems))
    lease = await ScanLease.acquire(db, f"undo-{batch_id}-{uuid.uuid4().hex[:8]}", series_key=None)
    try:
        async with db.write() as s:
            claimed = await s.execute(
                update(RenameBatch)
                .where(RenameBatch.id == batch_id, RenameBatch.status == APPLIED)
                .values(status=UNDOING)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise RenameError(f"rename {batch_id} is being undone already")
        try:
            await asyncio.to_thread(_execute, real_root, steps)
        except _StepError as exc:
            async with db.write() as s:
                await s.execute(
                    update(RenameBatch)
                    .where(RenameBatch.id == batch_id)
                    .values(status=APPLIED, error=f"undo failed and was put back: {exc}")
                )
            raise RenameError(
                f"undo of rename {batch_id} stopped and was put back: {exc}"
            ) from None
        paths = [(eid, old) for ids, old, _new in episodes for eid in ids]
        outcome = _Outcome(batch_id, series_id, paths, old_folder, new_folder, UNDONE)
        await _record(db, [outcome])
    finally:
        await lease.release()
    return {"batch_id": batch_id, "status": UNDONE, "moved": len(steps)}


async def latest_batch(db: Database, key: str) -> dict[str, Any] | None:
    """The series' latest rename (id, status, when), for a page's undo button."""
    async with db.session() as s:
        series = await series_row(s, key)
        batch = await s.scalar(
            select(RenameBatch)
            .where(RenameBatch.series_id == series.id)
            .order_by(RenameBatch.id.desc())
            .limit(1)
        )
    if batch is None:
        return None
    return {
        "batch_id": batch.id,
        "status": batch.status,
        "moved": len(batch.moves),
        "created_at": batch.created_at.isoformat(),
        "error": batch.error,
    }


def _finish_steps(root: str, steps: Sequence[tuple[str, str]]) -> list[str]:
    """Roll a journal forward: each step not done yet is done; returns what could not be."""
    lost: list[str] = []
    for src, dst in steps:
        a, b = os.path.join(root, src), os.path.join(root, dst)
        if os.path.lexists(b):
            continue
        if not os.path.lexists(a):
            lost.append(src)
            continue
        os.makedirs(os.path.dirname(b), exist_ok=True)
        os.rename(a, b)
    _prune(root, [src for src, _ in steps])
    return lost


async def recover_renames(db: Database, root: Path | None) -> int:
    """Finish renames (and undos) a stopped process left half done; returns how many.

    The steps not done yet are done, then the episodes point where their files are.
    """
    if root is None:
        return 0
    async with db.session() as s:
        batches = list(
            await s.scalars(select(RenameBatch).where(RenameBatch.status.in_((APPLYING, UNDOING))))
        )
    real_root = os.path.realpath(root)
    for batch in batches:
        forward = batch.status == APPLYING
        moves = [(str(a), str(b)) for a, b in batch.moves]
        steps = moves if forward else [(b, a) for a, b in reversed(moves)]
        lost = await asyncio.to_thread(_finish_steps, real_root, steps)
        folder, other = (
            (batch.new_folder, batch.old_folder)
            if forward
            else (batch.old_folder, batch.new_folder)
        )
        paths: list[tuple[int, str]] = []
        for ids, old, new in batch.episodes:
            want, alt = (new, old) if forward else (old, new)
            where = want if os.path.lexists(os.path.join(real_root, want)) else alt
            if not os.path.lexists(os.path.join(real_root, where)):
                where = want
            paths.extend((int(eid), where) for eid in ids)
        note = "finished at start after an interruption"
        if lost:
            note += f"; not found: {', '.join(lost[:SHOWN_CONFLICTS])}"
        status = APPLIED if forward else UNDONE
        await _record(db, [_Outcome(batch.id, batch.series_id, paths, folder, other, status, note)])
        log.warning("finished an interrupted rename", batch_id=batch.id, lost=len(lost))
    return len(batches)


class RenameRecovery:
    """A start-up step as a service: renames cut short by a stop are finished."""

    name = "rename-recovery"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        await recover_renames(self.ctx.db, self.ctx.settings.library_dir)

    async def stop(self) -> None:
        return None
