"""The download worker pool: claims queue items and runs the transfer engine on them.

One pool per process (the server's, a `showkeeper worker`, or a foreground
`showkeeper download`). Limits: ``download_concurrency`` transfers at once in this pool;
per source host ``download_per_host_concurrency`` at once and ``download_per_host_delay_s``
after each start or finish, both enforced by the claim over all pools sharing the database.
A host that answers 429/503 or keeps timing out gets its limit halved and a pause
(downloads/politeness.py), recovering per ``download_host_recovery_s``.

Every item is claimed with a lease that a heartbeat renews every couple of seconds (which
also stores progress). An item the heartbeat no longer holds was cancelled or reclaimed:
its transfer is stopped and nothing is recorded for it. The queue state in the database
(running / paused / stopped) is re-read on every tick, so every process obeys it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from showkeeper.db.models import Episode, QueueItem
from showkeeper.domain.queue_rules import claims_allowed, transfers_allowed
from showkeeper.downloads import claim, control, finish, politeness, queue
from showkeeper.downloads.after import after_download
from showkeeper.downloads.diskguard import check_space
from showkeeper.downloads.job import Job, make_owner
from showkeeper.downloads.liveness import NO_LIBRARY, WorkerLiveness, set_waiting
from showkeeper.downloads.plan import PlanError, plan_for
from showkeeper.logging import get_logger
from showkeeper.net import HttpClient

if TYPE_CHECKING:
    from showkeeper.context import AppContext
    from showkeeper.downloads.transfer import TransferProgress, TransferResult

log = get_logger(__name__)

PROGRESS_EVENT_INTERVAL_S = 0.25
HEARTBEAT_MAX_INTERVAL_S = 2.0
SHUTDOWN_GRACE_S = 10.0


class WorkerPool:
    """The download workers of one process; a Service (start() / stop()).

    Args:
        ctx: The application context (settings are re-read from it on every use).
        concurrency: Transfers at once; default ``settings.download_concurrency``.
        item_ids: Only work on these items (a foreground ``showkeeper download``).
        poll_interval_s: How often the database is checked for new work and state changes
            (in-process changes wake the pool at once through the event bus).
    """

    name = "download-workers"

    def __init__(
        self,
        ctx: AppContext,
        *,
        concurrency: int | None = None,
        item_ids: Collection[int] | None = None,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.ctx = ctx
        self.owner = make_owner()
        self.concurrency = concurrency
        self.item_ids = sorted(set(item_ids)) if item_ids is not None else None
        self.poll_interval_s = poll_interval_s
        self.jobs: dict[int, Job] = {}
        self._client: HttpClient | None = None
        self._wake = asyncio.Event()
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._liveness = WorkerLiveness(ctx.db, self.owner)
        self.waiting: str | None = None
        """Why this pool claims nothing right now (None: it is working)."""

    # -- service ---------------------------------------------------------------------------

    async def start(self) -> None:
        settings = self.ctx.settings
        client = HttpClient(
            allowed_networks=settings.allowed_private_networks,
            per_host_limit=max(8, 2 * settings.download_connections),
        )
        self._client = await client.__aenter__()
        await self._liveness.hold()  # before the first claim: others see this pool alive
        subscription = self.ctx.bus.subscribe(types={"queue_status"}, maxsize=10_000)
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="download-workers:claim"),
            asyncio.create_task(self._heartbeat_loop(), name="download-workers:heartbeat"),
            asyncio.create_task(self._listen(subscription), name="download-workers:events"),
        ]
        log.info("download workers started", owner=self.owner, concurrency=self._limit())

    async def stop(self) -> None:
        """Stop every transfer, give its item back to the queue, and end all tasks."""
        self._closing = True
        self._wake.set()
        for job in list(self.jobs.values()):
            job.stop("shutdown")
        running = [j.task for j in self.jobs.values() if j.task is not None]
        if running:
            _, pending = await asyncio.wait(running, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        leftover = [j.claim.id for j in self.jobs.values()]
        if leftover:  # tasks that did not stop in time: their items go back to the queue
            await queue.release(self.ctx.db, leftover, owner=self.owner)
        self.jobs.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        await self._liveness.release()
        if self.waiting is not None:
            await set_waiting(self.ctx.db, self.owner, None)
        log.info("download workers stopped", owner=self.owner)

    def progress_of(self, item_id: int) -> TransferProgress | None:
        """The latest progress of a transfer running in this pool."""
        job = self.jobs.get(item_id)
        return job.progress if job is not None else None

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    # -- loops -----------------------------------------------------------------------------

    def _limit(self) -> int:
        return self.concurrency or self.ctx.settings.download_concurrency

    async def _claim_loop(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("download worker tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)

    async def _tick(self) -> None:
        state = await control.get_state(self.ctx.db)
        if not transfers_allowed(state):
            for job in list(self.jobs.values()):
                job.stop("stopped")
        if self._closing:
            return
        if not claims_allowed(state):
            await claim.reclaim_expired(self.ctx.db)  # a crashed worker's items: queued again
            return
        transferring = [job for job in self.jobs.values() if not job.received]
        free = self._limit() - len(transferring)
        if free <= 0:
            return
        settings = self.ctx.settings
        if not await self._library_ready(settings.library_dir is not None):
            return  # nothing is claimed, so no item fails for want of a folder
        claims = await claim.claim_batch(
            self.ctx.db,
            owner=self.owner,
            limit=free,
            lease_s=settings.download_lease_s,
            per_host_limit=settings.download_per_host_concurrency,
            per_host_delay_s=settings.download_per_host_delay_s,
            recovery_s=settings.download_host_recovery_s,
            item_ids=self.item_ids,
            releasing=Counter(
                job.claim.source_host
                for job in self.jobs.values()
                if job.received and job.claim.source_host is not None
            ),
        )
        for claimed in claims:
            job = Job(claimed)
            self.jobs[claimed.id] = job
            job.task = asyncio.create_task(self._run(job), name=f"download:{claimed.id}")
        if claims and settings.download_per_host_delay_s > 0:
            self._wake_later(settings.download_per_host_delay_s)

    async def _library_ready(self, ready: bool) -> bool:
        """Without a library folder the pool waits (shared settings bring one within seconds)
        and says so: in its log once, and in the database for the API's /health."""
        if ready == (self.waiting is None):
            return ready
        if ready:
            log.info("library folder set; downloading again", owner=self.owner)
            self.waiting = None
        else:
            self.waiting = NO_LIBRARY
            log.warning(NO_LIBRARY, owner=self.owner)
        await set_waiting(self.ctx.db, self.owner, self.waiting)
        return ready

    def _wake_later(self, delay_s: float) -> None:
        asyncio.get_running_loop().call_later(delay_s + 0.01, self._wake.set)

    async def _heartbeat_loop(self) -> None:
        while True:
            interval = min(HEARTBEAT_MAX_INTERVAL_S, self.ctx.settings.download_lease_s / 3)
            await asyncio.sleep(interval)
            try:
                await self._beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("download heartbeat failed; retrying")

    async def _beat(self) -> None:
        jobs = dict(self.jobs)
        if not jobs:
            return
        progress = {
            item_id: (job.progress.downloaded_bytes, job.progress.total_bytes)
            for item_id, job in jobs.items()
            if job.progress is not None
        }
        held = await queue.heartbeat(
            self.ctx.db,
            owner=self.owner,
            item_ids=list(jobs),
            lease_s=self.ctx.settings.download_lease_s,
            progress=progress,
        )
        lost = [item_id for item_id in jobs if item_id not in held]
        if not lost:
            return
        async with self.ctx.db.session() as s:
            rows = await s.execute(
                select(QueueItem.id, QueueItem.status).where(QueueItem.id.in_(lost))
            )
            statuses = {item_id: status for item_id, status in rows}
        for item_id in lost:
            job = jobs[item_id]
            if self.jobs.get(item_id) is not job or job.reason is not None:
                continue  # it finished or is stopping meanwhile
            cancelled = statuses.get(item_id) in (None, "cancelled")
            log.warning("download no longer held; stopping it", item_id=item_id)
            job.stop("cancelled" if cancelled else "lost")

    async def _listen(self, subscription: Any) -> None:
        with subscription:
            async for event in subscription:
                if event.data.get("action") == "cancelled":
                    for item_id in event.data.get("item_ids", ()):
                        job = self.jobs.get(item_id)
                        if job is not None:
                            job.stop("cancelled")
                self._wake.set()

    # -- one item ----------------------------------------------------------------------------

    def _publish(self, type_: str, job: Job, **data: Any) -> None:
        self.ctx.bus.publish(type_, **job.describe(), **data)

    def _status(self, action: str, job: Job, **data: Any) -> None:
        self.ctx.bus.publish(
            "queue_status", action=action, item_ids=[job.claim.id], **job.describe(), **data
        )

    def _received(self, job: Job) -> None:
        """The job's bytes are in: the next download (of its host too) may start now, unless
        the host has a politeness delay, which runs from the finish."""
        self._publish("download_received", job)
        if job.claim.host_delay_s > 0:
            return
        job.received = True
        self._wake.set()

    def _on_progress(self, job: Job, report: TransferProgress) -> None:
        job.progress = report
        now = time.monotonic()
        if now - job.last_event >= PROGRESS_EVENT_INTERVAL_S:
            job.last_event = now
            self._publish(
                "download_progress",
                job,
                bytes=report.downloaded_bytes,
                total=report.total_bytes,
                speed=report.speed_bps,
                eta=report.eta_s,
            )

    async def _run(self, job: Job) -> None:
        from showkeeper.downloads.engine import download
        from showkeeper.downloads.transfer import DiskFullError, TransferCancelled, TransferError

        settings = self.ctx.settings
        try:
            try:
                job.plan = await plan_for(self.ctx.db, settings, job.claim.episode_id)
            except PlanError as exc:
                await self._fail(job, str(exc), permanent=True)
                return
            if await check_space(self.ctx, job.plan) is not None:  # the queue is paused now
                await self._give_back(job, "disk_space")
                return
            self._status("started", job)
            assert self._client is not None
            try:
                result = await download(
                    job.plan.candidates,
                    job.plan.dest,
                    client=self._client,
                    settings=settings,
                    on_progress=lambda report: self._on_progress(job, report),
                    cancel=job.cancel,
                    label=job.plan.label,
                    on_received=lambda: self._received(job),
                )
            finally:
                # from here the row may leave `downloading` at any await: counted as held
                # again, so a claim never subtracts it twice (released here, gone there)
                job.received = False
        except TransferCancelled:
            await self._after_stop(job)
        except DiskFullError as exc:
            await self._fail(job, str(exc), permanent=True)
        except TransferError as exc:
            await self._fail(job, str(exc), troubles=politeness.troubles_of(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("download failed unexpectedly", item_id=job.claim.id)
            await self._fail(job, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            await self._complete(job, result)
        finally:
            if self.jobs.get(job.claim.id) is job and not _was_cancelled():
                del self.jobs[job.claim.id]
            self._wake.set()
            if settings.download_per_host_delay_s > 0 and not self._closing:
                self._wake_later(settings.download_per_host_delay_s)

    async def _complete(self, job: Job, result: TransferResult) -> None:
        """The steps after a download are listed in showkeeper.downloads.after."""
        if not await after_download(self.ctx, job, result, owner=self.owner):
            # The item was cancelled (or reclaimed) while the last bytes arrived: the cancel wins.
            await self._discard_finished_file(job, result)

    async def _discard_finished_file(self, job: Job, result: TransferResult) -> None:
        async with self.ctx.db.session() as s:
            status = await s.scalar(select(QueueItem.status).where(QueueItem.id == job.claim.id))
            downloaded = await s.scalar(
                select(Episode.is_downloaded).where(Episode.id == job.claim.episode_id)
            )
        if status in (None, "cancelled") and not downloaded:
            log.info("removing a download that finished after its cancel", path=str(result.path))
            result.path.unlink(missing_ok=True)

    async def _give_back(self, job: Job, reason: str) -> None:
        released = await queue.release(
            self.ctx.db,
            [job.claim.id],
            owner=self.owner,
            track_hosts=job.claim.host_delay_s > 0,
        )
        if released:
            self._status("released", job, reason=reason)

    async def _after_stop(self, job: Job) -> None:
        from showkeeper.downloads import files

        if job.reason in ("stopped", "shutdown"):
            await self._give_back(job, job.reason)
        elif job.reason == "cancelled" and job.plan is not None:
            files.remove_partials(job.plan.dest)

    async def _fail(
        self,
        job: Job,
        error: str,
        *,
        permanent: bool = False,
        troubles: list[politeness.HostTrouble] | None = None,
    ) -> None:
        """Record a failed attempt; a host that asked to slow down (``troubles``) is limited
        first, and the item waits for its pause."""
        settings = self.ctx.settings
        not_before = None
        if troubles:
            not_before = await politeness.record_troubles(
                self.ctx.db,
                troubles,
                per_host_limit=settings.download_per_host_concurrency,
                recovery_s=settings.download_host_recovery_s,
            )
            if not_before is not None:  # other items of the host may start then
                self._wake_later(max(0.0, not_before.timestamp() - time.time()))
        result = await finish.fail(
            self.ctx.db,
            job.claim.id,
            owner=self.owner,
            error=error,
            permanent=permanent,
            retry_base_s=settings.download_retry_base_s,
            retry_cap_s=settings.download_retry_max_s,
            track_hosts=job.claim.host_delay_s > 0,
            not_before=not_before,
        )
        if result.outcome == "failed":
            log.warning("download failed", item_id=job.claim.id, error=error)
            self._publish("download_failed", job, error=error, attempts=result.attempts)
            self._status("failed", job, error=error)
        elif result.outcome == "retry":
            self._status(
                "retry_scheduled",
                job,
                error=error,
                attempts=result.attempts,
                next_attempt_at=result.next_attempt_at.isoformat()
                if result.next_attempt_at
                else None,
            )
            if result.next_attempt_at is not None:
                self._wake_later(max(0.0, result.next_attempt_at.timestamp() - time.time()))


def _was_cancelled() -> bool:
    """Whether the current task is being cancelled (stop() then releases its item)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
