"""Walking the library: the filesystem half of a scan, no database.

The library root holds one folder per series; a series folder holds episode files directly or in
season folders (``Season 01``, ``S01``, ``Staffel 1``, ``Specials`` = season 0), possibly nested a
few levels deeper. Files count when their extension is on the media allowlist.

Incremental: the caller passes the directories it recorded last time with their mtimes. A
directory whose mtime is unchanged has the same entries as then, so it is not listed again: its
recorded subdirectories are only stat'ed. Only directories that changed are listed, and only
their files are returned, so a rescan of an unchanged library costs one ``stat`` per directory.

Never fatal: symlink loops are not followed, names that are not UTF-8 and directories that
cannot be listed are returned as issues. Runs in a worker thread (blocking I/O).
"""

from __future__ import annotations

import datetime
import os
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from showkeeper.domain.filenames import (
    ParsedEpisode,
    is_media_file,
    parse_episode_filename,
    parse_season_folder,
)
from showkeeper.library.identify import FolderIdentity, IdentityProblem, identify_folder

# Never read again before this many ns have passed since a directory's mtime: a change in the
# same timestamp tick as our stat would otherwise go unseen (coarse mtimes: FAT, SMB, jiffies).
RACY_WINDOW_NS: Final = 2_000_000_000
MAX_DEPTH: Final = 4  # directory levels below a series folder
# folders that are never series or seasons: NAS and OS litter (compared lower-cased)
SYSTEM_DIRS: Final[frozenset[str]] = frozenset(
    {"@eadir", "#recycle", "#snapshot", "$recycle.bin", "lost+found", "system volume information"}
)
# inside a series folder: extras (Plex/Kodi names) and subtitles, never episodes. Not applied
# at the root, where "Extras" or "Other" may well be a series.
EXTRAS_DIRS: Final[frozenset[str]] = frozenset(
    {
        "extras",
        "featurettes",
        "behind the scenes",
        "deleted scenes",
        "interviews",
        "scenes",
        "shorts",
        "trailers",
        "other",
        "samples",
        "sample",
        "subs",
        "subtitles",
    }
)


class ScannedFile(NamedTuple):
    """A media file found in a directory that was read, with what its name says.

    A tuple of plain values (not the parser's dataclass): 100k of them cross from the worker
    process to the writer, and tuples unpickle an order of magnitude faster.
    """

    path: str  # relative to the library root, "/"-separated
    size: int
    season: int | None = None
    episodes: tuple[int, ...] = ()
    absolute: int | None = None
    air_date: datetime.date | None = None

    @property
    def understood(self) -> bool:
        """False when the name says no episode at all (the parser gave up)."""
        return bool(self.episodes) or self.air_date is not None

    @classmethod
    def of(cls, path: str, size: int, parsed: ParsedEpisode | None) -> ScannedFile:
        if parsed is None:
            return cls(path, size)
        return cls(path, size, parsed.season, parsed.episodes, parsed.absolute, parsed.air_date)


@dataclass(frozen=True, slots=True)
class Issue:
    """Something found but not usable. ``folder`` is the directory that reported it."""

    kind: str  # unparsed, undecodable, unreadable, symlink_loop, broken_link, stray, too_deep
    path: str
    folder: str
    detail: str


@dataclass(frozen=True, slots=True)
class FolderPlan:
    """What the caller knows about one series folder before reading it."""

    name: str
    mtime_ns: int  # from the root listing
    recorded: Mapping[str, int] = field(default_factory=dict)  # path -> mtime_ns of last scan
    identify: bool = False  # not mapped in the database: look for tvshow.nfo / key
    force: bool = False  # read every directory, whatever the mtimes say


@dataclass(slots=True)
class FolderScan:
    """The result of one series folder.

    ``dirs`` is every directory known now with the mtime to record (-1: read it next time);
    ``files`` and ``issues`` come from the directories in ``read`` only. ``complete`` is True
    when every directory was read, so every file of the series is in ``files``.
    """

    name: str
    dirs: dict[str, int] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    files: list[ScannedFile] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    identity: FolderIdentity | IdentityProblem | None = None
    complete: bool = True
    walked: bool = True  # False: an unidentified folder, only its top level was read

    @property
    def changed(self) -> bool:
        """True when anything was read or vanished (the database needs an update)."""
        return bool(self.read or self.vanished or self.unreadable)


