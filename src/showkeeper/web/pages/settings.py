"""The Settings page: every setting by group, config backups, and the security actions."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from showkeeper.web.auth import PrincipalDep
from showkeeper.web.config_apply import store_for
from showkeeper.web.deps import CtxDep
from showkeeper.web.pages.render import render
from showkeeper.web.pages.settings_fields import describe

router = APIRouter(include_in_schema=False)


@router.get("/settings")
async def settings_page(request: Request, ctx: CtxDep, principal: PrincipalDep) -> Response:
    """Settings: grouped values with their source; backups; API key and password."""
    store = store_for(ctx.settings)
    stored = await asyncio.to_thread(store.read)
    backups = await asyncio.to_thread(store.list_backups)
    return await render(
        request,
        "settings.html",
        {"groups": describe(ctx.settings, stored), "backups": backups[:20]},
        principal=principal,
        active="settings",
    )
