"""Prometheus metrics: fed by bus events (a service) and by database counts at scrape time.

Each app has its own CollectorRegistry (never the process-global one), so two apps in one
process (tests) do not mix their numbers.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, select

from showkeeper.context import AppContext
from showkeeper.db.models import QueueItem, Series
from showkeeper.events import BusConsumer, Subscription
from showkeeper.series.missing import count_missing

QUEUE_STATES = ("queued", "downloading", "completed", "failed", "cancelled")
_DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
_EVENTS = (
    "download_complete",
    "download_failed",
    "scan_complete",
    "scan_failed",
    "series_loading_update",
    "episodes_added",
)


def _number(data: dict[str, Any], *names: str) -> float | None:
    for name in names:
        value = data.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


class Metrics(BusConsumer):
    """Service: counts events as they happen; `render()` adds database gauges."""

    name = "metrics"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx.bus, types=_EVENTS, maxsize=10_000)
        self.ctx = ctx
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.downloads = Counter(
            "showkeeper_downloads", "Downloads finished, by outcome.", ["state"], registry=r
        )
        self.bytes = Counter(
            "showkeeper_downloaded_bytes", "Bytes of finished downloads.", registry=r
        )
        self.source_errors = Counter(
            "showkeeper_source_errors", "Series whose source could not be read.", registry=r
        )
        self.scans = Counter(
            "showkeeper_scans", "Library scans, by outcome.", ["status"], registry=r
        )
        self.episodes_added = Counter(
            "showkeeper_episodes_added", "New episodes found at sources.", registry=r
        )
        self.scan_duration = Histogram(
            "showkeeper_scan_duration_seconds",
            "Library scan duration.",
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.refresh_duration = Histogram(
            "showkeeper_refresh_duration_seconds",
            "Duration of a refresh of all sources.",
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.job_duration = Histogram(
            "showkeeper_job_duration_seconds",
            "Scheduled job duration.",
            ["job", "status"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.queue = Gauge(
            "showkeeper_queue_items", "Queue rows by status.", ["status"], registry=r
        )
        self.queue_length = Gauge(
            "showkeeper_queue_length", "Downloads queued or running.", registry=r
        )
        self.series = Gauge("showkeeper_series", "Series in the library.", registry=r)
        self.missing = Gauge("showkeeper_episodes_missing", "Episodes missing.", registry=r)

    async def consume(self, sub: Subscription) -> None:
        async for event in sub:
            self.observe(event.type, event.data)

    def observe(self, type_: str, data: dict[str, Any]) -> None:
        if type_ == "download_complete":
            self.downloads.labels("completed").inc()
            size = _number(data, "size", "bytes", "total_bytes", "downloaded_bytes")
            if size:
                self.bytes.inc(size)
        elif type_ == "download_failed":
            self.downloads.labels("failed").inc()
        elif type_ in ("scan_complete", "scan_failed"):
            self.scans.labels("ok" if type_ == "scan_complete" else "failed").inc()
            duration = _number(data, "duration_s", "elapsed_s", "seconds")
            if duration is not None:
                self.scan_duration.observe(duration)
        elif type_ == "series_loading_update" and data.get("status") == "failed":
            self.source_errors.inc()
        elif type_ == "episodes_added":
            self.episodes_added.inc(_number(data, "count", "added", "episodes") or 1)

    def on_job(self, job: str, duration_s: float, ok: bool) -> None:
        """Scheduler listener."""
        self.job_duration.labels(job, "ok" if ok else "failed").observe(duration_s)
        if job == "refresh" and ok:
            self.refresh_duration.observe(duration_s)

    async def render(self) -> bytes:
        """The exposition text, with queue and library counts read now."""
        async with self.ctx.db.session() as s:
            rows = await s.execute(
                select(QueueItem.status, func.count()).group_by(QueueItem.status)
            )
            by_status: dict[str, int] = {status: count for status, count in rows}
            series = (await s.execute(select(func.count()).select_from(Series))).scalar_one()
            missing = await count_missing(s)
        for status in set(QUEUE_STATES) | set(by_status):
            self.queue.labels(status).set(by_status.get(status, 0))
        self.queue_length.set(by_status.get("queued", 0) + by_status.get("downloading", 0))
        self.series.set(series)
        self.missing.set(missing)
        return generate_latest(self.registry)
