"""Progress metering: byte counts in, rate-limited :class:`TransferProgress` reports out."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from showkeeper.downloads.transfer import TransferProgress

__all__ = ["DEFAULT_INTERVAL_S", "ProgressMeter"]

DEFAULT_INTERVAL_S = 0.25
"""Smallest gap between two reports (at most four per second)."""
_WINDOW_S = 3.0


class ProgressMeter:
    """Counts bytes and calls ``callback`` at most once per ``interval`` seconds.

    Speed is measured over a sliding window of about three seconds, so resumed bytes and
    old bursts do not distort it. The hot path (:meth:`add`) is one addition and one clock
    read.

    Args:
        callback: Receives each report; None makes the meter a plain counter.
        total: Expected total in bytes, when known.
        interval: Minimum seconds between two reports.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        callback: Callable[[TransferProgress], None] | None,
        *,
        total: int | None = None,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._clock = clock
        self._interval = interval
        self.total = total
        self.downloaded = 0
        now = clock()
        self._last_emit = now - interval  # the first change may be reported at once
        self._samples: deque[tuple[float, int]] = deque([(now, 0)])

    def set_total(self, total: int | None) -> None:
        """Set (or correct) the expected total."""
        self.total = total

    def start_at(self, downloaded: int) -> None:
        """Count ``downloaded`` bytes as already there (a resume) without affecting speed."""
        self.downloaded = downloaded
        self._samples = deque([(self._clock(), downloaded)])

    def add(self, count: int) -> None:
        """Count ``count`` more bytes; report if the interval has passed."""
        self.downloaded += count
        now = self._clock()
        if now - self._last_emit >= self._interval:
            self._emit(now)

    def update(self, downloaded: int, total: int | None = None) -> None:
        """Set absolute values (for sources that report totals, such as yt-dlp)."""
        if total is not None:
            self.total = total
        self.add(downloaded - self.downloaded)

    def finish(self) -> None:
        """Send one last report with the final numbers."""
        self._emit(self._clock())

    def speed(self, now: float | None = None) -> float:
        """Bytes per second over the recent window."""
        now = self._clock() if now is None else now
        first_time, first_bytes = self._samples[0]
        elapsed = now - first_time
        return (self.downloaded - first_bytes) / elapsed if elapsed > 0 else 0.0

    def snapshot(self, now: float | None = None) -> TransferProgress:
        """The current numbers as a :class:`TransferProgress`."""
        speed = self.speed(now)
        eta: float | None = None
        if self.total is not None and speed > 0:
            eta = max(0.0, (self.total - self.downloaded) / speed)
        return TransferProgress(self.downloaded, self.total, speed, eta)

    def _emit(self, now: float) -> None:
        self._samples.append((now, self.downloaded))
        while len(self._samples) > 2 and now - self._samples[1][0] >= _WINDOW_S:
            self._samples.popleft()
        self._last_emit = now
        if self._callback is not None:
            self._callback(self.snapshot(now))
