"""The services each kind of process runs: the composition root of the background work.

``open_context(settings, services=build_services)`` starts the server's; the CLI's
foreground download commands and `showkeeper worker` use :func:`download_companions` (plus
their own worker pool). The lifespan starts the services in order and stops them in reverse.
Code that needs a running service asks the context by type: ``ctx.service(WorkerPool)``.

Each factory imports its services itself: a process that downloads never loads the web
framework, the metrics, the notifications or the scheduler only the server runs (their
libraries are most of a download command's memory otherwise).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from showkeeper.context import AppContext, Service

if TYPE_CHECKING:
    from showkeeper.automation.scheduler import Clock, Scheduler
    from showkeeper.metrics import Metrics


def build_services(ctx: AppContext) -> list[Service]:
    """The server's services, in start order."""
    from showkeeper.downloads.worker import WorkerPool
    from showkeeper.library.rename import RenameRecovery
    from showkeeper.shared_settings import SharedSettingsSync
    from showkeeper.sources.recovery import SourceLoadRecovery

    services: list[Service] = [*pg_event_bridge(ctx)]  # first: subscribed before any publish
    # the API process publishes its config.json's shared settings for the workers
    services.append(SharedSettingsSync(ctx, publish=True))
    services.append(SourceLoadRecovery(ctx))
    services.append(RenameRecovery(ctx))  # before anything reads the library's paths
    services.extend(_server_services(ctx))
    services.extend(download_companions(ctx, bridge=False, sync=False))  # before workers finish
    if ctx.settings.download_workers_in_server:
        services.append(WorkerPool(ctx))
    return services


def download_companions(
    ctx: AppContext, *, bridge: bool = True, sync: bool = True
) -> list[Service]:
    """What every process that downloads runs beside its workers (server, `worker`, `download`):
    the event bridge, the shared settings (before the workers claim anything), the NFO writer.

    The server passes bridge=False and sync=False: it already runs both first.
    """
    from showkeeper.downloads.diskguard import DiskGuard
    from showkeeper.library.retention import RetentionKeeper
    from showkeeper.metadata.hook import NfoWriter
    from showkeeper.shared_settings import SharedSettingsSync

    return [
        *(pg_event_bridge(ctx) if bridge else []),
        *([SharedSettingsSync(ctx)] if sync else []),
        NfoWriter(ctx),
        RetentionKeeper(ctx),
        DiskGuard(ctx),
    ]


def pg_event_bridge(ctx: AppContext) -> list[Service]:
    """The cross-process event bridge, on PostgreSQL only (one process owns a SQLite file)."""
    if ctx.db.is_sqlite:
        return []
    from showkeeper.events_pg import PgEventBridge

    return [PgEventBridge(ctx)]


def _server_services(ctx: AppContext) -> list[Service]:
    """Metrics, notifications and the WebSocket hub subscribe before anything publishes;
    the scheduler (when enabled) reports its job durations to the metrics."""
    from showkeeper.automation.commands import CommandTracker
    from showkeeper.library.mediainfo import MediaInfoCache
    from showkeeper.metadata.loader import MetadataLoader
    from showkeeper.metrics import Metrics
    from showkeeper.notifications import Notifier
    from showkeeper.web.arr.cache import for_database as answers_cache
    from showkeeper.web.ws import WsHub

    metrics = Metrics(ctx)
    out: list[Service] = [metrics, Notifier(ctx), WsHub(ctx.bus), MetadataLoader(ctx)]
    # the Sonarr v3 API's commands, ffprobe results and polled answers
    out += [CommandTracker(ctx), MediaInfoCache(), answers_cache(ctx.bus, ctx.db.url)]
    if ctx.settings.scheduler_enabled:
        out.append(make_scheduler(ctx, metrics))
    return out


def make_scheduler(ctx: AppContext, metrics: Metrics, *, clock: Clock | None = None) -> Scheduler:
    """The scheduler with its real jobs, reporting job durations to the metrics."""
    from showkeeper.automation.scheduler import Scheduler

    scheduler = Scheduler(ctx, clock=clock)
    scheduler.listeners.append(metrics.on_job)
    return scheduler
