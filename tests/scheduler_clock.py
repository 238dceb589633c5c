"""The scheduler's injected clock for tests (shared by tests/unit and tests/integration)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class FakeClock:
    """now() is set by the test; sleep() waits until the test advances time past it."""

    def __init__(self, now: datetime) -> None:
        self.t = now
        self.changed = asyncio.Event()

    def now(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)
        self.changed.set()

    async def sleep(self, seconds: float) -> None:
        until = self.t + timedelta(seconds=seconds)
        while self.t < until:
            self.changed.clear()
            await self.changed.wait()
