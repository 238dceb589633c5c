"""What `showkeeper download` and `showkeeper get` show while they download.

On a terminal: one live bar per running download (``S01E03 Title``, size, speed, ETA); a
finished episode collapses into one permanent line above the bars
(``✓ S01E03 Title  8.0 MB  2.1 s``, or ``✗ S01E04 Title  HTTP 404``; an attempt the queue
retries later is a ``↻`` line). Piped: the same lines, no bars. A summary line ends the run.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from showkeeper.downloads.foreground import ItemView
    from showkeeper.events import Event

EVENT_TYPES = frozenset(
    {
        "queue_status",
        "download_progress",
        "download_received",
        "download_complete",
        "download_failed",
    }
)
BAR_COLUMNS = 58
"""Cells taken by the bar, size, speed and ETA columns and their gaps: the label gets the
rest of the width."""
MIN_LABEL = 16
GAP = "  "

# The worker's and the engine's own lines for a failed download or candidate: the ✗ and ↻
# lines say the same, so the console leaves them out while the view runs (the log file and
# `showkeeper queue ls` keep the whole text).
_SAID_BY_THE_VIEW = frozenset({"download failed", "download candidate failed"})
_SAID_BY_THE_VIEW_PREFIXES = ("All candidates failed for",)
# downloads.engine.failure_line: ``All candidates failed for <label>; tried=["<url>: <reason>"]``
_ALL_FAILED = re.compile(r"^All candidates failed for .*?; tried=(\[.*\])$", re.DOTALL)


def human_size(n: int | None) -> str:
    """``8.0 MB`` (decimal units, as the bars count)."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


