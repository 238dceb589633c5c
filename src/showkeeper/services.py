"""The background services the server runs (scheduler, download workers, ...).

Each feature adds its service here; the lifespan starts them in order and stops
them in reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from showkeeper.context import AppContext, Service


def build_services(ctx: AppContext) -> list[Service]:
    services: list[Service] = [*pg_event_bridge(ctx)]  # first: subscribed before any publish
    from showkeeper.sources.recovery import SourceLoadRecovery

    services.append(SourceLoadRecovery(ctx))
    services.extend(_server_services(ctx))
    services.extend(download_companions(ctx, bridge=False))  # before workers complete anything
    if ctx.settings.download_workers_in_server:
        from showkeeper.downloads.worker import WorkerPool

        services.append(WorkerPool(ctx))
    return services


def download_companions(ctx: AppContext, *, bridge: bool = True) -> list[Service]:
    """What every process that downloads runs beside its workers (server, `worker`, `download`).

    The server passes bridge=False: it already runs the event bridge first.
    """
    from showkeeper.metadata.hook import NfoWriter

    return [*(pg_event_bridge(ctx) if bridge else []), NfoWriter(ctx)]


def pg_event_bridge(ctx: AppContext) -> list[Service]:
    """The cross-process event bridge, on PostgreSQL only (one process owns a SQLite file)."""
    if ctx.db.is_sqlite:
        return []
    from showkeeper.events_pg import PgEventBridge

    return [PgEventBridge(ctx)]


def _server_services(ctx: AppContext) -> list[Service]:
    """Metrics, notifications and the WebSocket hub subscribe before anything publishes;
    the scheduler (when enabled) reports its job durations to the metrics."""
    from showkeeper.metrics import Metrics
    from showkeeper.notifications import Notifier
    from showkeeper.web.ws import WsHub

    metrics = Metrics(ctx)
    out: list[Service] = [metrics, Notifier(ctx), WsHub(ctx.bus)]
    if ctx.settings.scheduler_enabled:
        from showkeeper.automation.scheduler import Scheduler

        scheduler = Scheduler(ctx)
        scheduler.listeners.append(metrics.on_job)
        out.append(scheduler)
    return out


def find_service(ctx: AppContext, name: str) -> Any:
    """The running service called name, or None."""
    return next((s for s in ctx.services if s.name == name), None)
