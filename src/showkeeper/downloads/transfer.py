"""What one transfer reports and how it fails: progress, result and the error types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from showkeeper.domain.candidates import Candidate
from showkeeper.domain.queue_rules import THROTTLE_STATUSES
from showkeeper.errors import ShowkeeperError

__all__ = [
    "AllCandidatesFailed",
    "DiskFullError",
    "Method",
    "TransferCancelled",
    "TransferError",
    "TransferProgress",
    "TransferResult",
]

Method = Literal["direct", "hls", "ytdlp"]


@dataclass(frozen=True)
class TransferProgress:
    """A progress report: bytes so far, the total when known, current speed and ETA."""

    downloaded_bytes: int
    total_bytes: int | None
    speed_bps: float
    eta_s: float | None


@dataclass(frozen=True)
class TransferResult:
    """A completed, verified download.

    Attributes:
        path: The final file (its extension may differ from the requested ``dest``).
        size: Its size in bytes.
        candidate: The candidate that worked.
        method: How it was fetched.
        duration_s: Media duration when known (HLS: checked against the playlist).
        tried: URLs of the candidates tried, in order; the last one is ``candidate.url``.
    """

    path: Path
    size: int
    candidate: Candidate
    method: Method
    duration_s: float | None
    tried: list[str] = field(default_factory=list)


class TransferError(ShowkeeperError):
    """One candidate (or the whole transfer) failed; the message says why.

    ``transient`` is True when trying the same thing again later may work (network errors,
    5xx); the partial data is then kept so the next attempt resumes. ``status`` is the HTTP
    status of a failed response and ``retry_after_s`` its parsed ``Retry-After``; a
    :attr:`throttled` error (429/503) must not be retried within the transfer: the worker
    pauses the host (downloads/politeness.py).
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool = False,
        status: int | None = None,
        retry_after_s: float | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.retry_after_s = retry_after_s
        self.url = url

    @property
    def throttled(self) -> bool:
        """The server asked to slow down (429 Too Many Requests, 503 Service Unavailable)."""
        return self.status in THROTTLE_STATUSES


class AllCandidatesFailed(TransferError):
    """Every candidate failed. ``tried`` holds (url, reason) pairs; ``line`` the log line;
    ``causes`` the error of each tried candidate, in the same order (when the engine gave
    them), so the worker can tell which hosts asked to slow down."""

    def __init__(
        self,
        line: str,
        tried: list[tuple[str, str]],
        causes: Sequence[BaseException] = (),
    ) -> None:
        super().__init__(line)
        self.line = line
        self.tried = tried
        self.causes = list(causes)


class TransferCancelled(Exception):
    """The caller's cancel event was set; partial data is kept for a later resume."""


class DiskFullError(TransferError):
    """No space left (ENOSPC/EDQUOT, or the file size limit); the partial file was removed."""


def http_status_error(status: int, url: str, retry_after_s: float | None = None) -> TransferError:
    """A failed response as a TransferError: transient for 429 and 5xx, with its status and
    parsed ``Retry-After`` (named in the message when the server gave one)."""
    from showkeeper.net.errors import HttpStatusError  # on use: showkeeper.net loads aiohttp

    message = str(HttpStatusError(status, url))
    if retry_after_s is not None and status in THROTTLE_STATUSES:
        message += f" (Retry-After: {retry_after_s:g} s)"
    return TransferError(
        message,
        transient=status == 429 or status >= 500,
        status=status,
        retry_after_s=retry_after_s,
        url=url,
    )
