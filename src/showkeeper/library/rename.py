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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.db.models import Episode, LibraryFolder, LibraryIssue, RenameBatch, Series
from showkeeper.domain.naming import NamingScheme
from showkeeper.domain.paths import UnsafePathError, ensure_inside
from showkeeper.errors import ConflictError, NotFoundError
from showkeeper.library.companions import FolderNames, with_suffix
from showkeeper.library.naming import folder_for, scheme_for, series_row, target_path
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
    episodes: Sequence[Episode],
    other_folders: set[str],
) -> RenamePlan:
    """Work out every move for ``series`` (its downloaded ``episodes``); reads the disk."""
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
        if new_folder in other_folders:
            plan.conflicts.append(f"folder {new_folder!r} belongs to another series")
        elif os.path.lexists(os.path.join(root, new_folder)):
            plan.conflicts.append(f"folder {new_folder!r} already exists in the library")
        plan.moves.append(Move(series.folder, new_folder, "folder"))
    groups: dict[str, list[Episode]] = {}
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
        if plan.rebase(old) == new:
            continue
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


async def plan_rename(db: Database, root: Path, key: str) -> RenamePlan:
    """What a rename of the series would move (``GET /api/series/{key}/rename``).

    Raises:
        NotFoundError: no such series.
    """
    async with db.session() as s:
        series = await series_row(s, key)
        scheme = await scheme_for(s, series.id)
        episodes = list(
            await s.scalars(
                select(Episode)
                .where(Episode.series_id == series.id, Episode.is_downloaded.is_(True))
                .order_by(Episode.season, Episode.episode)
            )
        )
        others = set(await s.scalars(select(Series.folder).where(Series.id != series.id)))
    return build_plan(str(root), series, scheme, episodes, others)


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
            if not os.path.lexists(a):
                raise _StepError(f"{src} vanished before it could be moved")
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
            os.rename(a, b)
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


async def _point(
    db: Database,
    batch_id: int,
    series_id: int,
    paths: list[tuple[int, str]],
    folder: str,
    old_folder: str,
    status: str,
    error: str | None = None,
) -> None:
    """One transaction: episodes at their paths, the series at its folder, the batch done."""
    async with db.write() as s:
        if paths:
            await s.execute(
                update(Episode), [{"id": eid, "file_path": path} for eid, path in paths]
            )
        await s.execute(update(Series).where(Series.id == series_id).values(folder=folder))
        # the scanner reads the series again (its folder rows say nothing about the new names)
        folders = {folder, old_folder}
        await s.execute(
            delete(LibraryFolder).where(
                (LibraryFolder.series_id == series_id) | LibraryFolder.series_folder.in_(folders)
            )
        )
        await s.execute(delete(LibraryIssue).where(LibraryIssue.series_folder.in_(folders)))
        if status == APPLIED:
            await s.execute(
                update(RenameBatch)
                .where(
                    RenameBatch.series_id == series_id,
                    RenameBatch.status == APPLIED,
                    RenameBatch.id != batch_id,
                )
                .values(status=SUPERSEDED)
            )
        await s.execute(
            update(RenameBatch)
            .where(RenameBatch.id == batch_id)
            .values(status=status, error=error, finished_at=_now())
        )


def _refusal(what: str, problems: Sequence[str]) -> str:
    shown = "; ".join(problems[:SHOWN_CONFLICTS])
    more = len(problems) - SHOWN_CONFLICTS
    return f"{what}: {shown}" + (f" (and {more} more)" if more > 0 else "")


async def apply_plan(db: Database, root: Path, plan: RenamePlan) -> dict[str, Any]:
    """Apply a checked plan (see :func:`apply_rename`)."""
    if plan.conflicts:
        raise RenameError(_refusal(f"refused to rename {plan.series_key}", plan.conflicts))
    steps = plan.steps()
    result: dict[str, Any] = {**plan.as_dict(), "batch_id": None, "moved": 0}
    if not steps:
        return result
    episodes = _episode_paths(plan)
    async with db.write() as s:
        batch = RenameBatch(
            series_id=plan.series_id,
            status=APPLYING,
            old_folder=plan.old_folder,
            new_folder=plan.new_folder,
            moves=[list(step) for step in steps],
            episodes=episodes,
        )
        s.add(batch)
        await s.flush()
        batch_id = batch.id
    real_root = os.path.realpath(root)
    try:
        if len(steps) > 50:
            await asyncio.to_thread(_execute, real_root, steps)
        else:
            _execute(real_root, steps)
    except _StepError as exc:
        message = f"rename of {plan.series_key} stopped and was put back: {exc}"
        async with db.write() as s:
            await s.execute(
                update(RenameBatch)
                .where(RenameBatch.id == batch_id)
                .values(status=FAILED, error=message, finished_at=_now())
            )
        raise RenameError(message) from None
    paths = [(eid, new) for ids, _old, new in episodes for eid in ids]
    await _point(db, batch_id, plan.series_id, paths, plan.new_folder, plan.old_folder, APPLIED)
    result.update(batch_id=batch_id, moved=len(steps))
    return result


async def apply_rename(db: Database, root: Path, key: str) -> dict[str, Any]:
    """Rename the series' files (and folder) to its scheme, as planned now.

    Raises:
        NotFoundError: no such series.
        RenameError: a conflict (nothing moved), or a move failed (the done ones were put back).
    """
    return await apply_plan(db, root, await plan_rename(db, root, key))


async def rename_library(
    db: Database, root: Path, *, series_key: str | None = None, dry_run: bool = False
) -> list[dict[str, Any]]:
    """Plan (and unless ``dry_run`` apply) the rename of one series or of every series.

    A series with conflicts is reported with them and left as it is; the others go on.
    """
    async with db.session() as s:
        if series_key is not None:
            keys = [(await series_row(s, series_key)).key]
        else:
            keys = list(await s.scalars(select(Series.key).order_by(Series.key)))
    out: list[dict[str, Any]] = []
    for key in keys:
        plan = await plan_rename(db, root, key)
        if dry_run or plan.conflicts or not plan.steps():
            out.append({**plan.as_dict(), "batch_id": None, "moved": 0})
            continue
        try:
            out.append(await apply_plan(db, root, plan))
        except RenameError as exc:
            out.append({**plan.as_dict(), "batch_id": None, "moved": 0, "error": str(exc)})
    return out


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
        raise RenameError(f"undo of rename {batch_id} stopped and was put back: {exc}") from None
    paths = [(eid, old) for ids, old, _new in episodes for eid in ids]
    await _point(db, batch_id, series_id, paths, old_folder, new_folder, UNDONE)
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
        await _point(
            db, batch.id, batch.series_id, paths, folder, other,
            APPLIED if forward else UNDONE, note,
        )  # fmt: skip
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
