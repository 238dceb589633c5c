"""Manual import of what the scan could not place, and of files from outside the library.

:func:`import_suggestions` lists unmapped folders (with the series their names are most like)
and unparsed/unmatched files (with the episode the parser, guessit or the file's own date
metadata points at). :func:`apply_import` takes the user's decisions:

- ``map_folder``: an unmapped top-level folder belongs to a series. When the series has no
  folder on disk yet, the series simply takes that folder; otherwise every media file in it
  that names an episode is imported into the series' folder (as ``import_file``).
- ``import_file``: a file is episode (season, episode) of a series. A path relative to the
  library, or absolute inside the library or one of ``import_dirs`` (nothing else); moved
  (atomic ``rename`` on one file system) or copied (to a temporary name, then renamed) into
  the series' folder with its NFO, thumbnails and subtitles, named by the series' template
  when ``rename`` is on. A copy, or a move across file systems, checks the free space first.

Every decision is checked before any file moves; a refused one names the file and why, and
nothing is applied. The episode points at its file in the same step.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from sqlalchemy import delete, select

from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.db.models import Episode, LibraryFolder, LibraryIssue, Series
from showkeeper.domain.filenames import (
    is_media_file,
    parse_episode_filename,
    parse_season_folder,
)
from showkeeper.domain.naming import season_folder
from showkeeper.domain.paths import UnsafePathError, ensure_inside, safe_extension
from showkeeper.downloads.diskguard import reserve_bytes
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.ffmpeg import find_ffmpeg, run_env
from showkeeper.library.companions import FolderNames, with_suffix
from showkeeper.library.lock import ScanLease
from showkeeper.library.naming import scheme_for, series_row, target_path
from showkeeper.library.service import library_issues, start_scan
from showkeeper.logging import get_logger

log = get_logger(__name__)

MAX_DECISIONS = 1000
SUGGESTIONS = 3
PROBE_TIMEOUT_S = 10.0
_DATE_TAG = re.compile(r"^\s*(?:date|creation_time)\s*:\s*(\d{4})-?(\d{2})-?(\d{2})", re.M)
_YEAR = re.compile(r"\(\d{4}\)|\[\d{4}\]")


class ImportRefused(ShowkeeperError):
    """One or more import decisions were refused; the message names each file (400)."""


# ----------------------------------------------------------------------------- suggestions


def _norm(name: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", _YEAR.sub("", name).lower()).split())


def series_matches(name: str, series: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """The series (key, name, folder) whose name or folder is most like ``name``."""
    wanted = _norm(name)
    scored: list[dict[str, Any]] = []
    for key, title, folder in series:
        score = max(
            difflib.SequenceMatcher(None, wanted, _norm(title)).ratio(),
            difflib.SequenceMatcher(None, wanted, _norm(folder)).ratio(),
        )
        if score >= 0.4:
            scored.append({"series_key": key, "name": title, "score": round(score, 3)})
    scored.sort(key=lambda s: (-float(s["score"]), str(s["series_key"])))
    return scored[:SUGGESTIONS]


def file_date(path: str) -> date | None:
    """The date a media file's own metadata gives (``date`` or ``creation_time`` tag)."""
    exe = find_ffmpeg().path
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", path],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            env=run_env(exe),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _DATE_TAG.search(done.stderr)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _season_hint(relative: str) -> int | None:
    parent = PurePosixPath(relative).parent
    return parse_season_folder(parent.name) if parent.name else None


async def import_suggestions(ctx: AppContext, *, limit: int = 100) -> dict[str, Any]:
    """Unmapped folders and unplaced files, each with suggested matches."""
    root = ctx.settings.library_dir
    _, folders = await library_issues(ctx.db, root, unmapped=True, limit=limit)
    _, files = await library_issues(ctx.db, root, unmapped=False, limit=limit)
    async with ctx.db.session() as s:
        series = [
            (k, n, f) for k, n, f in await s.execute(select(Series.key, Series.name, Series.folder))
        ]
        by_folder = {f: k for k, _n, f in series}
    for item in folders:
        item["suggestions"] = series_matches(item["name"], series)
    placeable = [f for f in files if f["kind"] in ("unparsed", "unmatched", "duplicate")]
    for item in placeable:
        rel = item["relative_path"]
        key = by_folder.get(item["series_folder"] or "")
        item["series_key"] = key
        parsed = parse_episode_filename(PurePosixPath(rel).name, season_hint=_season_hint(rel))
        aired = parsed.air_date if parsed else None
        if aired is None and root is not None:
            aired = await asyncio.to_thread(file_date, str(Path(root) / rel))
        item["parsed"] = (
            {"season": parsed.season, "episodes": list(parsed.episodes), "air_date": None}
            if parsed
            else None
        )
        item["file_date"] = aired.isoformat() if aired else None
        item["suggestions"] = await _episode_suggestions(ctx, key, parsed, aired)
    return {"folders": folders, "files": placeable}


