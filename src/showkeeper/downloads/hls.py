"""HLS downloads: playlist -> variant -> segments fetched concurrently -> ffmpeg remux.

Segments are stored as numbered files in ``<dest>.hls-parts/`` (each written to a ``.tmp``
and renamed when complete) with ``state.json`` listing the playlist's fingerprint and the
finished indexes, so a restart resumes at segment granularity. A playlist that changed since
then means a clean restart. The joined file's duration is checked against the playlist's
total before it is handed back: never a spliced file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from showkeeper.downloads import files, m3u8, remux
from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.retry import (
    backoff_delay,
    check_cancel,
    first_error,
    is_transient,
    sleep_or_cancel,
)
from showkeeper.downloads.transfer import TransferError
from showkeeper.net import HttpClient, OutboundError

__all__ = ["DURATION_TOLERANCE_S", "HlsJob", "HlsOutput", "download_hls", "load_playlist"]

DURATION_TOLERANCE_S = 1.0
MAX_PLAYLIST_BYTES = 16 * 1024 * 1024
MAX_SEGMENT_BYTES = 512 * 1024 * 1024
SEGMENT_ATTEMPTS = 5
STATE_SAVE_INTERVAL_S = 0.5
_STATE_VERSION = 1
_STATE_NAME = "state.json"


@dataclass(frozen=True)
class HlsJob:
    """One HLS download."""

    client: HttpClient
    url: str
    parts_dir: Path
    headers: dict[str, str]
    concurrency: int
    max_height: int
    container: str
    """``"mp4"`` or ``"mkv"``."""
    ffmpeg: str
    meter: ProgressMeter
    cancel: asyncio.Event | None


@dataclass(frozen=True)
class HlsOutput:
    """The joined file (inside the parts directory, fsynced) and its checked duration."""

    path: Path
    size: int
    duration_s: float


async def _fetch_text(client: HttpClient, url: str, headers: dict[str, str]) -> tuple[str, str]:
    result = await client.fetch(url, headers=headers, max_bytes=MAX_PLAYLIST_BYTES)
    return result.url, result.body.decode("utf-8", "replace")


async def load_playlist(
    client: HttpClient, url: str, headers: dict[str, str], max_height: int
) -> m3u8.MediaPlaylist:
    """Fetch ``url``; for a master playlist, the best variant within ``max_height``.

    Raises:
        m3u8.PlaylistError: If a playlist is malformed or unsupported.
        OutboundError: If a playlist cannot be fetched.
    """
    final, text = await _fetch_text(client, url, headers)
    if m3u8.is_master(text):
        variant = m3u8.choose_variant(m3u8.parse_master(text, final), max_height)
        final, text = await _fetch_text(client, variant.uri, headers)
    return m3u8.parse_media(text, final)


def _segment_name(index: int) -> str:
    return f"{index:06d}.seg"


@dataclass
class _Run:
    """Mutable state of one download run."""

    job: HlsJob
    playlist: m3u8.MediaPlaylist
    fingerprint: str
    done: set[int] = field(default_factory=set)
    sizes: dict[int, int] = field(default_factory=dict)
    done_bytes: int = 0
    dirty: bool = False
    keys: dict[str, asyncio.Task[bytes]] = field(default_factory=dict)
    ready: list[asyncio.Event] = field(default_factory=list)
    """One event per segment, set once its file is complete (or when the fetch failed)."""
    failed: BaseException | None = None

    def mark_done(self, index: int, size: int) -> None:
        self.done.add(index)
        self.sizes[index] = size
        self.done_bytes += size
        self.dirty = True
        self.ready[index].set()

    def abort(self, error: BaseException) -> None:
        """Wake everyone waiting for a segment: the fetch has failed."""
        self.failed = error
        for event in self.ready:
            event.set()

    def save(self) -> None:
        state = {
            "version": _STATE_VERSION,
            "fingerprint": self.fingerprint,
            "done": sorted([index, self.sizes[index]] for index in self.done),
        }
        files.write_state(self.job.parts_dir / _STATE_NAME, state)
        self.dirty = False


def _prepare(job: HlsJob, playlist: m3u8.MediaPlaylist) -> _Run:
    """Reuse the parts directory if it belongs to the same playlist, else start clean."""
    fingerprint = playlist.fingerprint()
    state = files.read_state(job.parts_dir / _STATE_NAME)
    if (
        state is None
        or state.get("version") != _STATE_VERSION
        or state.get("fingerprint") != fingerprint
    ):
        files.remove_paths(job.parts_dir)
        state = {"done": []}
    job.parts_dir.mkdir(exist_ok=True)
    for leftover in job.parts_dir.iterdir():
        if leftover.name.endswith(".tmp") or leftover.name.startswith("joined."):
            leftover.unlink()
    count = len(playlist.segments)
    run = _Run(job, playlist, fingerprint, ready=[asyncio.Event() for _ in range(count)])
    for entry in state.get("done", []):
        # A segment counts only if its file still has the size recorded when it finished
        # (a power failure can leave a renamed file shorter than it was).
        if not (isinstance(entry, list) and len(entry) == 2):
            continue
        index, size = entry
        if not isinstance(index, int) or not 0 <= index < count:
            continue
        path = job.parts_dir / _segment_name(index)
        if path.exists() and path.stat().st_size == size:
            run.mark_done(index, size)
    run.save()
    return run


async def _key(run: _Run, uri: str) -> bytes:
    """The AES key at ``uri``, fetched once per download."""
    task = run.keys.get(uri)
    if task is None:

        async def fetch() -> bytes:
            result = await run.job.client.fetch(uri, headers=run.job.headers, max_bytes=1024)
            if len(result.body) != 16:
                raise TransferError(f"AES-128 key {uri} is {len(result.body)} bytes, not 16")
            return result.body

        task = asyncio.ensure_future(fetch())
        run.keys[uri] = task
    try:
        return await asyncio.shield(task)
    except BaseException:
        if task.done():
            run.keys.pop(uri, None)  # a failed key fetch is retried with the segment
        raise


def _decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    # imported here: most playlists are not encrypted, and `showkeeper fetch` starts faster
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if len(data) % 16:
        raise TransferError("an encrypted segment is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise TransferError("a segment did not decrypt (wrong AES-128 key or IV)") from None


async def _get(run: _Run, uri: str, byterange: tuple[int, int] | None) -> bytes:
    headers = dict(run.job.headers)
    if byterange is not None:
        length, offset = byterange
        headers["Range"] = f"bytes={offset}-{offset + length - 1}"
    result = await run.job.client.fetch(
        uri, headers=headers, max_bytes=MAX_SEGMENT_BYTES, retries=1
    )
    body = result.body
    if byterange is not None and result.status != 206:
        body = body[byterange[1] : byterange[1] + byterange[0]]  # the server sent it all
    if byterange is not None and len(body) != byterange[0]:
        raise TransferError(f"{uri}: got {len(body)} bytes of a {byterange[0]}-byte range")
    return body


async def _segment_bytes(run: _Run, segment: m3u8.Segment) -> bytes:
    data = await _get(run, segment.uri, segment.byterange)
    if segment.key is not None:
        key = await _key(run, segment.key.uri)
        data = _decrypt(data, key, segment.key.iv_for(segment.sequence))
    return data


async def _fetch_segment(run: _Run, segment: m3u8.Segment) -> None:
    attempts = 0
    path = run.job.parts_dir / _segment_name(segment.index)
    while True:
        check_cancel(run.job.cancel)
        try:
            data = await _segment_bytes(run, segment)
            break
        except (TransferError, OutboundError) as exc:
            attempts += 1
            if not is_transient(exc) or attempts >= SEGMENT_ATTEMPTS:
                raise TransferError(
                    f"segment {segment.index} of {run.job.url} failed: {exc}",
                    transient=is_transient(exc),
                ) from exc
            await sleep_or_cancel(backoff_delay(attempts - 1), run.job.cancel)
    tmp = path.with_name(path.name + ".tmp")
    with files.disk_errors(path, run.job.parts_dir):
        tmp.write_bytes(data)
        os.replace(tmp, path)
    run.mark_done(segment.index, len(data))
    count = len(run.playlist.segments)
    run.job.meter.set_total(run.done_bytes * count // max(1, len(run.done)))
    run.job.meter.add(len(data))


async def _fetch_init(run: _Run) -> Path | None:
    init = run.playlist.init
    if init is None:
        return None
    path = run.job.parts_dir / "init.seg"
    if not path.exists():
        data = await _get(run, init.uri, init.byterange)
        tmp = path.with_name(path.name + ".tmp")
        with files.disk_errors(path, run.job.parts_dir):
            tmp.write_bytes(data)
            os.replace(tmp, path)  # complete or absent, like the segments
    return path


async def _fetch_all(run: _Run) -> None:
    pending: Iterator[m3u8.Segment] = iter(
        [s for s in run.playlist.segments if s.index not in run.done]
    )

    async def worker() -> None:
        for segment in pending:
            await _fetch_segment(run, segment)

    async def saver() -> None:
        while True:
            await asyncio.sleep(STATE_SAVE_INTERVAL_S)
            if run.dirty:
                run.save()

    saving = asyncio.create_task(saver())
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, run.job.concurrency)):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        error = first_error(group_error)
        run.abort(error)
        raise error from None
    except BaseException as error:
        run.abort(error)
        raise
    finally:
        saving.cancel()
        # Save before awaiting: a second cancellation arriving during the await would skip
        # it, and the finished segments would be fetched again on resume.
        if run.dirty and run.job.parts_dir.exists():
            run.save()
        await asyncio.gather(saving, return_exceptions=True)


async def _in_order(run: _Run, init: Path | None) -> AsyncIterator[Path]:
    """The files to join, in playlist order, each as soon as it is on disk."""
    if init is not None:
        yield init
    for segment in run.playlist.segments:
        await run.ready[segment.index].wait()
        if run.failed is not None and segment.index not in run.done:
            raise TransferError("the segment download failed")
        yield run.job.parts_dir / _segment_name(segment.index)


async def download_hls(job: HlsJob) -> HlsOutput:
    """Download an HLS stream into one file inside ``job.parts_dir``.

    Returns:
        The joined, duration-checked and fsynced file; the caller renames it into place.

    Raises:
        TransferError: If the playlist is live, malformed or unsupported, a segment keeps
            failing, ffmpeg fails or the result's duration does not match the playlist.
        DiskFullError: When the disk is full (the parts directory is removed).
        TransferCancelled: When ``job.cancel`` is set (finished segments are kept).
    """
    try:
        playlist = await load_playlist(job.client, job.url, job.headers, job.max_height)
    except m3u8.PlaylistError as exc:
        raise TransferError(f"{job.url}: {exc}") from exc
    if not playlist.endlist:
        raise TransferError(f"{job.url} is a live playlist (no #EXT-X-ENDLIST); not a VOD")
    run = _prepare(job, playlist)
    job.meter.start_at(run.done_bytes)
    init = await _fetch_init(run)
    joined = job.parts_dir / f"joined.{job.container}"
    with files.disk_errors(joined, job.parts_dir):
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_fetch_all(run))
                joining = remux.remux(
                    job.ffmpeg,
                    _in_order(run, init),
                    joined,
                    container=job.container,
                    cancel=job.cancel,
                )
                group.create_task(joining)
        except BaseExceptionGroup as group_error:
            if run.failed is not None and not isinstance(run.failed, asyncio.CancelledError):
                raise run.failed from None  # the cause, not ffmpeg's view of it
            raise first_error(group_error) from None
    duration = await remux.media_duration(job.ffmpeg, joined)
    expected = playlist.total_duration
    if duration is None or abs(duration - expected) > DURATION_TOLERANCE_S:
        files.remove_paths(joined)
        raise TransferError(
            f"{job.url}: the joined file lasts {duration} s but the playlist {expected:.2f} s; "
            "refusing a spliced or truncated file"
        )
    await asyncio.to_thread(files.fsync_path, joined)
    job.meter.set_total(job.meter.downloaded)
    return HlsOutput(joined, joined.stat().st_size, duration)
