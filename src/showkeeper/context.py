"""The running application's collaborators, opened and closed in one place.

Both the server's lifespan and CLI commands that need the database use
`open_context`, so start-up checks and shutdown are the same everywhere.

This module is a leaf of the package's import graph: it knows no feature. Its caller
hands it the services to run (``showkeeper.services`` composes the server's), and code
finds a running service by its type with :meth:`AppContext.service`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.migrate import upgrade
from showkeeper.errors import StartupError
from showkeeper.events import EventBus
from showkeeper.logging import get_logger

log = get_logger(__name__)

S = TypeVar("S")


class Service(Protocol):
    """A background service owned by the context.

    start() MUST return promptly (spawn its loop as a task); stop() MUST cancel and
    await everything it started, so no task outlives the context.
    """

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus
    services: list[Service] = field(default_factory=list)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def service(self, kind: type[S]) -> S | None:
        """The running service of this type (or a subclass of it), or None."""
        return next((s for s in self.services if isinstance(s, kind)), None)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run long work in the background; it is cancelled when the context closes."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", task=task.get_name(), exc_info=task.exception())

    async def close(self) -> None:
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                log.exception("service failed to stop", service=service.name)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.bus.close()
        await self.db.dispose()


def ensure_writable_dir(path: Path, setting: str) -> None:
    """Create path if needed and prove it writable; StartupError names the setting."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StartupError(
            f"{setting} {path} is not writable ({reason}); "
            f"point SHOWKEEPER_{setting.upper()} at a writable directory"
        ) from None


async def prepare_storage(settings: Settings, *, migrate_in_child: bool = False) -> Database:
    """Check data_dir, open and migrate the database (``migrate_in_child``: see
    db.migrate.upgrade's ``in_child``). Raises StartupError."""
    ensure_writable_dir(settings.data_dir, "data_dir")
    db = Database(settings.database_url)
    try:
        await db.check()
        await upgrade(db, in_child=migrate_in_child)
    except BaseException:
        await db.dispose()
        raise
    return db


ServiceFactory = Callable[[AppContext], list[Service]]
"""Builds the services of one kind of process from its context (see showkeeper.services)."""


@asynccontextmanager
async def open_context(
    settings: Settings, *, services: ServiceFactory | None = None, migrate_in_child: bool = False
) -> AsyncIterator[AppContext]:
    """Open storage and start the services ``services`` builds (none by default).

    ``migrate_in_child``: a long-lived process migrates a new database in a child interpreter,
    so Alembic's modules never take its memory (db.migrate.upgrade)."""
    db = await prepare_storage(settings, migrate_in_child=migrate_in_child)
    ctx = AppContext(settings=settings, db=db, bus=EventBus())
    try:
        for service in services(ctx) if services is not None else []:
            await service.start()
            ctx.services.append(service)
        yield ctx
    finally:
        await ctx.close()
