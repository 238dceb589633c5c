"""What both kinds of direct download share: the job, Content-Range parsing, errors."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from showkeeper.downloads.probe import ProbeResult
from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.transfer import TransferError, http_status_error
from showkeeper.net import HttpClient, parse_retry_after

__all__ = [
    "MAX_ATTEMPTS",
    "MULTI_THRESHOLD",
    "STATE_VERSION",
    "DirectJob",
    "RangesIgnored",
    "content_range",
    "status_error",
]

MULTI_THRESHOLD = 16 * 1024 * 1024
"""Files at least this large may be fetched over several ranged connections."""
MAX_ATTEMPTS = 6
"""Consecutive failed attempts (without new bytes) before a connection gives up."""
STATE_VERSION = 1
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DirectJob:
    """One direct download: where from, where to, and how."""

    client: HttpClient
    url: str
    """The candidate URL (redirects are followed again on every request)."""
    probe: ProbeResult
    part: Path
    state: Path
    headers: dict[str, str]
    connections: int
    meter: ProgressMeter
    cancel: asyncio.Event | None
    multi_threshold: int = MULTI_THRESHOLD
    on_received: Callable[[], None] | None = None
    """Called once every byte is in the ``.part`` (before the fsync and the checks): the
    connection is no longer needed, so the worker may start the host's next download."""

    def received(self) -> None:
        if self.on_received is not None:
            self.on_received()

    def identity(self) -> dict[str, Any]:
        return {"url": self.url, "length": self.probe.length, "validator": self.probe.validator()}

    def request_headers(self, range_header: str | None) -> dict[str, str]:
        headers = dict(self.headers)
        if range_header is not None:
            headers["Range"] = range_header
            validator = self.probe.validator()
            if validator:
                headers["If-Range"] = validator
        return headers


class RangesIgnored(Exception):
    """The server answered a ranged request with the whole body (or the wrong range)."""


def content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """Parse ``Content-Range: bytes first-last/total`` (total None for ``*``)."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def status_error(status: int, url: str, retry_after: str | None = None) -> TransferError:
    """A failed response as a TransferError (transient for 429 and 5xx), with its status and
    its ``Retry-After`` header (the raw value) parsed to seconds."""
    return http_status_error(status, url, parse_retry_after(retry_after))
