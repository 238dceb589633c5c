"""REST API routers, one module per resource."""

import os

from fastapi import APIRouter

from showkeeper.web import pages, ws
from showkeeper.web.api import (
    auth,
    config,
    download_hosts,
    health,
    library,
    metrics,
    nfo,
    notifications,
    queue,
    scheduler,
    series,
    sources,
)


def routers() -> list[APIRouter]:
    # app.py matches literal paths before {params}, so the order here does not matter.
    out = [
        health.router,
        auth.router,
        config.router,
        scheduler.router,
        notifications.router,
        metrics.router,
        series.router,
        ws.router,
        pages.router,
        sources.router,
        queue.router,
        download_hosts.router,
        library.router,
        nfo.router,
    ]
    if os.environ.get("SHOWKEEPER_BENCH_EVENTS") == "1":
        from showkeeper.web.api import bench_events

        out.append(bench_events.router)
    return out
