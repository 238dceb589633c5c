"""App factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from showkeeper import __version__
from showkeeper.config import Settings, load_settings
from showkeeper.context import open_context
from showkeeper.errors import ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.web.api import routers
from showkeeper.web.middleware import RequestIdMiddleware

log = get_logger(__name__)


def create_app(settings: Settings | None = None, *, with_services: bool = True) -> FastAPI:
    """Build the ASGI app; the database is opened and migrated by the lifespan."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_context(settings, with_services=with_services) as ctx:
            app.state.ctx = ctx
            log.info("showkeeper started", version=__version__, database=ctx.db.safe_url)
            yield
            log.info("showkeeper stopping")

    app = FastAPI(
        title="showkeeper",
        version=__version__,
        description="Keeps a local library of episodic video complete.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.add_middleware(RequestIdMiddleware)

    @app.exception_handler(ShowkeeperError)
    async def _user_error(request: Request, exc: ShowkeeperError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    for router in routers():
        app.include_router(router)
    return app
