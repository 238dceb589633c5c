"""yt-dlp fallback for web pages, through its Python API in a thread (never a shell).

yt-dlp writes into a private work directory next to the final file under our own name
(``media.<ext>``); the result's extension must pass the allowlist
(:func:`showkeeper.domain.paths.safe_extension`), anything else is deleted and refused.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from showkeeper.domain.paths import UnsafePathError, ensure_inside, safe_extension
from showkeeper.downloads import files
from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.transfer import TransferCancelled, TransferError
from showkeeper.net.guard import IPNetwork
from showkeeper.net.socks_guard import GuardedSocksProxy

__all__ = ["YtdlpJob", "YtdlpOutput", "download_ytdlp"]

_log = logging.getLogger("showkeeper.downloads.ytdlp_download")
_OUTPUT_STEM = "media"


@dataclass(frozen=True)
class YtdlpJob:
    """One yt-dlp download."""

    url: str
    work_dir: Path
    headers: dict[str, str]
    max_height: int
    connections: int
    ffmpeg: str | None
    meter: ProgressMeter
    cancel: asyncio.Event | None
    allowed_networks: tuple[IPNetwork, ...] = ()
    """Private networks yt-dlp may reach (the guard's, through net/socks_guard.py)."""


@dataclass(frozen=True)
class YtdlpOutput:
    """yt-dlp's finished file (inside the work directory) and what it said about it."""

    path: Path
    ext: str
    size: int
    duration_s: float | None


class _Logger:
    """yt-dlp's logger interface, into ours (its errors come back as exceptions anyway)."""

    def debug(self, msg: str) -> None:
        _log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        _log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        _log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        _log.info("yt-dlp: %s", msg)


def _options(job: YtdlpJob, hook: Any, proxy: str) -> dict[str, Any]:
    height = job.max_height
    options: dict[str, Any] = {
        "outtmpl": {"default": str(job.work_dir / f"{_OUTPUT_STEM}.%(ext)s")},
        "format": f"bv*[height<={height}]+ba/b[height<={height}]/bv*+ba/b",
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "progress_hooks": [hook],
        "logger": _Logger(),
        "http_headers": dict(job.headers),
        "retries": 3,
        "fragment_retries": 5,
        "concurrent_fragment_downloads": job.connections,
        "socket_timeout": 30,
        "cachedir": False,
        "updatetime": False,
        "color": "never",
        # every connection through the guarded proxy, fragments and redirects included;
        # HLS by yt-dlp's own downloader (ffmpeg would open its own connections)
        "proxy": proxy,
        "hls_prefer_native": True,
        "external_downloader": {},
    }
    if job.ffmpeg is not None:
        options["ffmpeg_location"] = job.ffmpeg
    return options


def _find_output(work_dir: Path, info: dict[str, Any] | None) -> Path:
    reported = [
        Path(d["filepath"])
        for d in (info or {}).get("requested_downloads") or []
        if isinstance(d, dict) and d.get("filepath")
    ]
    found = [p for p in work_dir.iterdir() if p.is_file() and p.name.startswith(_OUTPUT_STEM)]
    found = [p for p in found if not p.name.endswith((".part", ".ytdl", ".tmp"))]
    for path in reported + sorted(found):
        if path.exists():
            return path
    raise TransferError("yt-dlp reported success but wrote no file")


def _run(
    job: YtdlpJob, stop: threading.Event, report: Any, proxy: str
) -> tuple[Path, dict[str, Any] | None]:
    import yt_dlp
    from yt_dlp.utils import DownloadCancelled

    def hook(status: dict[str, Any]) -> None:
        if stop.is_set():
            raise DownloadCancelled("cancelled by showkeeper")
        if status.get("status") == "downloading":
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            report(int(status.get("downloaded_bytes") or 0), int(total) if total else None)

    with yt_dlp.YoutubeDL(_options(job, hook, proxy)) as ydl:
        info = ydl.extract_info(job.url, download=True)
    return _find_output(job.work_dir, info), info


async def download_ytdlp(job: YtdlpJob) -> YtdlpOutput:
    """Let yt-dlp download ``job.url`` into ``job.work_dir``.

    Returns:
        The finished file, whose extension is allowed; the caller renames it into place.

    Raises:
        TransferError: If yt-dlp fails or produces a file with a refused extension (the
            file is deleted).
        TransferCancelled: If ``job.cancel`` is set (checked in yt-dlp's progress hook).
    """
    job.work_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def report(downloaded: int, total: int | None) -> None:
        loop.call_soon_threadsafe(job.meter.update, downloaded, total)

    async def watch_cancel() -> None:
        if job.cancel is not None:
            await job.cancel.wait()
            stop.set()

    watcher = asyncio.create_task(watch_cancel())
    async with GuardedSocksProxy(job.allowed_networks) as proxy:
        try:
            path, info = await asyncio.to_thread(_run, job, stop, report, proxy.url)
        except TransferError:
            raise
        except Exception as exc:
            if stop.is_set():
                raise TransferCancelled("download cancelled") from exc
            if proxy.blocked:
                raise TransferError(f"yt-dlp: {proxy.blocked[0]}") from exc
            message = str(exc).removeprefix("ERROR: ").strip().splitlines()
            raise TransferError(f"yt-dlp: {message[0] if message else type(exc).__name__}") from exc
        finally:
            stop.set()  # also stops the thread at its next hook if this task was cancelled
            watcher.cancel()
    try:
        if ensure_inside(job.work_dir, path.name) != Path(os.path.realpath(path)):
            raise UnsafePathError(f"{path} is not inside {job.work_dir}")
        ext = safe_extension(path.suffix)
    except UnsafePathError as exc:
        files.remove_paths(job.work_dir)
        raise TransferError(f"yt-dlp produced {path.name!r}, which was refused: {exc}") from exc
    duration = info.get("duration") if info else None
    size = path.stat().st_size
    job.meter.update(size, size)
    return YtdlpOutput(
        path, ext, size, float(duration) if isinstance(duration, int | float) else None
    )
