"""The scheduler service: daily rescan, periodic source refresh, auto-download.

- rescan: at scheduler_time on scheduler_weekdays (scheduler_timezone). A run missed
  while the server was down runs at start when it is at most scheduler_catchup_grace_min
  late; an older one is skipped (logged) and the next is planned.
- refresh: every source_refresh_interval_min after the last one.
- auto_download: after a successful rescan or refresh (setting auto_download), at most
  once per AUTO_DOWNLOAD_COOLDOWN; a request inside the cooldown runs when it ends.

Last and next runs live in system_settings, so they survive restarts. Jobs and the clock
are constructor arguments: tests pass their own and call `load()` / `run_due()`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from showkeeper.automation.jobs import Jobs
from showkeeper.automation.schedule import next_daily
from showkeeper.automation.state import JobState, load_states, save_states
from showkeeper.context import AppContext
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.logging import get_logger

log = get_logger(__name__)

JOB_NAMES = ("rescan", "refresh", "auto_download")
AUTO_DOWNLOAD_COOLDOWN = timedelta(minutes=5)
_MAX_SLEEP_S = 60.0  # wake up now and then to follow settings changes

Listener = Callable[[str, float, bool], None]


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Scheduler:
    """Runs the jobs when due; one run of a job at a time."""

    name = "scheduler"

    def __init__(
        self, ctx: AppContext, *, jobs: Jobs | None = None, clock: Clock | None = None
    ) -> None:
        self.ctx = ctx
        self.jobs = jobs or Jobs()
        self.clock: Clock = clock or SystemClock()
        self.states: dict[str, JobState] = {name: JobState() for name in JOB_NAMES}
        self.listeners: list[Listener] = []
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        await self.load()
        self._loop_task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None

    async def load(self) -> None:
        """Read the persisted runs and plan the next ones (catching up a missed rescan)."""
        self.states = await load_states(self.ctx.db, list(JOB_NAMES))
        now = self.clock.now()
        rescan = self.states["rescan"]
        grace = timedelta(minutes=self.ctx.settings.scheduler_catchup_grace_min)
        if rescan.next_run is not None and rescan.next_run <= now:
            late = now - rescan.next_run
            if grace and late <= grace:
                log.info("catching up a missed rescan", planned=rescan.next_run.isoformat())
            else:
                log.warning("skipping a missed rescan", planned=rescan.next_run.isoformat())
                rescan.next_run = self._next_rescan(now)
        elif rescan.next_run is None:
            rescan.next_run = self._next_rescan(now)
        refresh = self.states["refresh"]
        refresh.next_run = self._next_refresh(now)
        await save_states(self.ctx.db, self.states)

    def reschedule(self) -> None:
        """Plan again from the current settings (after they changed)."""
        now = self.clock.now()
        if "rescan" not in self._running:
            self.states["rescan"].next_run = self._next_rescan(now)
        if "refresh" not in self._running:
            self.states["refresh"].next_run = self._next_refresh(now)
        self._wake.set()

    # --- planning -------------------------------------------------------------------

    def _next_rescan(self, after: datetime) -> datetime:
        s = self.ctx.settings
        return next_daily(
            after, at=s.scheduler_time, weekdays=s.scheduler_weekdays, tz=s.scheduler_timezone
        )

    def _next_refresh(self, now: datetime) -> datetime:
        last = self.states["refresh"].last_run
        if last is None:
            return now
        return max(now, last + timedelta(minutes=self.ctx.settings.source_refresh_interval_min))

    def request_auto_download(self) -> None:
        """Queue missing episodes now, or when the cooldown since the last run ends."""
        now = self.clock.now()
        state = self.states["auto_download"]
        earliest = (
            now if state.last_run is None else max(now, state.last_run + AUTO_DOWNLOAD_COOLDOWN)
        )
        if state.next_run is None or earliest < state.next_run:
            state.next_run = earliest
        self._wake.set()

    @property
    def next_run(self) -> datetime | None:
        planned = [s.next_run for s in self.states.values() if s.next_run is not None]
        return min(planned) if planned else None

    @property
    def last_run(self) -> datetime | None:
        done = [s.last_run for s in self.states.values() if s.last_run is not None]
        return max(done) if done else None

    # --- running --------------------------------------------------------------------

    def running(self, job: str) -> bool:
        return job in self._running

    async def run_due(self) -> list[asyncio.Task[None]]:
        """Start every job that is due and not running; returns their tasks."""
        now = self.clock.now()
        started = []
        for job in JOB_NAMES:
            state = self.states[job]
            if state.next_run is not None and state.next_run <= now and job not in self._running:
                started.append(self._launch(job, now))
        return started

    def trigger(self, job: str = "rescan") -> asyncio.Task[None]:
        """Run a job now (manual). Raises ConflictError when it is already running."""
        if job not in JOB_NAMES:
            raise ShowkeeperError(f"unknown job {job!r}; one of {', '.join(JOB_NAMES)}")
        if job in self._running:
            raise ConflictError(f"a {job} is already running; wait for it to finish")
        return self._launch(job, self.clock.now(), manual=True)

    def _launch(self, job: str, now: datetime, *, manual: bool = False) -> asyncio.Task[None]:
        state = self.states[job]
        if job == "rescan" and not manual:
            state.next_run = self._next_rescan(now)
        elif job == "refresh" and not manual:
            state.next_run = None  # planned from last_run when it ends
        elif job == "auto_download":
            state.next_run = None
        task = asyncio.create_task(self._run(job), name=f"scheduler-{job}")
        self._running[job] = task
        task.add_done_callback(lambda _t: self._running.pop(job, None))
        return task

    async def _run(self, job: str) -> None:
        state = self.states[job]
        started = self.clock.now()
        t0 = time.perf_counter()
        ok = True
        try:
            await self.jobs.get(job)(self.ctx)
            state.last_status, state.last_error = "ok", None
        except Exception as exc:
            ok = False
            state.last_status, state.last_error = "failed", str(exc)[:500] or type(exc).__name__
            log.warning("scheduled job failed", job=job, error=state.last_error)
        duration = time.perf_counter() - t0
        state.last_run, state.last_duration_s = started, round(duration, 3)
        if job == "refresh":
            state.next_run = self._next_refresh(self.clock.now())
        if ok and job in ("rescan", "refresh") and self.ctx.settings.auto_download:
            self.request_auto_download()
        for listener in self.listeners:
            listener(job, duration, ok)
        try:
            await save_states(self.ctx.db, self.states)
        except ShowkeeperError as exc:
            log.error("cannot save scheduler state", error=str(exc))
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_due()
            except Exception:
                log.exception("scheduler tick failed")
            now = self.clock.now()
            waits = [
                (s.next_run - now).total_seconds()
                for job, s in self.states.items()
                if s.next_run is not None and job not in self._running
            ]
            delay = min([_MAX_SLEEP_S, *waits])
            sleeper = asyncio.ensure_future(self.clock.sleep(max(0.0, delay)))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                waker.cancel()