async def _episode_suggestions(
    ctx: AppContext, key: str | None, parsed: Any, aired: date | None
) -> list[dict[str, Any]]:
    if key is None:
        return []
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        if series is None:
            return []
        query = select(Episode).where(Episode.series_id == series.id)
        wanted = []
        if parsed is not None and parsed.season is not None and parsed.episodes:
            wanted = list(
                await s.scalars(
                    query.where(
                        Episode.season == parsed.season, Episode.episode.in_(parsed.episodes)
                    )
                )
            )
        if not wanted and aired is not None:
            wanted = list(await s.scalars(query.where(Episode.air_date == aired)))
    return [
        {
            "series_key": key,
            "episode_id": e.id,
            "season": e.season,
            "episode": e.episode,
            "title": e.title,
            "air_date": e.air_date.isoformat() if e.air_date else None,
            "on_disk": e.is_downloaded,
        }
        for e in wanted[:SUGGESTIONS]
    ]


# ----------------------------------------------------------------------------- decisions


@dataclass(slots=True)
class _FileJob:
    """One checked file import: where it is, where it goes, how."""

    label: str
    source: str  # absolute
    target: str  # absolute
    relative: str  # target, relative to the library root
    series_id: int
    season: int
    episode: int
    episode_id: int | None
    mode: Literal["move", "copy"]
    companions: list[str] = field(default_factory=list)
    size: int = 0
    issue_path: str | None = None  # the source's library_issues path, when in the library


@dataclass(slots=True)
class _FolderJob:
    label: str
    folder: str
    series_id: int
    series_key: str


def _allowed_source(settings: Settings, root: str, raw: str) -> tuple[str, str | None]:
    """The absolute source path and its path relative to the library (None: outside).

    Raises:
        UnsafePathError: outside the library and every import_dirs folder.
    """
    if not os.path.isabs(raw):
        return str(ensure_inside(root, raw)), PurePosixPath(raw).as_posix()
    real = os.path.realpath(raw)
    for base in [root, *(str(d) for d in settings.import_dirs)]:
        real_base = os.path.realpath(base)
        if real.startswith(real_base.rstrip("/") + "/"):
            checked = str(ensure_inside(real_base, os.path.relpath(real, real_base)))
            return checked, (os.path.relpath(checked, root) if base == root else None)
    allowed = ", ".join([root, *(str(d) for d in settings.import_dirs)])
    raise UnsafePathError(
        f"{raw} is outside the folders imports may read ({allowed}); add its folder to import_dirs"
    )


def _free_space_problem(target_dir: str, needed: int, reserve: int) -> str | None:
    probe = target_dir
    while not os.path.isdir(probe):
        probe = os.path.dirname(probe)
    free = shutil.disk_usage(probe).free
    if free < needed + reserve:
        return (
            f"not enough free space: {needed} bytes to copy, {free} free, "
            f"{reserve} kept in reserve (disk_reserve_gib)"
        )
    return None


