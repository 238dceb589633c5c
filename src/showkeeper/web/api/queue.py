"""The download queue: status, add, cancel/remove, start/stop/pause/resume, retry, clear."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from showkeeper.downloads import service
from showkeeper.web.deps import CtxDep, RowId, RowIdPath

router = APIRouter(prefix="/api/queue", tags=["queue"])


class AddIn(BaseModel):
    episode_ids: list[RowId] | None = Field(
        None, max_length=service.MAX_EPISODES_PER_CALL, description="Episodes to queue."
    )
    series_key: str | None = Field(
        None, max_length=200, description="Queue this series' episodes instead."
    )
    missing: bool = Field(
        True, description="With series_key: only missing episodes (else all not on disk)."
    )
    priority: int = Field(0, ge=-1000, le=1000, description="Higher runs first.")

    @model_validator(mode="after")
    def _one_target(self) -> AddIn:
        if (self.episode_ids is None) == (self.series_key is None):
            raise ValueError("give either episode_ids or series_key")
        return self


class AddOut(BaseModel):
    added: int
    item_ids: list[int]
    already_queued: list[int] = Field(description="Episode ids that were already queued.")
    skipped_no_candidates: int = Field(
        0, description="With series_key: episodes not queued for want of a download candidate."
    )


class RetryIn(BaseModel):
    item_ids: list[RowId] | None = Field(None, description="Items to retry; all failed if absent.")


class MoveIn(BaseModel):
    direction: Literal["up", "down"] = Field(
        description="Ahead of the item before it, or behind the one after."
    )


class StateOut(BaseModel):
    state: str


@router.get("/status")
async def get_status(
    ctx: CtxDep,
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(50, ge=1, le=500),
) -> dict[str, Any]:
    """Counts per state, the global state, active items with progress, queued items paged."""
    return await service.status(ctx, offset=offset, limit=limit)


@router.post("/add", status_code=201)
async def add(body: AddIn, ctx: CtxDep) -> AddOut:
    """Queue episodes by id, or a series' missing episodes."""
    if body.series_key is not None:
        result = await service.enqueue_series(
            ctx, body.series_key, missing=body.missing, priority=body.priority
        )
    else:
        result = await service.enqueue_episodes(ctx, body.episode_ids or [], priority=body.priority)
    return AddOut(
        added=len(result.item_ids),
        item_ids=result.item_ids,
        already_queued=result.already_active,
        skipped_no_candidates=len(result.skipped_no_candidates),
    )


@router.delete("/completed")
async def clear(ctx: CtxDep) -> dict[str, int]:
    """Remove completed and cancelled items (their history stays)."""
    return {"removed": await service.clear_completed(ctx)}


@router.delete("/{item_id}")
async def remove(item_id: RowIdPath, ctx: CtxDep) -> dict[str, Any]:
    """Cancel the item if it is queued or downloading, else remove it."""
    return {"id": item_id, "action": await service.remove_item(ctx, item_id)}


@router.post("/start")
async def start(ctx: CtxDep) -> StateOut:
    """Run the queue."""
    return StateOut(state=await service.apply(ctx, "start"))


@router.post("/stop")
async def stop(ctx: CtxDep) -> StateOut:
    """Stop the queue: running downloads are interrupted and resume after start."""
    return StateOut(state=await service.apply(ctx, "stop"))


@router.post("/pause")
async def pause(ctx: CtxDep) -> StateOut:
    """Start no new downloads; running ones finish."""
    return StateOut(state=await service.apply(ctx, "pause"))


@router.post("/resume")
async def resume(ctx: CtxDep) -> StateOut:
    """Run the queue again after a pause (or a stop)."""
    return StateOut(state=await service.apply(ctx, "resume"))


@router.post("/retry")
async def retry(ctx: CtxDep, body: RetryIn | None = None) -> dict[str, list[int]]:
    """Queue failed items again: the given ones, or every failed item."""
    ids = body.item_ids if body is not None else None
    return {"retried": await service.retry_items(ctx, ids)}


@router.post("/{item_id}/move")
async def move(item_id: RowIdPath, body: MoveIn, ctx: CtxDep) -> dict[str, int]:
    """Move a queued item one place up or down (changes its priority)."""
    return {"id": item_id, "priority": await service.move_item(ctx, item_id, body.direction)}


@router.post("/add-missing", status_code=201)
async def add_missing(ctx: CtxDep) -> dict[str, int]:
    """Queue every missing episode of the library (those with a download candidate)."""
    return {"added": await service.enqueue_missing(ctx)}
