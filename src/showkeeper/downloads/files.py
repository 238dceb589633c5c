"""Files of a transfer in progress: ``.part`` and state files, byte ranges, fsync, atomic
rename, and the mapping of "disk full" errors to :class:`DiskFullError`.

Every temporary name lives next to the final file, on the library's file system, so the
last step is one atomic :func:`os.replace`; nothing exists under the final name before it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePath
from typing import Any, cast

from showkeeper.domain.paths import UnsafePathError, ensure_inside, safe_extension
from showkeeper.downloads.transfer import DiskFullError

__all__ = [
    "DEFAULT_EXTENSION",
    "Writeback",
    "boot_id",
    "commit",
    "disk_errors",
    "ensure_free_space",
    "filesystem_of",
    "fsync_path",
    "hls_parts_dir",
    "is_disk_full",
    "merge_ranges",
    "missing_ranges",
    "part_path",
    "preallocate",
    "read_state",
    "remove_partials",
    "remove_paths",
    "sibling",
    "state_path",
    "with_extension",
    "write_state",
    "ytdlp_work_dir",
]

DEFAULT_EXTENSION = "mp4"
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

Range = tuple[int, int]
"""A half-open byte range ``[start, end)``."""


# -- names ------------------------------------------------------------------------------


def sibling(final: Path, name: str) -> Path:
    """``final``'s directory joined with ``name``, checked to stay in that directory.

    Raises:
        UnsafePathError: If ``name`` would escape ``final.parent``.
    """
    path = ensure_inside(final.parent, name)
    if path.parent != Path(os.path.realpath(final.parent)):
        raise UnsafePathError(f"refused name {name!r}: not directly inside {final.parent}")
    return path


def part_path(final: Path) -> Path:
    """``<final>.part``: where a direct download is written."""
    return final.with_name(final.name + ".part")


def state_path(final: Path) -> Path:
    """``<final>.part.state``: the JSON sidecar of a direct download."""
    return final.with_name(final.name + ".part.state")


def hls_parts_dir(final: Path) -> Path:
    """``<final>.hls-parts/``: segment files and state of an HLS download."""
    return final.with_name(final.name + ".hls-parts")


def ytdlp_work_dir(dest: Path) -> Path:
    """``<dest>.ytdlp/``: yt-dlp's private output directory."""
    return dest.with_name(dest.name + ".ytdlp")


def with_extension(dest: PurePath, *hints: str | None) -> str:
    """The final file name: ``dest``'s stem with the first allowed extension among ``hints``.

    Hints come from remote data (content type, URL, yt-dlp) and are untrusted; each is
    checked with :func:`safe_extension` and skipped when refused. When none is allowed,
    ``dest``'s own extension is kept if allowed, else ``mp4``.

    Returns:
        A file name (no directory part) ending in an allowed extension.
    """
    for hint in (*hints, dest.suffix):
        if not hint:
            continue
        try:
            ext = safe_extension(hint)
        except UnsafePathError:
            continue
        return f"{dest.stem}.{ext}"
    return f"{dest.stem}.{DEFAULT_EXTENSION}"


# -- byte ranges ------------------------------------------------------------------------


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    """Sort and merge overlapping or touching ranges; empty ones are dropped."""
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def missing_ranges(done: Iterable[Range], total: int) -> list[Range]:
    """The parts of ``[0, total)`` not covered by ``done``."""
    gaps: list[Range] = []
    position = 0
    for start, end in merge_ranges(done):
        if start > position:
            gaps.append((position, min(start, total)))
        position = max(position, end)
        if position >= total:
            break
    if position < total:
        gaps.append((position, total))
    return [g for g in gaps if g[1] > g[0]]


# -- state files ------------------------------------------------------------------------


