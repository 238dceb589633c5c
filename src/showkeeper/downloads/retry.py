"""Which failures are worth retrying, back-off delays, and cancellable waits."""

from __future__ import annotations

import asyncio
import contextlib

from showkeeper.downloads import files
from showkeeper.downloads.transfer import DiskFullError, TransferCancelled, TransferError
from showkeeper.net.errors import (
    HttpStatusError,
    OutboundConnectionError,
    OutboundError,
    OutboundTimeoutError,
)

__all__ = [
    "backoff_delay",
    "check_cancel",
    "first_error",
    "is_throttled",
    "is_transient",
    "sleep_or_cancel",
]


def is_transient(exc: BaseException) -> bool:
    """True when the same request may succeed later: network trouble, 429 and 5xx."""
    if isinstance(exc, TransferError):
        return exc.transient
    if isinstance(exc, HttpStatusError):
        return exc.status == 429 or exc.status >= 500
    if isinstance(exc, OutboundConnectionError | OutboundTimeoutError):
        return True
    if isinstance(exc, OutboundError):
        return False
    return isinstance(exc, ConnectionError | TimeoutError)


def is_throttled(exc: BaseException) -> bool:
    """True when the server asked to slow down (429/503): never retried within a transfer,
    the worker pauses the host and requeues the item (downloads/politeness.py)."""
    return isinstance(exc, TransferError) and exc.throttled


def backoff_delay(attempt: int, *, base: float = 0.25, cap: float = 5.0) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): 0.25, 0.5, 1, 2, 4, 5..."""
    return min(cap, base * float(1 << min(attempt, 30)))


def check_cancel(cancel: asyncio.Event | None) -> None:
    """Raise :class:`TransferCancelled` if the cancel event is set."""
    if cancel is not None and cancel.is_set():
        raise TransferCancelled("download cancelled")


async def sleep_or_cancel(delay: float, cancel: asyncio.Event | None) -> None:
    """Sleep ``delay`` seconds; raise :class:`TransferCancelled` as soon as cancel is set."""
    if cancel is None:
        await asyncio.sleep(delay)
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await cancel.wait()
    check_cancel(cancel)


def _disk_full(error: BaseException) -> bool:
    return isinstance(error, DiskFullError) or files.is_disk_full(error)


def first_error(
    group: BaseExceptionGroup[BaseException], *preferred: type[BaseException]
) -> BaseException:
    """The error that best explains a failed task group.

    Order: a cancel, then a full disk, then the ``preferred`` types, then the first error.
    """
    flat: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            flat.append(error)

    walk(group)
    tests = [
        lambda e: isinstance(e, TransferCancelled),
        _disk_full,
        *(lambda e, kind=kind: isinstance(e, kind) for kind in preferred),
    ]
    for test in tests:
        for error in flat:
            if test(error):
                return error
    return flat[0]
