"""Tracked commands: named background jobs whose state a client can poll (the Sonarr v3
``/api/v3/command`` resource).

Commands are kept in memory by the process that runs them, newest ``keep`` of them: a
command is work this process does in a task of its own (a refresh, a scan, queueing
episodes), so its state is only true where that task runs, and a restart ends it anyway
(Sonarr too forgets unfinished commands when it restarts). Ids grow from 1 per process.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from showkeeper.context import AppContext
from showkeeper.errors import NotFoundError, ShowkeeperError
from showkeeper.logging import get_logger

log = get_logger(__name__)

CommandStatus = Literal["queued", "started", "completed", "failed"]
Job = Callable[[], Awaitable[str | None]]
"""The work of a command; answers its completion message."""


@dataclass(slots=True)
class CommandRecord:
    id: int
    name: str
    body: dict[str, Any]
    status: CommandStatus = "queued"
    queued: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: datetime | None = None
    ended: datetime | None = None
    message: str | None = None
    error: str | None = None


class CommandTracker:
    """Runs commands in the background and remembers their state; a service."""

    name = "commands"

    def __init__(self, ctx: AppContext, *, keep: int = 200) -> None:
        self.ctx = ctx
        self.keep = keep
        self._ids = itertools.count(1)
        self._records: OrderedDict[int, CommandRecord] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def submit(self, name: str, body: dict[str, Any], job: Job) -> CommandRecord:
        """Record the command as queued and start it in a task of its own."""
        record = CommandRecord(id=next(self._ids), name=name, body=body)
        self._records[record.id] = record
        while len(self._records) > self.keep:
            oldest = next(iter(self._records.values()))
            if oldest.status in ("queued", "started"):
                break  # never forget a running command
            self._records.popitem(last=False)
        task = asyncio.create_task(self._run(record, job), name=f"command-{record.id}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    async def _run(self, record: CommandRecord, job: Job) -> None:
        record.status = "started"
        record.started = datetime.now(UTC)
        try:
            record.message = await job()
            record.status = "completed"
        except asyncio.CancelledError:
            record.status = "failed"
            record.error = "showkeeper stopped before the command finished"
            raise
        except ShowkeeperError as exc:
            record.status = "failed"
            record.error = str(exc)
        except Exception as exc:
            log.exception("command failed", command=record.name, id=record.id)
            record.status = "failed"
            record.error = f"internal error ({type(exc).__name__})"
        finally:
            record.ended = datetime.now(UTC)

    def get(self, command_id: int) -> CommandRecord:
        """Raises NotFoundError."""
        found = self._records.get(command_id)
        if found is None:
            raise NotFoundError(f"no command with id {command_id}")
        return found

    def all(self) -> list[CommandRecord]:
        return list(self._records.values())

    async def wait(self, command_id: int, timeout_s: float = 30.0) -> CommandRecord:
        """Until the command ends (for foreground callers and tests)."""
        record = self.get(command_id)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while record.status in ("queued", "started"):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.02)
        return record
