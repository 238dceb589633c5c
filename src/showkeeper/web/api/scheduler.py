"""Scheduler: its settings, last and next runs, and a manual rescan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.automation.scheduler import JOB_NAMES, Scheduler
from showkeeper.automation.state import JobState, load_states
from showkeeper.context import AppContext
from showkeeper.errors import ShowkeeperError
from showkeeper.web.config_apply import update_config
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/scheduler", tags=["scheduler"])
_FIELDS = {
    "enabled": "scheduler_enabled",
    "time": "scheduler_time",
    "weekdays": "scheduler_weekdays",
    "timezone": "scheduler_timezone",
    "source_refresh_interval_min": "source_refresh_interval_min",
    "auto_download": "auto_download",
    "catchup_grace_min": "scheduler_catchup_grace_min",
}


class JobOut(BaseModel):
    last_run: datetime | None
    last_status: str | None
    last_error: str | None
    last_duration_s: float | None
    next_run: datetime | None
    running: bool


class SchedulerOut(BaseModel):
    enabled: bool
    running: bool = Field(description="The scheduler service runs in this process.")
    time: str
    weekdays: list[str]
    timezone: str
    source_refresh_interval_min: int
    auto_download: bool
    catchup_grace_min: int
    jobs: dict[str, JobOut]
    restart_required: bool = False


class SchedulerIn(BaseModel):
    enabled: bool | None = None
    time: str | None = Field(None, max_length=5, description="HH:MM, 24-hour")
    weekdays: list[str] | None = Field(None, max_length=7)
    timezone: str | None = Field(None, max_length=64)
    source_refresh_interval_min: int | None = Field(None, ge=5, le=10080)
    auto_download: bool | None = None
    catchup_grace_min: int | None = Field(None, ge=0, le=10080)


class TriggerOut(BaseModel):
    started: str


def _scheduler(ctx: AppContext) -> Scheduler | None:
    return ctx.service(Scheduler)


async def _view(ctx: AppContext) -> SchedulerOut:
    scheduler = _scheduler(ctx)
    states: dict[str, JobState] = (
        scheduler.states if scheduler else await load_states(ctx.db, list(JOB_NAMES))
    )
    s = ctx.settings
    return SchedulerOut(
        enabled=s.scheduler_enabled,
        running=scheduler is not None,
        time=s.scheduler_time,
        weekdays=s.scheduler_weekdays,
        timezone=s.scheduler_timezone,
        source_refresh_interval_min=s.source_refresh_interval_min,
        auto_download=s.auto_download,
        catchup_grace_min=s.scheduler_catchup_grace_min,
        jobs={
            job: JobOut(
                **{k: v for k, v in state.__dict__.items()},
                running=bool(scheduler and scheduler.running(job)),
            )
            for job, state in states.items()
        },
        restart_required=s.scheduler_enabled != (scheduler is not None),
    )


@router.get("")
async def get_scheduler(ctx: CtxDep) -> SchedulerOut:
    """Settings, and each job's last and next run."""
    return await _view(ctx)


@router.put("")
async def put_scheduler(body: SchedulerIn, ctx: CtxDep) -> SchedulerOut:
    """Change the schedule (stored in config.json); the next runs are planned again."""
    changes: dict[str, Any] = {
        _FIELDS[name]: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None
    }
    await update_config(ctx, changes)
    scheduler = _scheduler(ctx)
    if scheduler is not None:
        scheduler.reschedule()
    return await _view(ctx)


@router.post("/trigger-rescan", status_code=202)
async def trigger_rescan(ctx: CtxDep) -> TriggerOut:
    """Rescan the library now (then queue missing episodes, if auto_download is on)."""
    scheduler = _scheduler(ctx)
    if scheduler is None:  # scheduler off: run the same job once, without persisting runs
        from showkeeper.automation.jobs import rescan

        ctx.spawn(rescan(ctx), name="manual-rescan")
    else:
        scheduler.trigger("rescan")
    return TriggerOut(started="rescan")


@router.post("/jobs/{job}/run", status_code=202)
async def run_job(job: str, ctx: CtxDep) -> TriggerOut:
    """Run one scheduled job now: rescan, refresh or auto_download."""
    scheduler = _scheduler(ctx)
    if scheduler is not None:
        scheduler.trigger(job)
    else:  # scheduler off: run the same job once, without persisting runs
        from showkeeper.automation.jobs import Jobs

        if job not in JOB_NAMES:
            raise ShowkeeperError(f"unknown job {job!r}; one of {', '.join(JOB_NAMES)}")
        run = Jobs().get(job)

        async def once() -> None:
            await run(ctx)

        ctx.spawn(once(), name=f"manual-{job}")
    return TriggerOut(started=job)
