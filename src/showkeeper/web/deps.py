"""FastAPI dependencies as Annotated aliases, so route signatures read like prose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
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