async def _check_file(
    ctx: AppContext, root: str, d: dict[str, Any], taken: set[str], names: FolderNames
) -> _FileJob:
    raw = d.get("path")
    if not isinstance(raw, str) or not raw:
        raise UnsafePathError("import_file needs a path")
    source, issue_path = _allowed_source(ctx.settings, root, raw)
    if not os.path.isfile(source) or os.path.islink(source):
        raise UnsafePathError(f"{raw} is not a file (it may have vanished since the listing)")
    ext = os.path.splitext(source)[1]
    safe_extension(ext)
    season, number = d.get("season"), d.get("episode")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (season, number)):
        raise UnsafePathError(f"{raw}: season and episode must be whole numbers")
    assert isinstance(season, int) and isinstance(number, int)
    mode = d.get("mode", "move")
    if mode not in ("move", "copy"):
        raise UnsafePathError(f"{raw}: mode must be move or copy")
    async with ctx.db.session() as s:
        series = await series_row(s, str(d.get("series_key")))
        scheme = await scheme_for(s, series.id)
        ep = await s.scalar(
            select(Episode).where(
                Episode.series_id == series.id, Episode.season == season, Episode.episode == number
            )
        )
        owner = None
        if issue_path is not None:
            owner = await s.scalar(
                select(Episode.id).where(
                    Episode.file_path == issue_path, Episode.is_downloaded.is_(True)
                )
            )
    label = f"{raw} -> {series.key} S{season:02d}E{number:02d}"
    if owner is not None:
        raise UnsafePathError(
            f"{label}: it is already the file of another episode; rename that series instead"
        )
    current = ep.file_path if ep is not None and ep.is_downloaded else None
    if current and os.path.lexists(os.path.join(root, current)):
        raise UnsafePathError(f"{label}: the episode is already on disk at {current}")
    stand_in = ep or Episode(
        season=season, episode=number, title=None, absolute_number=None, air_date=None
    )
    if stand_in.candidates is None:
        stand_in.candidates = []
    if d.get("rename", True):
        relative = target_path(scheme, series, [stand_in], ext, folder=series.folder).as_posix()
    else:
        name = PurePosixPath(source).name
        parsed = parse_episode_filename(name, season_hint=season)
        if parsed is None or parsed.season != season or number not in parsed.episodes:
            raise UnsafePathError(
                f"{label}: the next scan would not read {name!r} as S{season:02d}E{number:02d}; "
                "import it with rename"
            )
        season_dir = season_folder(scheme, season)
        parts = [series.folder, *([season_dir] if season_dir else []), name]
        relative = PurePosixPath(*parts).as_posix()
    target = str(ensure_inside(root, relative))
    if target in taken:
        raise UnsafePathError(f"{label}: another decision imports a file to {relative}")
    if os.path.lexists(target) and os.path.realpath(target) != os.path.realpath(source):
        raise UnsafePathError(f"{label}: {relative} already exists")
    companions = names.companions(source)
    size = os.stat(source).st_size + sum(
        os.stat(with_suffix(source, c)).st_size for c in companions
    )
    job = _FileJob(
        label, source, target, relative, series.id, season, number,
        ep.id if ep else None, mode, companions, size, issue_path,
    )  # fmt: skip
    if mode == "copy" or not _same_device(source, root):
        reserve = reserve_bytes(ctx.settings.disk_reserve_gib)
        problem = _free_space_problem(os.path.dirname(target), size, reserve)
        if problem:
            raise UnsafePathError(f"{label}: {problem}")
    return job


def _same_device(a: str, root: str) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(root).st_dev
    except OSError:
        return False


async def _check_folder(ctx: AppContext, root: str, d: dict[str, Any]) -> _FolderJob:
    raw = d.get("path")
    if not isinstance(raw, str) or not raw or "/" in raw.strip("/") or raw in (".", ".."):
        raise UnsafePathError(f"map_folder needs a top-level library folder name, got {raw!r}")
    folder = raw.strip("/")
    if not os.path.isdir(ensure_inside(root, folder)):
        raise UnsafePathError(f"{folder!r} is not a folder in the library (it may have vanished)")
    async with ctx.db.session() as s:
        series = await series_row(s, str(d.get("series_key")))
        owner = await s.scalar(select(Series.key).where(Series.folder == folder))
    if owner is not None:
        raise UnsafePathError(f"{folder!r} is already the folder of series {owner}")
    return _FolderJob(f"{folder} -> {series.key}", folder, series.id, series.key)


def _place(job: _FileJob) -> None:
    """Put the file (and its companions) at the target; a failure leaves nothing behind."""
    os.makedirs(os.path.dirname(job.target), exist_ok=True)
    pairs = [(job.source, job.target)] + [
        (with_suffix(job.source, c), with_suffix(job.target, c)) for c in job.companions
    ]
    done: list[tuple[str, str]] = []
    try:
        for src, dst in pairs:
            if os.path.lexists(dst):
                raise FileExistsError(0, "already exists", dst)
            if job.mode == "move" and _same_device(src, os.path.dirname(dst)):
                os.rename(src, dst)
            else:
                tmp = f"{dst}.import.tmp"
                shutil.copyfile(src, tmp)
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
                os.rename(tmp, dst)
            done.append((src, dst))
    except OSError:
        for src, dst in reversed(done):
            if os.path.lexists(src):
                os.unlink(dst)  # a copy: the source is still there
            else:
                os.rename(dst, src)
        for _src, dst in pairs:
            if os.path.lexists(f"{dst}.import.tmp"):
                os.unlink(f"{dst}.import.tmp")
        raise
    if job.mode == "move":
        for src, _ in pairs:
            if os.path.lexists(src):
                os.unlink(src)  # moved across file systems: the copy is in place


async def _record_file(ctx: AppContext, job: _FileJob) -> int:
    async with ctx.db.write() as s:
        ep = await s.get(Episode, job.episode_id) if job.episode_id else None
        if ep is None:  # not known at the source: a local-only episode, as the scanner makes
            ep = Episode(
                series_id=job.series_id, season=job.season, episode=job.episode,
                at_source=False, monitored=True, candidates=[],
            )  # fmt: skip
            s.add(ep)
        ep.is_downloaded, ep.file_path, ep.size, ep.ignored = True, job.relative, job.size, False
        if job.issue_path is not None:
            await s.execute(delete(LibraryIssue).where(LibraryIssue.path == job.issue_path))
        await s.flush()
        return ep.id


