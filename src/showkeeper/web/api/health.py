"""Health endpoints: /health (public), /health/ready (public), /health/detailed (auth)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from showkeeper.automation.scheduler import JOB_NAMES, Scheduler
from showkeeper.automation.state import load_states
from showkeeper.context import AppContext
from showkeeper.health import detailed_report, health_report, readiness
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["health"])
_STARTED = time.monotonic()


async def _scheduler_runs(ctx: AppContext) -> dict[str, str | None]:
    scheduler = ctx.service(Scheduler)
    if scheduler is not None:
        next_run, last_run = scheduler.next_run, scheduler.last_run
    else:
        states = await load_states(ctx.db, list(JOB_NAMES))
        next_run = None  # nothing runs while the scheduler is off
        done = [s.last_run for s in states.values() if s.last_run is not None]
        last_run = max(done) if done else None
    return {
        "scheduler_next_run": next_run.isoformat() if next_run else None,
        "scheduler_last_run": last_run.isoformat() if last_run else None,
    }


@router.get("/health")
async def health(ctx: CtxDep) -> dict[str, Any]:
    """Overall status (healthy / degraded / unhealthy), each check, the scheduler's runs."""
    return {**await health_report(ctx.settings, ctx.db), **await _scheduler_runs(ctx)}


@router.get("/health/ready", responses={503: {"description": "Not ready"}})
async def ready(ctx: CtxDep) -> JSONResponse:
    """200 when the server can do its work; 503 with critical_failures when it cannot."""
    ok, failures = await readiness(ctx.settings, ctx.db)
    if ok:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "not_ready", "critical_failures": failures}, status_code=503)


@router.get("/health/detailed")
async def detailed(ctx: CtxDep) -> dict[str, Any]:
    """Database, filesystem, process and system figures (requires authentication)."""
    return await detailed_report(ctx.settings, ctx.db, started_at=_STARTED)
