"""Typed events and the in-process bus.

Publishers call `bus.publish(type, **data)`; it never blocks. On PostgreSQL,
events_pg.PgEventBridge carries events between processes. Each subscriber has
a bounded buffer: when it is full the oldest progress event is dropped first, so a
slow consumer loses stale progress, never a completion, and never slows others.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal[
    "download_progress",
    "download_complete",
    "download_failed",
    "queue_status",
    "scan_progress",
    "scan_complete",
    "scan_failed",
    "series_loading_update",
    "episodes_added",
    "refresh_progress",
    "credentials_changed",
]
# Published when a credential ends (logout, revocation, key rotation); never sent to browsers:
# web/ws.py re-checks each socket's credential at once, in every process.
CREDENTIALS_CHANGED = "credentials_changed"

# The WebSocket room each event type is delivered to.
ROOMS: dict[str, str] = {
    "download_progress": "download_progress",
    "download_complete": "downloads",
    "download_failed": "downloads",
    "queue_status": "downloads",
    "scan_progress": "scan_progress",
    "scan_complete": "scan_progress",
    "scan_failed": "scan_progress",
    "series_loading_update": "series_loading",
    "episodes_added": "series_loading",
    "refresh_progress": "series_loading",
}
PROGRESS_TYPES = frozenset({"download_progress", "scan_progress", "refresh_progress"})


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: dict[str, Any]
    ts: float = field(default_factory=time.time)
    # Set on events received from another process (events_pg), which are not forwarded again.
    origin: str | None = None

    @property
    def room(self) -> str:
        return ROOMS.get(self.type, self.type)

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data, "ts": self.ts}


class Subscription:
    """A bounded buffer of events for one consumer; iterate it with `async for`."""

    def __init__(self, bus: EventBus, *, maxsize: int, types: Iterable[str] | None) -> None:
        self._bus = bus
        self._buffer: deque[Event] = deque()
        self._maxsize = maxsize
        self._wakeup = asyncio.Event()
        self.types = frozenset(types) if types is not None else None
        self.dropped = 0
        self.closed = False

    def _offer(self, event: Event) -> None:
        if self.types is not None and event.type not in self.types:
            return
        if len(self._buffer) >= self._maxsize:
            self._drop_one()
        self._buffer.append(event)
        self._wakeup.set()

    def _drop_one(self) -> None:
        for i, queued in enumerate(self._buffer):
            if queued.type in PROGRESS_TYPES:
                del self._buffer[i]
                break
        else:
            self._buffer.popleft()
        self.dropped += 1

    async def get(self) -> Event:
        while not self._buffer:
            if self.closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._buffer.popleft()

    def qsize(self) -> int:
        """Events buffered and not read yet."""
        return len(self._buffer)

    def get_nowait(self) -> Event | None:
        return self._buffer.popleft() if self._buffer else None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
        self._bus._subscribers.discard(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class EventBus:
    """In-process publish/subscribe."""

    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()

    def publish(self, type: str, /, **data: Any) -> Event:
        event = Event(type, data)
        self.dispatch(event)
        return event

    def dispatch(self, event: Event) -> None:
        for sub in list(self._subscribers):
            sub._offer(event)

    def subscribe(self, *, maxsize: int = 1000, types: Iterable[str] | None = None) -> Subscription:
        sub = Subscription(self, maxsize=maxsize, types=types)
        self._subscribers.add(sub)
        return sub

    def close(self) -> None:
        for sub in list(self._subscribers):
            sub.close()


class BusConsumer:
    """Base of a service that reads bus events in one background task.

    A subclass sets `name`, calls ``super().__init__(bus, types=..., maxsize=...)`` and
    implements ``consume(sub)``, which MUST loop until cancelled or the subscription
    closes (iteration then ends once its buffer is empty). start() subscribes before
    returning, so no event published after it is missed; stop() closes the subscription,
    lets the consumer drain it for up to drain_timeout_s, then cancels it.
    """

    name = "bus-consumer"
    drain_timeout_s = 2.0

    def __init__(
        self, bus: EventBus, *, types: Iterable[str] | None = None, maxsize: int = 1000
    ) -> None:
        self.bus = bus
        self._types = types
        self._maxsize = maxsize
        self._sub: Subscription | None = None
        self._task: asyncio.Task[None] | None = None

    async def consume(self, sub: Subscription) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._sub = self.bus.subscribe(maxsize=self._maxsize, types=self._types)
        self._task = asyncio.create_task(self.consume(self._sub), name=self.name)

    async def stop(self) -> None:
        """Let the consumer finish what is already buffered (a few seconds at most), then end."""
        if self._sub is not None:
            self._sub.close()
        if self._task is not None:
            _, pending = await asyncio.wait({self._task}, timeout=self.drain_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
