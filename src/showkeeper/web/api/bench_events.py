"""Test-only: publish synthetic events (bench/api.py). Mounted only when the server starts
with SHOWKEEPER_BENCH_EVENTS=1; it still requires authentication like every route.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper.web.deps import CtxDep

router = APIRouter(prefix="/api/_bench", tags=["bench"], include_in_schema=False)


class PublishIn(BaseModel):
    type: str = Field("download_progress", max_length=40)
    count: int = Field(100, ge=1, le=100_000)
    rate_per_s: float = Field(10, gt=0, le=10_000)
    items: int = Field(10, ge=1, le=10_000)


class PublishOut(BaseModel):
    published: int


@router.post("/publish")
async def publish(body: PublishIn, ctx: CtxDep) -> PublishOut:
    """Publish `count` events at `rate_per_s`, spread round-robin over `items` items."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n in range(body.count):
        delay = start + n / body.rate_per_s - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        ctx.bus.publish(body.type, queue_id=n % body.items, downloaded_bytes=n, seq=n)
    return PublishOut(published=body.count)
