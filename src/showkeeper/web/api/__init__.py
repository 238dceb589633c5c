"""REST API routers, one module per resource."""

from fastapi import APIRouter

from showkeeper.web.api import health


def routers() -> list[APIRouter]:
    return [health.router]
