"""A progress bar for commands that may be quick: it appears only once the work has run for
a second, so a short scan or refresh prints just its summary line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from showkeeper.events import Event, EventBus

SHOW_AFTER_S = 1.0


class DelayedBar:
    """One transient bar: ``update`` any time; it is drawn from SHOW_AFTER_S on."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self.progress = progress
        self.task = task
        self.shown = False

    def update(self, **fields: Any) -> None:
        self.progress.update(self.task, **fields)

    def show(self) -> None:
        if not self.shown:
            self.shown = True
            self.progress.start()


@contextmanager
def delayed_bar(
    label: str, unit: str, *, show_after_s: float = SHOW_AFTER_S
) -> Iterator[DelayedBar]:
    """Within a running event loop: a bar labelled ``label`` counting ``unit`` (e.g.
    "series"), shown after ``show_after_s`` and removed at the end."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from showkeeper.cli.base import console

    progress = Progress(
        TextColumn(f"[bold]{label}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{unit}" + "{task.fields[extra]}"),
        TimeElapsedColumn(),
        console=console.get(),
        transient=True,
    )
    bar = DelayedBar(progress, progress.add_task(label, total=None, extra=""))
    timer = asyncio.get_running_loop().call_later(show_after_s, bar.show)
    try:
        yield bar
    finally:
        timer.cancel()
        if bar.shown:
            progress.stop()


@asynccontextmanager
async def following(
    bus: EventBus, types: set[str], handle: Callable[[dict[str, Any]], None]
) -> AsyncIterator[None]:
    """Call ``handle(event.data)`` for each event of ``types`` published inside the block."""
    async with following_events(bus, types, lambda event: handle(event.data)):
        yield


@asynccontextmanager
async def following_events(
    bus: EventBus, types: set[str], handle: Callable[[Event], None]
) -> AsyncIterator[None]:
    """Call ``handle(event)`` for each event of ``types`` published inside the block, those
    still buffered when it ends included (the last download's line is not lost)."""
    with bus.subscribe(types=types) as sub:

        async def follow() -> None:
            async for event in sub:
                handle(event)

        task = asyncio.create_task(follow())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            while (event := sub.get_nowait()) is not None:
                handle(event)
