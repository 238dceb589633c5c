"""Direct HTTP downloads into ``<final>.part``: one resumable stream, or ranged
connections (:mod:`showkeeper.downloads.ranged`) for a large file on a server that
accepts ranges.

A JSON sidecar ``<final>.part.state`` is written before the ``.part`` exists. It names the
resource (URL, size, validator), so a ``.part`` is only ever resumed against the same
resource; a ``.part`` without a matching state is discarded, never spliced onto. A single
stream resumes from the ``.part``'s size with ``Range: bytes=<size>-`` (and ``If-Range``),
and starts over when the server ignores it.
"""

from __future__ import annotations

import asyncio
import os
import re

from showkeeper.downloads import files
from showkeeper.downloads.direct_job import (
    MAX_ATTEMPTS,
    MULTI_THRESHOLD,
    STATE_VERSION,
    DirectJob,
    RangesIgnored,
    content_range,
    status_error,
)
from showkeeper.downloads.first_get import FirstGet, stream_or_take
from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.ranged import download_ranged
from showkeeper.downloads.retry import (
    backoff_delay,
    check_cancel,
    is_throttled,
    is_transient,
    sleep_or_cancel,
)
from showkeeper.downloads.transfer import DiskFullError, TransferCancelled, TransferError
from showkeeper.net.errors import OutboundError

__all__ = ["MULTI_THRESHOLD", "DirectJob", "download_direct"]

_UNSATISFIED_RANGE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


async def download_direct(job: DirectJob, *, first: FirstGet | None = None) -> int:
    """Download ``job.url`` into ``job.part``, resuming what a previous run left.

    ``first``, a GET already answered for this resource (its headers made ``job.probe``),
    is read by the stream that starts at byte 0 instead of a new request; the caller
    releases it if nobody did.

    On return the ``.part`` is complete, length-checked and fsynced, and the state file is
    gone; the caller renames it into place.

    Returns:
        The size in bytes.

    Raises:
        TransferError: On a failure (``transient`` when a later attempt may resume).
        DiskFullError: When the disk is full; the ``.part`` and state are removed.
        TransferCancelled: When ``job.cancel`` is set; partial data is kept.
    """
    with files.disk_errors(job.part, job.part, job.state):
        saved = files.read_state(job.state)
        resume = (
            saved is not None
            and saved.get("version") == STATE_VERSION
            and saved.get("identity") == job.identity()
            and job.part.exists()
        )
        if not resume:
            files.remove_paths(job.part, job.state)
            saved = None
        length = job.probe.length
        use_ranges = (
            length is not None
            and length >= job.multi_threshold
            and job.probe.accepts_ranges
            and job.connections > 1
        )
        if saved is not None:
            use_ranges = saved.get("mode") == "ranges"
        if use_ranges and length is not None:
            try:
                return await download_ranged(job, length, saved, first=first)
            except RangesIgnored:
                files.remove_paths(job.part, job.state)
        resume = saved is not None and saved.get("mode") == "single"
        return await _single(job, resume=resume, first=first)


async def _single(job: DirectJob, *, resume: bool, first: FirstGet | None) -> int:
    if not resume:
        files.remove_paths(job.part)
        files.write_state(
            job.state, {"version": STATE_VERSION, "identity": job.identity(), "mode": "single"}
        )
    fd = os.open(job.part, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        attempts = 0
        while True:
            check_cancel(job.cancel)
            offset = os.fstat(fd).st_size
            try:
                size = await _stream_once(job, fd, offset, first if offset == 0 else None)
            except (TransferError, OutboundError) as exc:
                if not is_transient(exc) or isinstance(exc, DiskFullError) or is_throttled(exc):
                    raise
                attempts = 0 if os.fstat(fd).st_size > offset else attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    raise TransferError(str(exc), transient=True) from exc
                await sleep_or_cancel(backoff_delay(attempts), job.cancel)
                continue
            job.received()
            await asyncio.to_thread(os.fsync, fd)
            files.remove_paths(job.state)
            return size
    finally:
        os.close(fd)


async def _stream_once(job: DirectJob, fd: int, offset: int, first: FirstGet | None) -> int:
    """One GET from ``offset`` (``first``'s, when there is one); returns the final size when
    the body is complete."""
    meter = job.meter
    range_header = f"bytes={offset}-" if offset > 0 else None
    headers = job.request_headers(range_header)
    async with stream_or_take(first, job.client, job.url, headers) as (resp, head):
        expected: int | None
        if offset > 0 and resp.status == 416:
            total = _UNSATISFIED_RANGE.match(resp.headers.get("Content-Range", ""))
            if total is not None and int(total.group(1)) == offset:
                return offset  # the previous run had already received everything
            raise _restart(fd, meter, "the server refused the resume range")
        if resp.status == 206 and offset > 0:
            parsed = content_range(resp.headers.get("Content-Range"))
            if parsed is None or parsed[0] != offset:
                raise _restart(fd, meter, "the server sent a different range than asked")
            expected = parsed[2]
        elif resp.status == 200 or (resp.status == 206 and offset == 0):
            if offset > 0:
                # The server ignored Range (or the resource changed): start over.
                os.ftruncate(fd, 0)
                offset = 0
            expected = resp.content_length
            if resp.status == 206:
                parsed = content_range(resp.headers.get("Content-Range"))
                expected = parsed[2] if parsed else None
            if expected is None:
                # A body delimited by the connection closing: the probe's length is the
                # only way to tell a complete one from one cut short.
                expected = job.probe.length
        else:
            raise status_error(resp.status, str(resp.url), resp.headers.get("Retry-After"))
        meter.set_total(expected)
        meter.start_at(offset)
        if expected is not None:
            files.ensure_free_space(job.part, expected - offset, job.part, job.state)
        os.lseek(fd, offset, os.SEEK_SET)
        size = offset
        cancel = job.cancel
        writeback = files.Writeback(fd)
        if head:
            os.write(fd, head)
            size += len(head)
            meter.add(len(head))
            writeback.wrote(len(head))
        async for chunk in resp.content.iter_any():
            os.write(fd, chunk)
            size += len(chunk)
            meter.add(len(chunk))
            writeback.wrote(len(chunk))
            if cancel is not None and cancel.is_set():
                raise TransferCancelled("download cancelled")
    if expected is not None and size != expected:
        raise TransferError(
            f"{job.url}: the body ended early ({size} of {expected} bytes)", transient=True
        )
    return size


def _restart(fd: int, meter: ProgressMeter, why: str) -> TransferError:
    os.ftruncate(fd, 0)
    meter.start_at(0)
    return TransferError(f"{why}; starting over", transient=True)
