"""FastAPI dependencies as Annotated aliases, so route signatures read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.db import Database
from showkeeper.events import EventBus


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_settings(ctx: Annotated[AppContext, Depends(get_ctx)]) -> Settings:
    return ctx.settings


def get_db(ctx: Annotated[AppContext, Depends(get_ctx)]) -> Database:
    return ctx.db


def get_bus(ctx: Annotated[AppContext, Depends(get_ctx)]) -> EventBus:
    return ctx.bus


async def get_session(db: Annotated[Database, Depends(get_db)]) -> AsyncIterator[AsyncSession]:
    async with db.session() as session:
        yield session


CtxDep = Annotated[AppContext, Depends(get_ctx)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
BusDep = Annotated[EventBus, Depends(get_bus)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]

# Every integer a request carries is bounded (tests/security/test_no_5xx.py walks the schema):
# a larger one than a column holds must be a 422, not an overflow in a driver.
MAX_DB_INT = 2**31 - 1  # ids are INTEGER: 32 bits on PostgreSQL
RowId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A row id in a request body."""
RowIdPath = Annotated[int, Path(ge=1, le=MAX_DB_INT)]
"""A row id in the path."""
