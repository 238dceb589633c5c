"""Health endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from showkeeper.health import health_report
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(ctx: CtxDep) -> dict[str, Any]:
    """Overall status (healthy / degraded / unhealthy) and each check."""
    return await health_report(ctx.settings, ctx.db)
