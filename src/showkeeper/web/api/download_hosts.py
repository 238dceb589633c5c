"""Per-host download limits: a source host's own concurrency and delay (every worker)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from showkeeper.downloads import host_limits
from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/download-hosts", tags=["queue"])
HostPath = Path(min_length=1, max_length=255, description="A host name or address.")


class HostLimitIn(BaseModel):
    concurrency: int | None = Field(
        None,
        ge=1,
        le=host_limits.MAX_CONCURRENCY,
        strict=True,
        description="Downloads at once; null: global.",
    )
    delay_s: float | None = Field(
        None,
        ge=0,
        le=host_limits.MAX_DELAY_S,
        description="Seconds between downloads; null: global.",
    )


class HostLimitOut(BaseModel):
    host: str
    concurrency: int | None
    delay_s: float | None
    limited_to: int | None = Field(
        None, description="Lowered limit after a 429/503 or repeated timeouts; null: normal."
    )
    paused_until: datetime | None = Field(
        None, description="No new download from the host before this (its Retry-After)."
    )
    normal_at: datetime | None = Field(
        None, description="When the host is back to normal if it asks for nothing more."
    )


@router.get("")
async def list_hosts(ctx: CtxDep) -> list[HostLimitOut]:
    """Hosts with their own limits, and hosts limited for now because they asked to slow down."""
    views = await host_limits.list_for(ctx)
    return [
        HostLimitOut(
            host=v.host,
            concurrency=v.concurrency,
            delay_s=v.delay_s,
            limited_to=v.limited_to,
            paused_until=v.paused_until,
            normal_at=v.normal_at,
        )
        for v in views
    ]


@router.put("/{host}")
async def set_host(host: str = HostPath, *, body: HostLimitIn, ctx: CtxDep) -> HostLimitOut:
    """Give a host its own concurrency and delay; every worker process honours them."""
    view = await host_limits.set_limit(
        ctx.db, host, concurrency=body.concurrency, delay_s=body.delay_s
    )
    return HostLimitOut(host=view.host, concurrency=view.concurrency, delay_s=view.delay_s)


@router.delete("/{host}")
async def remove_host(ctx: CtxDep, host: str = HostPath) -> dict[str, str]:
    """Back to the global limits for this host."""
    await host_limits.remove_limit(ctx.db, host)
    return {"host": host, "action": "removed"}
