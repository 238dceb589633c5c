"""REST API routers, one module per resource."""

from fastapi import APIRouter

from showkeeper.web import pages, ws
from showkeeper.web.api import (
    auth,
    config,
    download_hosts,
    health,
    imports,
    library,
    metadata,
    metrics,
    naming,
    nfo,
    notifications,
    queue,
    rename,
    retention,
    scheduler,
    series,
    sources,
)


def routers() -> list[APIRouter]:
    # app.py matches literal paths before {params}, so the order here does not matter.
    return [
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
        naming.router,
        rename.router,
        retention.router,
        imports.router,
        metadata.router,
    ]
