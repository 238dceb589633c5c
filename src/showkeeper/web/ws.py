"""WebSocket /ws/connect: rooms of live events.

Protocol (JSON text frames):
  client -> {"action": "join" | "leave", "room": "downloads"}   (and {"action": "ping"})
  server -> {"type": "welcome", "rooms": [...]}, {"type": "joined" | "left", "room": ...},
            {"type": "error", "detail": ...}, {"type": "pong"}
            and events: {"type": <event type>, "data": {...}, "ts": <publish time, epoch s>}

The hub reads the app's bus once, throttles progress per item (the newest update of an
item is held and sent when its interval ends) and fans out to one bounded buffer per
connection; a slow client loses stale progress and never slows the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from showkeeper.auth.principal import authenticate
from showkeeper.context import AppContext
from showkeeper.events import (
    CREDENTIALS_CHANGED,
    PROGRESS_TYPES,
    ROOMS,
    BusConsumer,
    Event,
    EventBus,
    Subscription,
)
from showkeeper.logging import get_logger
from showkeeper.web.auth import credentials

log = get_logger(__name__)
router = APIRouter()
ROOM_NAMES = frozenset(ROOMS.values())
# events that end an item: its held progress is stale once they arrive
_ENDS = {
    "download_complete": "download_progress",
    "download_failed": "download_progress",
    "scan_complete": "scan_progress",
    "scan_failed": "scan_progress",
}
RECHECK_S = 2.0
REVOKED = "credentials revoked or expired; log in again"
_ITEM_KEYS = ("queue_id", "item_id", "scan_id", "episode_id", "id", "series_key", "key")


def item_key(data: dict[str, Any]) -> Any:
    for name in _ITEM_KEYS:
        if data.get(name) is not None:
            return data[name]
    return None


class WsHub(BusConsumer):
    """Service: bus -> per-item progress throttle -> per-connection subscriptions."""

    name = "ws-hub"

    def __init__(self, bus: EventBus, *, interval_s: float = 0.5) -> None:
        super().__init__(bus, maxsize=10_000)
        self.out = EventBus()
        self.interval_s = interval_s
        self._last: dict[tuple[str, Any], float] = {}
        self._pending: dict[tuple[str, Any], Event] = {}
        # each event is encoded once for all connections (kept with the event: no id reuse)
        self._encoded: dict[int, tuple[Event, str]] = {}

    def encode(self, event: Event) -> str:
        hit = self._encoded.get(id(event))
        if hit is not None and hit[0] is event:
            return hit[1]
        text = json.dumps(event.as_message(), default=str, separators=(",", ":"))
        self._encoded[id(event)] = (event, text)
        if len(self._encoded) > 4096:
            del self._encoded[next(iter(self._encoded))]
        return text

    async def stop(self) -> None:
        await super().stop()
        self.out.close()

    def subscribe(self, maxsize: int = 256) -> Subscription:
        return self.out.subscribe(maxsize=maxsize, types=())

    async def consume(self, sub: Subscription) -> None:
        while True:
            event = await self._next(sub)
            now = time.monotonic()
            if event is not None:
                self._handle(event, now)
            self._flush(now)

    async def _next(self, sub: Subscription) -> Event | None:
        ready = sub.get_nowait()
        if ready is not None:
            return ready
        if not self._pending:
            return await sub.get()
        due = min(self._last[k] for k in self._pending) + self.interval_s - time.monotonic()
        try:
            return await asyncio.wait_for(sub.get(), timeout=max(0.0, due))
        except TimeoutError:
            return None

    def _handle(self, event: Event, now: float) -> None:
        if event.type in PROGRESS_TYPES:
            key = (event.type, item_key(event.data))
            last = self._last.get(key)
            if last is None or now - last >= self.interval_s:
                self._last[key] = now
                self._pending.pop(key, None)
                self.out.dispatch(event)
            else:
                self._pending[key] = event
            return
        progress = _ENDS.get(event.type)
        if progress is not None:
            key = (progress, item_key(event.data))
            self._pending.pop(key, None)
            self._last.pop(key, None)
        self.out.dispatch(event)

    def _flush(self, now: float) -> None:
        for key, event in list(self._pending.items()):
            if now - self._last[key] >= self.interval_s:
                del self._pending[key]
                self._last[key] = now
                self.out.dispatch(event)
        if len(self._last) > 10_000:  # items that never ended: forget the old ones
            for key, when in list(self._last.items()):
                if now - when > 60 and key not in self._pending:
                    del self._last[key]


def _hub(websocket: WebSocket) -> WsHub | None:
    ctx: AppContext = websocket.app.state.ctx
    return ctx.service(WsHub)


@router.websocket("/ws/connect")
async def connect(websocket: WebSocket) -> None:
    """Live events by room; authenticated by the middleware (cookie + Origin, or token)."""
    hub = _hub(websocket)
    if hub is None:
        await websocket.close(code=1011, reason="live events are not running")
        return
    await websocket.accept()
    lock = asyncio.Lock()
    sub = hub.subscribe()
    rooms: set[str] = set()

    async def send_text(text: str) -> None:
        async with lock:
            await websocket.send_text(text)

    async def send(message: dict[str, Any]) -> None:
        await send_text(json.dumps(message, default=str, separators=(",", ":")))

    async def pump() -> None:
        async for event in sub:
            await send_text(hub.encode(event))

    async def watch() -> None:
        """Close the socket (policy violation) once its credential stops being valid."""
        ctx: AppContext = websocket.app.state.ctx
        creds = credentials(websocket.scope)
        with ctx.bus.subscribe(maxsize=4, types={CREDENTIALS_CHANGED}) as changes:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changes.get(), RECHECK_S)
                while changes.get_nowait() is not None:
                    pass
                now = websocket.app.state.clock()
                if await authenticate(ctx.db, creds, now=now) is None:
                    async with lock:
                        await websocket.close(code=1008, reason=REVOKED)
                    return

    sender = asyncio.create_task(pump(), name="ws-send")
    watcher = asyncio.create_task(watch(), name="ws-credentials")
    try:
        await send({"type": "welcome", "rooms": sorted(ROOM_NAMES)})
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            reply = BINARY_REFUSED if text is None else _handle_message(text, rooms)
            sub.types = frozenset(t for t, room in ROOMS.items() if room in rooms)
            await send(reply)
    except WebSocketDisconnect:
        pass
    except RuntimeError:  # the client went away while we were sending
        pass
    finally:
        sub.close()
        for task in (sender, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


BINARY_REFUSED = {"type": "error", "detail": "send JSON in text frames; binary frames are ignored"}


def _handle_message(text: str, rooms: set[str]) -> dict[str, Any]:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json can read
        return {"type": "error", "detail": 'send JSON like {"action": "join", "room": "downloads"}'}
    if not isinstance(message, dict):
        return {"type": "error", "detail": "a message is a JSON object"}
    action, room = message.get("action"), message.get("room")
    if action == "ping":
        return {"type": "pong"}
    if action not in ("join", "leave"):
        return {"type": "error", "detail": "action must be join, leave or ping"}
    if room not in ROOM_NAMES:
        return {"type": "error", "detail": f"unknown room; one of {', '.join(sorted(ROOM_NAMES))}"}
    if action == "join":
        rooms.add(room)
        return {"type": "joined", "room": room}
    rooms.discard(room)
    return {"type": "left", "room": room}
