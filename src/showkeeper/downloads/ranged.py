"""Ranged direct downloads: one connection first, more when one is too slow, each
writing its part with ``os.pwrite`` into the ``.part`` (preallocated once it is split); a
sidecar state lists the ranges written so far, so a restart resumes every part."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any

from showkeeper.downloads import files
from showkeeper.downloads.direct_job import (
    MAX_ATTEMPTS,
    STATE_VERSION,
    DirectJob,
    RangesIgnored,
    content_range,
    status_error,
)
from showkeeper.downloads.first_get import FirstGet, stream_or_take
from showkeeper.downloads.retry import (
    backoff_delay,
    check_cancel,
    first_error,
    is_throttled,
    is_transient,
    sleep_or_cancel,
)
from showkeeper.downloads.transfer import TransferCancelled, TransferError
from showkeeper.net.errors import OutboundError

__all__ = ["download_ranged"]

STEAL_MIN = 4 * 1024 * 1024
"""A running range is split for a new connection only if this much of it is left."""
STATE_SAVE_INTERVAL_S = 1.0
SYNC_INTERVAL_S = 20.0
"""How often the state's claims are made durable with an fdatasync."""
RAMP_CHECK_S = 0.1
"""How long one connection runs before the others are considered."""
RAMP_WORTH_S = 1.0
"""More connections are opened when one would need longer than this for the rest..."""
FAST_CONNECTION = 64 * 1024 * 1024
"""...and moves fewer bytes per second than this (faster ones are not capped per
connection; more connections would only add overhead)."""


@dataclass
class _Piece:
    start: int
    pos: int
    end: int


class _Plan:
    """Which byte ranges are on disk, which are being fetched, and who fetches what next.

    It starts with the missing ranges as they are; a connection that joins later takes an
    unstarted range or the second half of the largest range still running (work stealing),
    so N connections end up with about equal shares whatever their speeds.
    """

    def __init__(self, done: list[tuple[int, int]], total: int) -> None:
        self.total = total
        self._base = files.merge_ranges(done)
        self._base_bytes = sum(b - a for a, b in self._base)
        self._queue = [_Piece(a, a, b) for a, b in files.missing_ranges(self._base, total)]
        self._all: list[_Piece] = []
        self.exhausted = asyncio.Event()
        """Set when a connection found no work left."""

    def next_piece(self) -> _Piece | None:
        """An unstarted piece, else the second half of the largest piece still running."""
        if self._queue:
            piece = self._queue.pop(0)
            self._all.append(piece)
            return piece
        running = [p for p in self._all if p.end - p.pos >= STEAL_MIN]
        if not running:
            self.exhausted.set()
            return None
        victim = max(running, key=lambda p: p.end - p.pos)
        middle = victim.pos + (victim.end - victim.pos) // 2
        piece = _Piece(middle, middle, victim.end)
        victim.end = middle
        self._all.append(piece)
        return piece

    def received(self) -> int:
        """Bytes on disk (or written to the page cache) so far."""
        return self._base_bytes + sum(p.pos - p.start for p in self._all)

    def done(self) -> list[tuple[int, int]]:
        return files.merge_ranges([*self._base, *((p.start, p.pos) for p in self._all)])


async def download_ranged(
    job: DirectJob, total: int, saved: dict[str, Any] | None, *, first: FirstGet | None = None
) -> int:
    """Download ``job.url`` (``total`` bytes) into ``job.part`` over ranged connections.

    Args:
        job: The download.
        total: The full size.
        saved: The state of an earlier run for the same resource, or None.
        first: A GET already answered for the resource (whole body from byte 0): the
            connection fetching from byte 0 reads it instead of asking again.

    Returns:
        ``total``, once every byte is written and the file fsynced (the state is removed).

    Raises:
        RangesIgnored: If the server answers a ranged request with the whole body.
        TransferError, TransferCancelled, OSError: As :func:`download_direct`.
    """
    done: list[tuple[int, int]] = []
    size = job.part.stat().st_size if job.part.exists() else 0
    if saved is not None and size <= total:
        done = [(a, min(b, size)) for a, b in _trusted_ranges(saved) if a < size]
    else:
        files.remove_paths(job.part)
    allocated = job.part.stat().st_blocks * 512 if job.part.exists() else 0
    files.ensure_free_space(job.part, total - allocated, job.part, job.state)
    tracker = _StateTracker(job)
    if not done:
        tracker.save([])  # the state exists before the .part does
    plan = _Plan(done, total)
    job.meter.set_total(total)
    job.meter.start_at(plan.received())
    fd = os.open(job.part, os.O_RDWR | os.O_CREAT, 0o644)
    writeback = files.Writeback(fd)
    try:
        if done:
            # What the last run left in the page cache becomes durable before it is claimed so.
            await asyncio.to_thread(os.fdatasync, fd)
            tracker.synced = done
            tracker.save(done)

        async def saver() -> None:
            while True:
                await asyncio.sleep(STATE_SAVE_INTERVAL_S)
                await tracker.checkpoint(fd, plan.done())

        saving = asyncio.create_task(saver())
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(_connection(job, fd, writeback, plan, first))
                if job.connections > 1:
                    group.create_task(_ramp_up(job, fd, writeback, plan, group))
        except BaseExceptionGroup as group_error:
            raise first_error(group_error, RangesIgnored) from None
        finally:
            saving.cancel()
            await asyncio.gather(saving, return_exceptions=True)
            if files.missing_ranges(plan.done(), total):
                with contextlib.suppress(OSError):  # the error in flight says more
                    await asyncio.shield(tracker.checkpoint(fd, plan.done()))
        job.received()
        await asyncio.to_thread(os.fsync, fd)
    finally:
        os.close(fd)
    files.remove_paths(job.state)
    return total