def read_state(path: Path) -> dict[str, Any] | None:
    """Load a JSON state file; None when missing or unreadable (then start over)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(path: Path, data: dict[str, Any]) -> None:
    """Write a JSON state file atomically (temp file, rename).

    Not fsynced, on purpose: a state only claims data that is already durable (fdatasynced
    ranges) or checkable (segment sizes), and a state lost or cut by a power failure reads
    as None, which means "start over", never a splice.
    """
    tmp = path.with_name(path.name + ".tmp")
    with disk_errors(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)


# -- disk -------------------------------------------------------------------------------


def boot_id() -> str | None:
    """This boot's id (Linux), or None: a page cache survives a killed process, not a reboot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def filesystem_of(path: Path) -> str:
    """The mount point holding ``path`` and its type, e.g. ``/srv/media (ext4)``."""
    current = Path(os.path.realpath(path))
    while not current.exists() and current != current.parent:
        current = current.parent
    while not os.path.ismount(current) and current != current.parent:
        current = current.parent
    fs_type = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and fields[1].replace("\\040", " ") == str(current):
                fs_type = fields[2]  # the last matching line is the visible mount
    return f"{current} ({fs_type})" if fs_type else str(current)


def _disk_full(path: Path, detail: str = "") -> DiskFullError:
    return DiskFullError(
        f"no space left on {filesystem_of(path)} writing {path}{detail}; "
        "free some space there or move the library to a larger disk"
    )


def is_disk_full(error: BaseException) -> bool:
    """True for an OSError meaning the disk (or the file size limit) is full."""
    return isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS


@contextlib.contextmanager
def disk_errors(path: Path, *cleanup: Path) -> Iterator[None]:
    """Turn ENOSPC/EDQUOT/EFBIG raised inside the block into :class:`DiskFullError`.

    The paths in ``cleanup`` (files or directories) are removed first, so no partial
    file outlives a disk-full error.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in _DISK_FULL_ERRNOS:
            raise
        remove_paths(*cleanup)
        detail = " (file size limit reached)" if exc.errno == errno.EFBIG else ""
        raise _disk_full(path, detail) from exc


def ensure_free_space(path: Path, needed: int, *cleanup: Path) -> None:
    """Raise :class:`DiskFullError` now if ``needed`` bytes will not fit next to ``path``."""
    try:
        stats = os.statvfs(path.parent)
    except OSError:
        return
    free = stats.f_bavail * stats.f_frsize
    if needed > free:
        remove_paths(*cleanup)
        raise _disk_full(path, f" (needs {needed} more bytes, {free} free)")


def preallocate(fd: int, size: int) -> None:
    """Reserve ``size`` bytes for the open file (ENOSPC now rather than halfway through)."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        os.ftruncate(fd, size)


_SYNC_FILE_RANGE_WRITE = 2
WRITEBACK_EVERY = 32 * 1024 * 1024


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], function)


class Writeback:
    """Starts the kernel writing a file's dirty pages every ``every`` bytes, without waiting.

    Linux ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: the disk works while the network
    does, so the final fsync finds little left. It promises nothing (the fsync still
    does) and is a no-op where unavailable.
    """

    def __init__(self, fd: int, every: int = WRITEBACK_EVERY) -> None:
        self._fd = fd
        self._every = every
        self._pending = 0
        self._function = _sync_file_range()

    def wrote(self, count: int) -> None:
        self._pending += count
        if self._pending >= self._every and self._function is not None:
            self._pending = 0
            self._function(self._fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


def fsync_path(path: Path) -> None:
    """fsync a file by name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(tmp: Path, final: Path) -> None:
    """Move a complete, fsynced file to its final name atomically and persist the rename."""
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def remove_paths(*paths: Path) -> None:
    """Remove files or directory trees; missing ones are fine."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + ".tmp").unlink()


def remove_partials(dest: Path) -> None:
    """Remove every temporary file a transfer to ``dest`` may have left (for a cancel).

    Covers ``.part``/``.part.state`` under every allowed extension, the HLS parts directory
    and yt-dlp's work directory. Never touches a completed file.
    """
    from showkeeper.domain.paths import ALLOWED_EXTENSIONS

    finals = {dest, *(dest.with_name(f"{dest.stem}.{ext}") for ext in ALLOWED_EXTENSIONS)}
    paths = [
        p for final in finals for p in (part_path(final), state_path(final), hls_parts_dir(final))
    ]
    remove_paths(*paths, ytdlp_work_dir(dest))
