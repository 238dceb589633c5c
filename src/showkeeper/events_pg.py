"""Carry bus events between processes sharing one PostgreSQL database (LISTEN/NOTIFY).

Every event published on the local bus is sent as ``pg_notify('showkeeper_events', json)``
through one dedicated connection, in order; notifications from other processes are
dispatched into the local bus marked with their origin, so they are never sent again.
NOTIFY keeps nothing: events sent while a process is disconnected are lost to it
(the database rows stay the truth), and payloads over MAX_PAYLOAD_BYTES are dropped.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy.engine import make_url

from showkeeper.events import BusConsumer, Event, Subscription
from showkeeper.logging import get_logger

if TYPE_CHECKING:
    from showkeeper.context import AppContext

log = get_logger(__name__)

CHANNEL = "showkeeper_events"
MAX_PAYLOAD_BYTES = 7_500  # NOTIFY refuses payloads of 8,000 bytes or more


def listen_dsn(database_url: str) -> str:
    """The plain asyncpg DSN of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgEventBridge(BusConsumer):
    """Forward local events to PostgreSQL and dispatch other processes' events locally.

    start() connects (waiting up to connect_wait_s, then keeps trying in the background)
    so that, normally, this process listens before it returns; a dropped connection is
    reopened with backoff. stop() sends what is buffered (a few seconds at most), then
    closes the connection and ends every task it started.
    """

    name = "pg-event-bridge"
    connect_wait_s = 5.0
    min_backoff_s = 0.2
    max_backoff_s = 10.0
    send_timeout_s = 10.0

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx.bus, maxsize=10_000)
        self._dsn = listen_dsn(ctx.settings.database_url)
        self.origin = uuid.uuid4().hex
        self.connections = 0  # successful connects so far (1 + reconnects)
        self.dropped = 0  # events not sent: too large or refused by the server
        self._link: tuple[asyncpg.Connection, asyncio.Event] | None = None
        self._ready = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._keeper = asyncio.create_task(self._keep_connected(), name=f"{self.name}-listen")
        await super().start()
        try:
            await asyncio.wait_for(self._ready.wait(), self.connect_wait_s)
        except TimeoutError:
            log.warning("event bridge not connected yet; retrying in the background")

    async def stop(self) -> None:
        await super().stop()
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
            self._keeper = None

    async def consume(self, sub: Subscription) -> None:
        async for event in sub:
            if event.origin is not None:
                continue  # came from another process: it was sent there
            payload = json.dumps(
                {"origin": self.origin, "type": event.type, "data": event.data, "ts": event.ts},
                default=str,
                separators=(",", ":"),
            )
            size = len(payload.encode())
            if size > MAX_PAYLOAD_BYTES:
                self.dropped += 1
                log.warning(
                    "event too large to send to other processes", type=event.type, size=size
                )
                continue
            await self._send(payload, event.type)

    async def _send(self, payload: str, type: str) -> None:
        """Send one payload, waiting for a connection and retrying when it drops."""
        while True:
            await self._ready.wait()
            assert self._link is not None
            conn, lost = self._link
            try:
                await conn.execute(
                    "SELECT pg_notify($1, $2)", CHANNEL, payload, timeout=self.send_timeout_s
                )
                return
            except Exception as exc:
                if isinstance(exc, asyncpg.PostgresError) and not conn.is_closed():
                    self.dropped += 1
                    log.warning("event not sent", type=type, error=str(exc))
                    return
                log.warning("event bridge connection lost while sending", error=str(exc))
                self._ready.clear()
                conn.terminate()
                lost.set()

    async def _keep_connected(self) -> None:
        delay = self.min_backoff_s
        while True:
            conn = await self._connect()
            if conn is None:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
                continue
            delay = self.min_backoff_s
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, ev=lost: ev.set())
            self._link = (conn, lost)
            self.connections += 1
            self._ready.set()
            try:
                await lost.wait()
                log.warning("event bridge connection lost; reconnecting")
            finally:
                self._ready.clear()
                self._link = None
                await _close(conn)

    async def _connect(self) -> asyncpg.Connection | None:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(self._dsn, timeout=self.send_timeout_s)
            await conn.add_listener(CHANNEL, self._on_notify)
            return conn
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("event bridge cannot connect", error=str(exc))
            if conn is not None:
                await _close(conn)
            return None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message: dict[str, Any] = json.loads(payload)
            origin, type_ = str(message["origin"]), str(message["type"])
            data, ts = dict(message["data"]), float(message["ts"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("unreadable event notification", error=str(exc))
            return
        if origin != self.origin:
            self.bus.dispatch(Event(type_, data, ts, origin=origin))


async def _close(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except Exception:
        conn.terminate()
