"""The transfer engine: get one episode's bytes onto disk, fast and crash-safely.

:func:`download` rotates over an episode's candidates, best first. Each candidate goes
through the same readable steps:

1. **probe**: HEAD (a ranged GET when HEAD fails); 4xx or a connection error -> next.
   A direct candidate whose source gave its media type and size (a feed's enclosure, a
   directory listing) skips it: its GET is sent at once and that response's headers and
   first bytes stand in for the probe. When that GET fails or does not answer with media,
   the candidate is probed as any other.
2. **resolve**: the final URL and content type pick the method: direct HTTP for
   ``video/*``, ``audio/*`` and ``application/octet-stream``; HLS for m3u8 playlists;
   yt-dlp for web pages (kind ``page`` or ``text/html``).
3. **fetch**: into a temporary name next to the final file (``.part``, ``.hls-parts/``,
   ``.ytdlp/``), resumable after a retry or a crash.
4. **commit**: verified, fsynced, atomically renamed to the final name.

A failed candidate is cleaned up (a transient failure keeps its resumable data) and the next
is tried. When none works, one line goes to the log and ``<data_dir>/logs/download_errors.log``
and :class:`AllCandidatesFailed` is raised.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from showkeeper.config import Settings
from showkeeper.domain.candidates import Candidate
from showkeeper.domain.paths import ALLOWED_EXTENSIONS
from showkeeper.domain.queue_rules import THROTTLE_STATUSES
from showkeeper.domain.sniff import HEAD_BYTES, container_of, describe
from showkeeper.downloads import files
from showkeeper.downloads.direct import DirectJob, download_direct
from showkeeper.downloads.first_get import FirstGet
from showkeeper.downloads.hls import HlsJob, download_hls
from showkeeper.downloads.probe import (
    ProbeResult,
    extension_for_type,
    is_known_media,
    probe,
    result_of,
)
from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.retry import check_cancel, is_transient
from showkeeper.downloads.transfer import (
    AllCandidatesFailed,
    DiskFullError,
    TransferCancelled,
    TransferError,
    TransferProgress,
    TransferResult,
    http_status_error,
)
from showkeeper.downloads.verify import NotMediaError, identify_media
from showkeeper.downloads.ytdlp_download import YtdlpJob, download_ytdlp
from showkeeper.ffmpeg import find_ffmpeg
from showkeeper.logging import get_logger
from showkeeper.net import HttpClient, OutboundError, parse_retry_after

__all__ = ["ERRORS_LOG_NAME", "download", "failure_line"]

ERRORS_LOG_NAME = "download_errors.log"
_REASON_LIMIT = 300
_log = get_logger("showkeeper.downloads")


@dataclass(frozen=True)
class _Attempt:
    """Everything one candidate's steps need."""

    candidate: Candidate
    dest: Path
    client: HttpClient
    settings: Settings
    on_progress: Callable[[TransferProgress], None] | None
    cancel: asyncio.Event | None
    on_received: Callable[[], None] | None = None

    def meter(self, total: int | None = None) -> ProgressMeter:
        return ProgressMeter(self.on_progress, total=total)