def _trusted_ranges(saved: dict[str, Any]) -> list[tuple[int, int]]:
    """Ranges a saved state may be trusted for: the synced ones, plus the ones only written
    to the page cache if the machine has not rebooted since (a killed process loses
    nothing that reached the page cache; a power failure may)."""
    ranges = [(int(a), int(b)) for a, b in saved.get("done", [])]
    boot = files.boot_id()
    if boot is not None and saved.get("boot") == boot:
        ranges += [(int(a), int(b)) for a, b in saved.get("written", [])]
    return files.merge_ranges(ranges)


class _StateTracker:
    """Saves the ranged state: cheaply every second, with an fdatasync now and then.

    ``done`` lists ranges known to be on disk (fdatasynced); ``written`` those in the page
    cache, valid only within the same boot. Syncing rarely keeps the disk from stalling
    the writes of a fast download.
    """

    def __init__(self, job: DirectJob) -> None:
        self._job = job
        self._boot = files.boot_id()
        self.synced: list[tuple[int, int]] = []
        """Ranges known to be on disk."""
        self._last_sync = asyncio.get_running_loop().time()

    def save(self, written: list[tuple[int, int]]) -> None:
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "identity": self._job.identity(),
            "mode": "ranges",
            "done": [list(r) for r in self.synced],
        }
        if self._boot is not None:
            state["boot"] = self._boot
            state["written"] = [list(r) for r in written]
        files.write_state(self._job.state, state)

    async def checkpoint(self, fd: int, snapshot: list[tuple[int, int]]) -> None:
        """Record ``snapshot`` (ranges written so far); sync first when it is time."""
        now = asyncio.get_running_loop().time()
        if self._boot is None or now - self._last_sync >= SYNC_INTERVAL_S:
            await asyncio.to_thread(os.fdatasync, fd)
            self.synced, self._last_sync = snapshot, now
        self.save(snapshot)


async def _ramp_up(
    job: DirectJob,
    fd: int,
    writeback: files.Writeback,
    plan: _Plan,
    group: asyncio.TaskGroup,
) -> None:
    """Open the other connections once one connection is measured too slow for the file.

    A fast link (a LAN, loopback) finishes on one connection with the least overhead; a
    link capped per connection gets all ``job.connections`` after ``RAMP_CHECK_S``, or
    later if it slows down.
    """
    loop = asyncio.get_running_loop()
    started, first = loop.time(), plan.received()
    while True:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RAMP_CHECK_S):
                await plan.exhausted.wait()
        if plan.exhausted.is_set():
            return
        speed = (plan.received() - first) / max(loop.time() - started, 1e-6)
        remaining = plan.total - plan.received()
        if speed < FAST_CONNECTION and remaining / max(speed, 1.0) > RAMP_WORTH_S:
            files.preallocate(fd, plan.total)  # parts land all over the file: reserve it
            for _ in range(job.connections - 1):
                group.create_task(_connection(job, fd, writeback, plan, None))
            return


async def _connection(
    job: DirectJob, fd: int, writeback: files.Writeback, plan: _Plan, first: FirstGet | None
) -> None:
    while (piece := plan.next_piece()) is not None:
        await _fetch_piece(job, fd, piece, writeback, first)


async def _fetch_piece(
    job: DirectJob, fd: int, piece: _Piece, writeback: files.Writeback, first: FirstGet | None
) -> None:
    attempts = 0
    while piece.pos < piece.end:
        check_cancel(job.cancel)
        before = piece.pos
        try:
            await _piece_once(job, fd, piece, writeback, first if piece.pos == 0 else None)
        except (TransferError, OutboundError) as exc:
            if not is_transient(exc) or is_throttled(exc):
                raise
            attempts = 0 if piece.pos > before else attempts + 1
            if attempts >= MAX_ATTEMPTS:
                raise TransferError(str(exc), transient=True) from exc
            await sleep_or_cancel(backoff_delay(attempts), job.cancel)


async def _piece_once(
    job: DirectJob,
    fd: int,
    piece: _Piece,
    writeback: files.Writeback,
    first: FirstGet | None,
) -> None:
    """One request for the rest of ``piece`` (``first``'s answer when there is one to take:
    a whole body from byte 0 serves a piece from 0 just as well as a range would)."""
    headers = job.request_headers(f"bytes={piece.pos}-{piece.end - 1}")
    whole = first is not None and first.response is not None
    async with stream_or_take(first, job.client, job.url, headers) as (resp, head):
        if not whole:
            if resp.status == 200:
                raise RangesIgnored()
            if resp.status != 206:
                raise status_error(resp.status, str(resp.url), resp.headers.get("Retry-After"))
            parsed = content_range(resp.headers.get("Content-Range"))
            if parsed is None or parsed[0] != piece.pos:
                raise RangesIgnored()
        if head and _write_piece(job, fd, piece, writeback, head):
            return
        async for chunk in resp.content.iter_any():
            if _write_piece(job, fd, piece, writeback, chunk):
                return
    if piece.pos < piece.end:
        raise TransferError(f"{job.url}: a ranged body ended early", transient=True)


def _write_piece(
    job: DirectJob, fd: int, piece: _Piece, writeback: files.Writeback, chunk: bytes
) -> bool:
    """Write what of ``chunk`` belongs to ``piece``; True once the piece is complete."""
    room = piece.end - piece.pos
    data = chunk if len(chunk) <= room else memoryview(chunk)[:room]
    os.pwrite(fd, data, piece.pos)
    piece.pos += len(data)
    job.meter.add(len(data))
    writeback.wrote(len(data))
    if job.cancel is not None and job.cancel.is_set():
        raise TransferCancelled("download cancelled")
    return piece.pos >= piece.end
