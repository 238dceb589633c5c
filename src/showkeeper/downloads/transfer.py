"""What one transfer reports and how it fails: progress, result and the error types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from showkeeper.domain.candidates import Candidate
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
    5xx); the partial data is then kept so the next attempt resumes.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class AllCandidatesFailed(TransferError):
    """Every candidate failed. ``tried`` holds (url, reason) pairs; ``line`` the log line."""

    def __init__(self, line: str, tried: list[tuple[str, str]]) -> None:
        super().__init__(line)
        self.line = line
        self.tried = tried


class TransferCancelled(Exception):
    """The caller's cancel event was set; partial data is kept for a later resume."""


class DiskFullError(TransferError):
    """No space left (ENOSPC/EDQUOT, or the file size limit); the partial file was removed."""