async def download(
    candidates: Sequence[Candidate],
    dest: Path,
    *,
    client: HttpClient,
    settings: Settings,
    on_progress: Callable[[TransferProgress], None] | None = None,
    cancel: asyncio.Event | None = None,
    label: str = "",
    on_received: Callable[[], None] | None = None,
) -> TransferResult:
    """Download the first candidate that works to ``dest`` (or a sibling with the right
    extension).

    Nothing exists under the final name until the file is complete and verified.

    Args:
        candidates: The episode's candidates, best first.
        dest: The final path, already checked with ``ensure_inside`` by the caller. Its
            extension is a wish: HLS becomes ``.mp4`` (``.mkv`` if asked), yt-dlp keeps its
            own extension when allowed, direct HTTP follows the content type.
        client: The shared HTTP client (its ``per_host_limit`` caps HLS concurrency).
        settings: ``download_connections``, ``max_resolution`` and ``data_dir`` are used.
        on_progress: Called at most about four times per second.
        cancel: Set it to stop; partial data is kept for a later resume
            (:func:`showkeeper.downloads.files.remove_partials` discards it).
        label: Names the episode in the failure line, e.g. ``"my-show S01E02"``.
        on_received: Called when a direct download has every byte on disk, before its
            fsync and checks (its connections are free): the worker pool starts the host's
            next download then. A check that fails after it moves on to the next candidate.

    Returns:
        The completed file, the candidate and method that produced it.

    Raises:
        AllCandidatesFailed: When every candidate failed (``tried`` lists why).
        DiskFullError: When the disk is full (the partial file is removed).
        TransferCancelled: When ``cancel`` was set.
        UnsafePathError: If ``dest`` is not a plain file path.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    files.sibling(dest, dest.name)
    tried: list[tuple[str, str]] = []
    causes: list[BaseException] = []  # the worker reads which hosts asked to slow down
    transient = False
    for candidate in candidates:
        check_cancel(cancel)
        attempt = _Attempt(candidate, dest, client, settings, on_progress, cancel, on_received)
        try:
            result = await _try(attempt)
        except (TransferCancelled, DiskFullError):
            raise
        except Exception as exc:
            reason = _reason(exc)
            transient = transient or is_transient(exc)
            tried.append((candidate.url, reason))
            causes.append(exc)
            _log.warning("download candidate failed", url=candidate.url, reason=reason)
            continue
        _log.info("download complete", path=str(result.path), method=result.method)
        return replace(result, tried=[url for url, _ in tried] + [candidate.url])
    line = failure_line(label or dest.name, tried)
    _log.error(line)
    _record_failure(settings, line)
    error = AllCandidatesFailed(line, tried, causes)
    error.transient = transient
    raise error


def failure_line(label: str, tried: Sequence[tuple[str, str]]) -> str:
    """``All candidates failed for <label>; tried=[...]`` (one line, a JSON list)."""
    entries = [f"{url}: {reason}" for url, reason in tried]
    return f"All candidates failed for {label}; tried={json.dumps(entries, ensure_ascii=False)}"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 3] + "..."


def _record_failure(settings: Settings, line: str) -> None:
    path = settings.data_dir / "logs" / ERRORS_LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}\n")
    except OSError as exc:
        _log.warning("could not write the download errors log", path=str(path), error=str(exc))


# -- the steps --------------------------------------------------------------------------


async def _try(attempt: _Attempt) -> TransferResult:
    """Probe and resolve the candidate, then fetch it with the matching method."""
    if is_known_media(attempt.candidate) and not _has_partial(attempt.dest):
        try:
            return await _fetch_known(attempt)
        except _NotKnown as exc:
            _log.info("no media from the first GET; probing", url=exc.url, reason=exc.reason)
    found = await probe(attempt.client, attempt.candidate)
    if found.method == "hls":
        return await _fetch_hls(attempt, found)
    if found.method == "ytdlp":
        return await _fetch_ytdlp(attempt)
    return await _fetch_direct(attempt, found)


class _NotKnown(Exception):
    """The GET sent without a probe did not answer with media (so: probe it)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason


def _has_partial(dest: Path) -> bool:
    """Whether an earlier run left resumable data for ``dest`` (any extension). Resuming
    needs the validator before the first request (``If-Range``), so those are probed."""
    names = {dest.name, *(f"{dest.stem}.{ext}" for ext in ALLOWED_EXTENSIONS)}
    return any(files.state_path(dest.with_name(name)).exists() for name in names)


async def _fetch_known(attempt: _Attempt) -> TransferResult:
    """GET the candidate at once; its answer is the probe and its body the download.

    Raises:
        _NotKnown: When the GET fails or its headers or first bytes are not media; nothing
            was written.
    """
    client, candidate = attempt.client, attempt.candidate
    try:
        resp = await client.open(candidate.url, headers=candidate.headers)
    except OutboundError as exc:
        raise _NotKnown(candidate.url, _reason(exc)) from exc
    first = FirstGet(client, resp)
    try:
        url = str(resp.url)
        if resp.status in THROTTLE_STATUSES:  # a probe now would ask a host that said wait
            await first.drain()
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            raise http_status_error(resp.status, url, retry_after)
        if resp.status != 200:
            raise _NotKnown(url, f"HTTP {resp.status}")
        try:
            found = result_of(candidate, url, resp.status, resp.headers)
        except TransferError as exc:
            raise _NotKnown(url, _reason(exc)) from exc
        if found.method != "direct":
            raise _NotKnown(url, f"{found.content_type or 'no content type'} is not a media file")
        try:
            head = await first.read_head(HEAD_BYTES)
        except OutboundError as exc:
            raise _NotKnown(url, _reason(exc)) from exc
        if container_of(head) is None:
            # verify.py would refuse these bytes after the whole body: say so now
            raise NotMediaError(f"{url} is not media: {describe(head)}")
        return await _fetch_direct(attempt, found, first=first)
    except _NotKnown:
        await first.drain()  # the probe that follows may use the same connection
        raise
    finally:
        first.release()