def human_duration(seconds: float) -> str:
    """``2.1 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def episode_label(season: int, episode: int, title: str | None) -> str:
    """``S01E03 Title`` (just ``S01E03`` without a title), on one line."""
    code = f"S{season:02d}E{episode:02d}"
    title = " ".join((title or "").split())
    return f"{code} {title}" if title else code


def fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, ending in an ellipsis when cut."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1).rstrip() + "…"


def short_reason(error: str | None) -> str:
    """Why a download failed, in a few words: the candidates' reasons without their URLs
    (the log file and `showkeeper queue ls` have the full text)."""
    if not error:
        return "failed"
    match = _ALL_FAILED.match(error.strip())
    if match is not None:
        try:
            tried = json.loads(match.group(1))
        except ValueError:
            tried = None
        if isinstance(tried, list) and tried:
            reasons = [_without_url(*str(entry).split(": ", 1)) for entry in tried]
            return "; ".join(dict.fromkeys(reasons))
    return " ".join(error.split())


def _without_url(url: str, reason: str = "") -> str:
    """``<url> answered HTTP 404 Not Found`` -> ``HTTP 404 Not Found``."""
    text = " ".join(reason.replace(url, " ").split())
    return text.removeprefix("answered ") or "failed"


@dataclass
class DownloadRun:
    """How a foreground download ended: item id -> final status, bytes filed, wall time."""

    statuses: dict[int, str] = field(default_factory=dict)
    size: int = 0
    seconds: float = 0.0

    @property
    def done(self) -> int:
        return sum(1 for s in self.statuses.values() if s == "completed")

    @property
    def failed(self) -> int:
        return sum(1 for s in self.statuses.values() if s == "failed")

    def summary(self) -> str:
        """``10 downloaded, 0 failed (80.0 MB in 12.3 s)``."""
        line = f"{self.done} downloaded, {self.failed} failed"
        other = len(self.statuses) - self.done - self.failed
        if other:
            line += f", {other} not finished"
        if self.done:
            line += f" ({human_size(self.size)} in {human_duration(self.seconds)})"
        return line


@dataclass
class _Running:
    label: str
    started: float
    task: TaskID | None = None


class DownloadView:
    """Feeds on the pool's bus events (``handle``) for the items it was given.

    Use it as a context manager: on a terminal it draws the bars inside the block; the
    worker's own failure lines stay off the console meanwhile (the ✗ line says it).
    """

    def __init__(
        self, console: Console, items: dict[int, ItemView], *, live: bool | None = None
    ) -> None:
        self.console = console
        self.labels = {
            item_id: episode_label(v.season, v.episode, v.title) for item_id, v in items.items()
        }
        self.live = console.is_terminal and not console.is_dumb_terminal if live is None else live
        self.running: dict[int, _Running] = {}
        self.reported: set[int] = set()
        self.progress: Progress | None = None
        self._stack = ExitStack()

    # -- lifetime ---------------------------------------------------------------------------

    def __enter__(self) -> DownloadView:
        from showkeeper.logging import hidden_on_console

        self._stack.enter_context(
            hidden_on_console(_SAID_BY_THE_VIEW, prefixes=_SAID_BY_THE_VIEW_PREFIXES)
        )
        if self.live:
            self.progress = self._make_progress()
            self.progress.start()
            self._stack.callback(self._stop_bars)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _stop_bars(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _make_progress(self) -> Progress:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.table import Column

        return Progress(
            TextColumn(
                "{task.description}",
                table_column=Column(width=self._label_width(), no_wrap=True),
            ),
            BarColumn(bar_width=20),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            refresh_per_second=5,
        )

    def _label_width(self) -> int:
        return max(MIN_LABEL, self.console.width - BAR_COLUMNS)

    # -- events -----------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """One bus event of EVENT_TYPES; events of other items are ignored."""
        type_, data = event.type, event.data
        if type_ == "queue_status" and data.get("action") in ("cancelled", "removed"):
            for item_id in data.get("item_ids", ()):
                self.stopped(item_id)
            return
        item_id = data.get("item_id")
        if item_id not in self.labels:
            return
        if type_ == "download_progress":
            self.advance(item_id, data.get("bytes") or 0, data.get("total"))
        elif type_ == "download_received":
            self.received(item_id)
        elif type_ == "download_complete":
            self.completed(item_id, data.get("size"))
        elif type_ == "download_failed":
            self.failed(item_id, data.get("error"))
        elif type_ == "queue_status":
            action = data.get("action")
            if action == "started":
                self.started(item_id)
            elif action == "retry_scheduled":
                self.retrying(item_id, data.get("error"), data.get("next_attempt_at"))
            elif action == "released":
                self.stopped(item_id)

    def started(self, item_id: int) -> None:
        self.reported.discard(item_id)  # a retry of an item that failed before
        if item_id in self.running:
            return
        running = _Running(self.labels[item_id], time.monotonic())
        if self.progress is not None:
            description = fit(running.label, self._label_width())
            running.task = self.progress.add_task(description, total=None)
        self.running[item_id] = running

    def advance(self, item_id: int, done: int, total: int | None) -> None:
        if item_id not in self.running:
            self.started(item_id)
        task = self.running[item_id].task
        if self.progress is not None and task is not None:
            self.progress.update(task, completed=done, total=total)

    def received(self, item_id: int) -> None:
        """Every byte is in; only checks are left: its bar goes (so there are never more
        bars than transfers), its line comes when it is filed."""
        running = self.running.get(item_id)
        if running is not None and running.task is not None and self.progress is not None:
            self.progress.remove_task(running.task)
            running.task = None

    def completed(self, item_id: int, size: int | None) -> None:
        running = self._finish(item_id)
        seconds = time.monotonic() - running.started if running else None
        tail = GAP + human_size(size) + (GAP + human_duration(seconds) if seconds else "")
        self._line("[green]✓[/]", item_id, tail)

    def failed(self, item_id: int, error: str | None) -> None:
        self._finish(item_id)
        self._line("[red]✗[/]", item_id, GAP + short_reason(error), cut_tail=True)

    def retrying(self, item_id: int, error: str | None, next_attempt_at: str | None) -> None:
        """This attempt failed and the queue tries again later: a line says when."""
        self._finish(item_id)
        when = ""
        if next_attempt_at:
            at = datetime.fromisoformat(next_attempt_at)
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # stored as UTC
            wait = at.timestamp() - time.time()
            when = f"; again in {human_duration(max(0.0, wait))}"
        self._line("[yellow]↻[/]", item_id, GAP + short_reason(error) + when, cut_tail=True)
        self.reported.discard(item_id)  # not finished yet

    def stopped(self, item_id: int) -> None:
        """It is no longer running (a retry later, or given back): its bar goes."""
        self._finish(item_id)

    def sync(self, statuses: dict[int, str]) -> None:
        """The items' statuses as the database has them: a bar goes when its item was
        cancelled or removed (`showkeeper queue rm` in another process sends no event here)."""
        for item_id in list(self.running):
            if statuses.get(item_id, "cancelled") == "cancelled":
                self.stopped(item_id)

    def report_unseen(self, items: dict[int, ItemView]) -> None:
        """Lines for items that ended without an event here (another process's worker
        finished them, or they failed before starting)."""
        for item_id, item in items.items():
            if item_id in self.reported or item_id not in self.labels:
                continue
            if item.status == "completed":
                self.completed(item_id, item.size)
            elif item.status == "failed":
                self.failed(item_id, item.error)

    def _finish(self, item_id: int) -> _Running | None:
        running = self.running.pop(item_id, None)
        if running is not None and running.task is not None and self.progress is not None:
            self.progress.remove_task(running.task)
        return running

    def _line(self, mark: str, item_id: int, tail: str, *, cut_tail: bool = False) -> None:
        """``<mark> <label><tail>`` on one line: the label (or, with cut_tail, the tail
        first down to half the width) is shortened to fit the terminal."""
        from rich.cells import cell_len
        from rich.markup import escape

        self.reported.add(item_id)
        width = self.console.width - 2  # the mark and its space
        label = self.labels[item_id]
        if cut_tail:
            tail = fit(tail, max(width - cell_len(label), width // 2))
        label = fit(label, max(MIN_LABEL, width - cell_len(tail)))
        self.console.print(f"{mark} {escape(label)}{escape(tail)}", highlight=False, soft_wrap=True)
