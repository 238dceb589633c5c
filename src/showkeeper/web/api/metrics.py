"""Prometheus /metrics (behind authentication unless metrics_public)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from showkeeper.errors import ShowkeeperError
from showkeeper.metrics import Metrics
from showkeeper.web.deps import CtxDep

router = APIRouter(tags=["metrics"])


class MetricsOff(ShowkeeperError):
    status_code = 503


@router.get("/metrics", response_class=Response)
async def metrics(ctx: CtxDep) -> Response:
    """Downloads, bytes, queue, scan and refresh durations, source errors."""
    service = ctx.service(Metrics)
    if service is None:
        raise MetricsOff("metrics are not collected in this process (services are off)")
    return Response(await service.render(), media_type=CONTENT_TYPE_LATEST)
