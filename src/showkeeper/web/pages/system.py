"""The System page: health checks, scheduled jobs, version, database, disk, and the log."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from showkeeper import __version__
from showkeeper.automation.scheduler import JOB_NAMES, Scheduler
from showkeeper.automation.state import load_states
from showkeeper.health import detailed_report
from showkeeper.logtail import log_file, tail
from showkeeper.web.auth import PrincipalDep
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render

router = APIRouter(include_in_schema=False)
_STARTED = time.monotonic()
JOB_LABELS = {
    "rescan": "Rescan the library",
    "refresh": "Refresh every source",
    "auto_download": "Queue missing episodes",
}


@router.get("/system")
async def system_page(
    request: Request,
    ctx: CtxDep,
    principal: PrincipalDep,
    level: Literal["", "DEBUG", "INFO", "WARNING", "ERROR"] = "",
) -> Response:
    """System: health, jobs, versions, disk, the last 200 log lines."""
    report = await detailed_report(ctx.settings, ctx.db, started_at=_STARTED)
    scheduler = ctx.service(Scheduler)
    states = scheduler.states if scheduler else await load_states(ctx.db, list(JOB_NAMES))
    jobs = [
        {
            "name": name,
            "label": JOB_LABELS.get(name, name),
            "state": states[name],
            "running": bool(scheduler and scheduler.running(name)),
        }
        for name in JOB_NAMES
        if name in states
    ]
    lines = await asyncio.to_thread(
        tail, log_file(ctx.settings.data_dir), lines=200, level=level or None
    )
    return await render(
        request,
        "system.html",
        {
            "report": report,
            "jobs": jobs,
            "scheduler_on": scheduler is not None,
            "version": __version__,
            "backend": "SQLite" if ctx.db.is_sqlite else "PostgreSQL",
            "database_url": ctx.db.safe_url,
            "lines": lines,
            "level": level,
        },
        principal=principal,
        active="system",
        partial="_system_log.html",
    )
