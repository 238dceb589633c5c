"""Server-rendered pages (Jinja2 + htmx): one module per page, calling the same service
functions as the REST API. ``router`` includes them all."""

from fastapi import APIRouter

from showkeeper.web.pages import (
    add,
    auth_pages,
    history,
    library,
    queue,
    series,
    settings,
    system,
    wanted,
)

router = APIRouter(include_in_schema=False)
for _module in (auth_pages, library, series, queue, wanted, history, add, settings, system):
    router.include_router(_module.router)
