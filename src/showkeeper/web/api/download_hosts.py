"""Per-host download limits: a source host's own concurrency and delay (every worker)."""

from __future__ import annotations

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


@router.get("")
async def list_hosts(ctx: CtxDep) -> list[HostLimitOut]:
    """Hosts with their own limits."""
    return [
        HostLimitOut(host=v.host, concurrency=v.concurrency, delay_s=v.delay_s)
        for v in await host_limits.list_limits(ctx.db)
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