async def _apply_folder(ctx: AppContext, root: str, job: _FolderJob) -> dict[str, Any]:
    async with ctx.db.session() as s:
        series = await s.get(Series, job.series_id)
    assert series is not None
    own = os.path.join(root, series.folder)
    if not os.path.lexists(own):  # the series takes the folder as it is
        async with ctx.db.write() as s:
            row = await s.get(Series, job.series_id)
            assert row is not None
            row.folder = job.folder
            await s.execute(delete(LibraryIssue).where(LibraryIssue.series_folder == job.folder))
            await s.execute(delete(LibraryFolder).where(LibraryFolder.series_id == job.series_id))
        return {"decision": job.label, "status": "mapped", "folder": job.folder}
    imported, left = [], []
    names = FolderNames()
    for dirpath, _dirs, files in os.walk(os.path.join(root, job.folder)):
        for name in sorted(files):
            if not is_media_file(name):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            parsed = parse_episode_filename(name, season_hint=_season_hint(rel))
            if parsed is None or parsed.season is None or not parsed.episodes:
                left.append(f"{rel}: no episode number in the name")
                continue
            decision = {
                "path": rel, "series_key": job.series_key, "season": parsed.season,
                "episode": parsed.episodes[0], "rename": True, "mode": "move",
            }  # fmt: skip
            try:
                file_job = await _check_file(ctx, root, decision, set(), names)
                await asyncio.to_thread(_place, file_job)
            except (UnsafePathError, ShowkeeperError, OSError) as exc:
                left.append(f"{rel}: {exc}")
                continue
            await _record_file(ctx, file_job)
            imported.append(file_job.relative)
    return {"decision": job.label, "status": "merged", "imported": imported, "left": left}


async def apply_import(ctx: AppContext, decisions: list[dict[str, Any]]) -> dict[str, Any]:
    """Check every decision, then apply them in order (see the module's doc).

    Raises:
        ImportRefused: a decision is refused (each refused one named; nothing applied).
    """
    settings = ctx.settings
    if settings.library_dir is None:
        raise ImportRefused("no library folder is set; finish the setup first")
    if not decisions or len(decisions) > MAX_DECISIONS:
        raise ImportRefused(f"give between 1 and {MAX_DECISIONS} decisions")
    root = os.path.realpath(settings.library_dir)
    names = FolderNames()
    jobs: list[_FileJob | _FolderJob] = []
    problems: list[str] = []
    taken: set[str] = set()
    for index, d in enumerate(decisions):
        try:
            action = d.get("action")
            job: _FileJob | _FolderJob
            if action == "import_file":
                job = file_job = await _check_file(ctx, root, d, taken, names)
                taken.add(file_job.target)
            elif action == "map_folder":
                job = await _check_folder(ctx, root, d)
            else:
                raise UnsafePathError(f"unknown action {action!r}: use import_file or map_folder")
            jobs.append(job)
        except (UnsafePathError, ShowkeeperError) as exc:
            problems.append(f"decision {index + 1}: {exc}")
    if problems:
        raise ImportRefused("refused, nothing was imported: " + "; ".join(problems))
    # one library-changing job at a time: no scan reads a half-imported folder
    lease = await ScanLease.acquire(ctx.db, f"import-{uuid.uuid4().hex[:12]}", series_key=None)
    try:
        results = await _apply_jobs(ctx, root, jobs)
    finally:
        await lease.release()
    for job, result in zip(jobs, results, strict=True):
        if result["status"] == "mapped":  # the series' new folder is read now
            assert isinstance(job, _FolderJob)
            try:
                await start_scan(ctx, series_key=job.series_key)
                result["scan"] = "started"
            except ConflictError as exc:
                result["scan"] = f"not started: {exc}"
    return {"results": results, "series_ids": sorted({job.series_id for job in jobs})}


async def _apply_jobs(
    ctx: AppContext, root: str, jobs: list[_FileJob | _FolderJob]
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for job in jobs:
        if isinstance(job, _FolderJob):
            results.append(await _apply_folder(ctx, root, job))
            continue
        try:
            await asyncio.to_thread(_place, job)
        except OSError as exc:
            results.append({"decision": job.label, "status": "failed", "error": str(exc)})
            continue
        episode_id = await _record_file(ctx, job)
        results.append(
            {
                "decision": job.label,
                "status": "imported",
                "path": job.relative,
                "episode_id": episode_id,
                "mode": job.mode,
            }
        )
    return results
