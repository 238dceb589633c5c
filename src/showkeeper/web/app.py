"""App factory and lifespan."""

from __future__ import annotations

import importlib.resources
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from showkeeper import __version__
from showkeeper.config import Settings, load_settings
from showkeeper.context import open_context
from showkeeper.logging import get_logger
from showkeeper.services import build_services
from showkeeper.web.api import routers
from showkeeper.web.arr import routers as arr_routers
from showkeeper.web.auth import AuthMiddleware, utcnow
from showkeeper.web.errors import install_error_handlers
from showkeeper.web.middleware import RequestIdMiddleware
from showkeeper.web.security import (
    HostGuardMiddleware,
    InputGuardMiddleware,
    SecurityHeadersMiddleware,
)

log = get_logger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, with_services: bool = True) -> FastAPI:
    """Build the ASGI app; the database is opened and migrated by the lifespan.

    ``with_services=False`` runs no background service (tests of the routes alone).
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(
            settings, services=build_services if with_services else None
        ) as ctx:
            app.state.ctx = ctx
            app.state.admin_exists = False
            log.info("showkeeper started", version=__version__, database=ctx.db.safe_url)
            yield
            log.info("showkeeper stopping")

    app = FastAPI(
        title="showkeeper",
        version=__version__,
        description="Keeps a local library of episodic video complete.",
        lifespan=lifespan,
        docs_url=None,  # /api/docs is our own page (web/pages.py): no CDN, no inline script
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.clock = utcnow
    # Outermost last: request id, security headers, Host check, input check, then auth.
    app.add_middleware(AuthMiddleware)
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(HostGuardMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestIdMiddleware)

    install_error_handlers(app)

    for router in routers():
        app.include_router(router)
    for router in arr_routers():  # Sonarr v3 compatible API (web/arr/)
        app.include_router(router)
    _literal_paths_first(app)
    # Swagger UI's own files, shipped in a wheel: the API page needs no CDN (the CSP forbids one).
    app.mount("/static/swagger", StaticFiles(directory=SWAGGER_DIR), name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


SWAGGER_DIR = Path(str(importlib.resources.files("fastapi_offline") / "static"))


def _literal_paths_first(app: FastAPI) -> None:
    """GET /api/series/search must match before GET /api/series/{key}, whoever included
    first: routers with a route ending in a path parameter are matched after the others."""

    def ends_in_param(route: BaseRoute) -> bool:
        return any(str(ctx.path or "").endswith("}") for ctx in iter_route_contexts([route]))

    app.router.routes.sort(key=ends_in_param)