@dataclass(slots=True)
class RootListing:
    """The library root: its series folders (name, mtime_ns) and root-level issues."""

    folders: list[tuple[str, int]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def display_name(name: str) -> str:
    """A name as text that can be stored and shown: undecodable bytes become ``\\xNN``."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def _skipped(name: str, *, top: bool = False) -> bool:
    if name[0] == ".":
        return True
    low = name.lower()
    return low in SYSTEM_DIRS or (not top and low in EXTRAS_DIRS)


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _is_loop(real: str, ancestor_real: str) -> bool:
    return ancestor_real == real or ancestor_real.startswith(real.rstrip(os.sep) + os.sep)


def list_root(root: str) -> RootListing:
    """The series folders of the library root, sorted by name.

    Raises:
        OSError: the root itself cannot be listed.
    """
    listing = RootListing()
    root_real = os.path.realpath(root)
    with os.scandir(root) as it:
        entries = list(it)
    entries.sort(key=lambda e: e.name)
    for entry in entries:
        name = entry.name
        shown = display_name(name)
        if shown != name:
            listing.issues.append(
                Issue("undecodable", shown, "", "folder or file name is not valid UTF-8")
            )
            continue
        if _skipped(name, top=True):
            continue
        try:
            if entry.is_dir():
                if entry.is_symlink() and _is_loop(os.path.realpath(entry.path), root_real):
                    listing.issues.append(
                        Issue("symlink_loop", name, "", "link to the library itself: not followed")
                    )
                    continue
                listing.folders.append((name, entry.stat().st_mtime_ns))
            elif entry.is_file():
                if is_media_file(name):
                    listing.issues.append(
                        Issue("stray", name, "", "media file outside any series folder")
                    )
            elif entry.is_symlink():
                listing.issues.append(Issue("broken_link", name, "", "symbolic link to nothing"))
        except OSError as exc:
            listing.issues.append(Issue("unreadable", name, "", _os_reason(exc)))
    return listing


def scan_folders(
    root: str, plans: Sequence[FolderPlan], *, now_ns: int | None = None
) -> list[FolderScan]:
    """Read the series folders of ``plans`` (see the module docstring)."""
    now = time.time_ns() if now_ns is None else now_ns
    root_real = os.path.realpath(root)
    return [_FolderWalker(root, root_real, plan, now).run() for plan in plans]


class _FolderWalker:
    def __init__(self, root: str, root_real: str, plan: FolderPlan, now_ns: int) -> None:
        self.root = root
        self.plan = plan
        self.now_ns = now_ns
        self.out = FolderScan(plan.name)
        # real paths are only compared when a linked folder shows up, so they are built by
        # joining names; only a link costs a realpath (and an unchanged folder one lstat)
        path = os.path.join(root, plan.name)
        self.real = os.path.join(root_real, plan.name)
        if os.path.islink(path):
            self.real = os.path.realpath(path)
            if _is_loop(self.real, root_real):  # a series folder linking to the root or above
                self.real = ""
        self.children: dict[str, list[str]] = {}
        if not plan.force:
            for recorded in plan.recorded:
                parent, sep, _ = recorded.rpartition("/")
                if sep:
                    self.children.setdefault(parent, []).append(recorded)

    def run(self) -> FolderScan:
        out, plan = self.out, self.plan
        if not self.real:
            out.issues.append(
                Issue("symlink_loop", plan.name, plan.name, "link to the library: not followed")
            )
            out.unreadable.append(plan.name)
            out.complete = False
        else:
            self._dir(
                plan.name, os.path.join(self.root, plan.name), self.real, None, 0, plan.mtime_ns
            )
        # recorded directories not seen now: vanished, unless hidden behind an unreadable one
        blocked = tuple(p + "/" for p in out.unreadable)
        for path in plan.recorded:
            if path in out.dirs:
                continue
            if blocked and path.startswith(blocked):
                out.dirs[path] = -1  # keep it: what it holds is unknown until it can be read
            else:
                out.vanished.append(path)
        return out

    def _record(self, rel: str, mtime: int) -> None:
        fresh = self.now_ns - mtime < RACY_WINDOW_NS
        self.out.dirs[rel] = -1 if fresh else mtime

    def _dir(
        self, rel: str, path: str, real: str, hint: int | None, depth: int, mtime: int
    ) -> None:
        plan, out = self.plan, self.out
        unchanged = plan.recorded.get(rel) == mtime and mtime != -1
        if unchanged and not plan.force and not (depth == 0 and plan.identify):
            out.dirs[rel] = mtime
            out.complete = False
            for child in self.children.get(rel, ()):
                name = child.rpartition("/")[2]
                child_path = os.path.join(path, name)
                child_real = os.path.join(real, name)
                try:
                    st = os.lstat(child_path)
                    if stat.S_ISLNK(st.st_mode):
                        st = os.stat(child_path)
                        child_real = os.path.realpath(child_path)
                except OSError:
                    continue  # vanished (a link whose target went away)
                if not stat.S_ISDIR(st.st_mode):
                    continue
                season = parse_season_folder(name)
                self._dir(
                    child,
                    child_path,
                    child_real,
                    hint if season is None else season,
                    depth + 1,
                    st.st_mtime_ns,
                )
            return
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            out.unreadable.append(rel)
            out.dirs[rel] = -1
            out.complete = False
            out.issues.append(Issue("unreadable", rel, rel, _os_reason(exc)))
            return
        self._record(rel, mtime)
        out.read.append(rel)
        if depth == 0 and plan.identify:
            out.identity = identify_folder(path, [e.name for e in entries])
            if not isinstance(out.identity, FolderIdentity):
                out.walked = False  # unidentified: its files don't matter yet
                return
        # the per-file loop of a 100k-file import: inlined, with local names
        files = out.files
        parse = parse_episode_filename
        for entry in entries:
            name = entry.name
            if not name.isascii() and display_name(name) != name:
                out.issues.append(
                    Issue(
                        "undecodable",
                        f"{rel}/{display_name(name)}",
                        rel,
                        "name is not valid UTF-8: rename it",
                    )
                )
                continue
            try:
                if entry.is_file():
                    if is_media_file(name):
                        size = entry.stat().st_size
                        try:
                            parsed = parse(name, season_hint=hint)
                        except Exception:  # a parser bug must not end the scan: report the file
                            parsed = None
                        files.append(ScannedFile.of(f"{rel}/{name}", size, parsed))
                    continue
            except OSError as exc:
                out.issues.append(Issue("unreadable", f"{rel}/{name}", rel, _os_reason(exc)))
                continue
            self._other(entry, rel, real, hint, depth)

    def _other(
        self, entry: os.DirEntry[str], rel: str, real: str, hint: int | None, depth: int
    ) -> None:
        """A directory entry that is not a regular file: a folder, a link, a FIFO..."""
        out = self.out
        name = entry.name
        child = f"{rel}/{name}"
        try:
            if not entry.is_dir():
                if entry.is_symlink() and is_media_file(name):
                    out.issues.append(Issue("broken_link", child, rel, "symbolic link to nothing"))
                return
            if _skipped(name):
                return
            child_real = os.path.join(real, name)
            if entry.is_symlink():
                child_real = os.path.realpath(entry.path)
                if _is_loop(child_real, real):
                    out.issues.append(
                        Issue("symlink_loop", child, rel, "link to a folder above it: not followed")
                    )
                    return
            if depth + 1 > MAX_DEPTH:
                out.issues.append(
                    Issue("too_deep", child, rel, f"more than {MAX_DEPTH} folder levels deep")
                )
                return
            mtime = entry.stat().st_mtime_ns
        except OSError as exc:
            out.issues.append(Issue("unreadable", child, rel, _os_reason(exc)))
            return
        season = parse_season_folder(name)
        self._dir(
            child, entry.path, child_real, hint if season is None else season, depth + 1, mtime
        )