def _keeps_partial(exc: BaseException) -> bool:
    """Whether a failure leaves data worth resuming (crash-like or a transient error)."""
    return isinstance(exc, TransferCancelled | asyncio.CancelledError) or is_transient(exc)


def _url_extension(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix


async def _fetch_direct(
    attempt: _Attempt, found: ProbeResult, *, first: FirstGet | None = None
) -> TransferResult:
    dest = attempt.dest
    name = files.with_extension(
        dest, extension_for_type(found.content_type), _url_extension(found.url)
    )
    final = files.sibling(dest, name)
    part = files.sibling(dest, files.part_path(final).name)
    state = files.sibling(dest, files.state_path(final).name)
    meter = attempt.meter(found.length)
    job = DirectJob(
        client=attempt.client,
        url=attempt.candidate.url,
        probe=found,
        part=part,
        state=state,
        headers=dict(attempt.candidate.headers),
        connections=attempt.settings.download_connections,
        meter=meter,
        cancel=attempt.cancel,
        on_received=attempt.on_received,
    )
    try:
        size = await download_direct(job, first=first)
    except BaseException as exc:
        if not _keeps_partial(exc):
            files.remove_paths(part, state)
        raise
    try:
        media = await identify_media(part, source=found.url)
    except NotMediaError:
        files.remove_paths(part, state)
        raise
    # the extension is the content's, whatever the server called it
    final = files.sibling(dest, f"{dest.stem}.{media.ext}")
    files.commit(part, final)
    _tidy_after_commit(dest)
    meter.finish()
    return TransferResult(final, size, attempt.candidate, "direct", None)


def _tidy_after_commit(dest: Path) -> None:
    """Remove what the transfer left beside the committed file. The file is in place, so a
    failure here is logged and never fails the download."""
    try:
        files.remove_partials(dest)
    except OSError as exc:
        _log.warning("could not remove temporary download files", dest=str(dest), error=str(exc))


def _ffmpeg() -> str:
    path = find_ffmpeg().path
    if path is None:
        raise TransferError("no ffmpeg found: install ffmpeg or the imageio-ffmpeg package")
    return path


async def _fetch_hls(attempt: _Attempt, found: ProbeResult) -> TransferResult:
    dest = attempt.dest
    container = "mkv" if dest.suffix.lower() == ".mkv" else "mp4"
    final = files.sibling(dest, f"{dest.stem}.{container}")
    parts = files.sibling(dest, files.hls_parts_dir(final).name)
    meter = attempt.meter()
    job = HlsJob(
        client=attempt.client,
        url=found.url,
        parts_dir=parts,
        headers=dict(attempt.candidate.headers),
        concurrency=2 * attempt.settings.download_connections,
        max_height=attempt.settings.max_resolution,
        container=container,
        ffmpeg=_ffmpeg(),
        meter=meter,
        cancel=attempt.cancel,
    )
    try:
        output = await download_hls(job)
    except BaseException as exc:
        if not _keeps_partial(exc):
            files.remove_paths(parts)
        raise
    try:
        media = await identify_media(output.path, source=found.url)
    except NotMediaError:
        files.remove_paths(parts)
        raise
    final = files.sibling(dest, f"{dest.stem}.{media.ext}")
    files.commit(output.path, final)
    _tidy_after_commit(dest)
    meter.finish()
    return TransferResult(final, output.size, attempt.candidate, "hls", output.duration_s)


async def _fetch_ytdlp(attempt: _Attempt) -> TransferResult:
    dest = attempt.dest
    work = files.sibling(dest, files.ytdlp_work_dir(dest).name)
    meter = attempt.meter()
    job = YtdlpJob(
        url=attempt.candidate.url,
        work_dir=work,
        headers=dict(attempt.candidate.headers),
        max_height=attempt.settings.max_resolution,
        connections=attempt.settings.download_connections,
        ffmpeg=find_ffmpeg().path,
        meter=meter,
        cancel=attempt.cancel,
        allowed_networks=attempt.client.allowed_networks,
    )
    try:
        output = await download_ytdlp(job)
        media = await identify_media(output.path, source=attempt.candidate.url)
        final = files.sibling(dest, f"{dest.stem}.{media.ext}")
        with files.disk_errors(final, work):
            await asyncio.to_thread(files.fsync_path, output.path)
            files.commit(output.path, final)
    finally:
        try:
            files.remove_paths(work)
        except OSError as exc:  # after the commit the download stands; before it, its error
            _log.warning("could not remove yt-dlp's work folder", path=str(work), error=str(exc))
    _tidy_after_commit(dest)
    meter.finish()
    return TransferResult(final, output.size, attempt.candidate, "ytdlp", output.duration_s)
