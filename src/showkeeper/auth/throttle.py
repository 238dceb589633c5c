"""Login throttling per client address and per account (sliding window, in memory)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from showkeeper.auth.errors import TooManyAttemptsError

_MAX_KEYS = 50_000


class LoginThrottle:
    """Counts failed logins per key within `window_s`; a key at its limit must wait.

    Both the client address and the account are checked, so neither one address
    trying many accounts nor many addresses trying one account get far.
    """

    def __init__(
        self,
        *,
        max_per_client: int,
        max_per_account: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_client = max_per_client
        self.max_per_account = max_per_account
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, key: str, limit: int, now: float) -> float:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0.0
        return times[-limit] + self.window_s - now

    def check(self, client: str, account: str) -> None:
        """Raise TooManyAttemptsError (with seconds to wait) when either limit is reached."""
        now = self._clock()
        wait = max(
            self._wait(f"c:{client}", self.max_per_client, now),
            self._wait(f"a:{account}", self.max_per_account, now),
        )
        if wait > 0:
            raise TooManyAttemptsError(max(1, math.ceil(wait)))

    def failure(self, client: str, account: str) -> None:
        now = self._clock()
        if len(self._failures) > _MAX_KEYS:
            for key in list(self._failures):
                self._recent(key, now)
        for key in (f"c:{client}", f"a:{account}"):
            self._failures.setdefault(key, deque()).append(now)

    def success(self, client: str, account: str) -> None:
        self._failures.pop(f"c:{client}", None)
        self._failures.pop(f"a:{account}", None)
