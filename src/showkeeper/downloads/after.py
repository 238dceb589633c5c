"""What happens after a download, in order. This is the one list; docs/ARCHITECTURE.md
repeats it.

The worker has a verified file at its final name in the library. Then:

1. **record** (:func:`after_download`, here): :func:`showkeeper.downloads.finish.complete`
   marks the episode downloaded (path, size) and the item completed and writes its history
   row, in one transaction, and only while this worker still holds the item's lease. If it
   does not (the item was cancelled or reclaimed while the last bytes arrived) the cancel
   wins: the worker removes the file and nothing below happens.
2. **announce** (here): one ``download_complete`` event on the bus (item, episode, series,
   path, size, method), then ``queue_status`` ``completed``. Everything below reacts to that
   event, in its own service, so a slow or failing step never holds up the queue.
3. **describe**: :class:`showkeeper.metadata.hook.NfoWriter` writes the episode's NFO and
   ``tvshow.nfo`` when it is missing (artwork joins this step).
4. **retain**: :class:`showkeeper.library.retention.RetentionKeeper` runs the series'
   retention rule (unconfirmed, so the safety floor holds): what it no longer keeps is marked
   ignored, written to the history with its size, and deleted with its NFO and thumbnails.
5. **notify**: :class:`showkeeper.notifications.Notifier` batches an apprise message when
   ``notify_on_complete`` is on.
6. **count**: :class:`showkeeper.metrics.Metrics` adds to the downloads and bytes counters.
7. **show**: :class:`showkeeper.web.ws.WsHub` sends the event to the browsers in the
   ``downloads`` room.

On PostgreSQL, :class:`showkeeper.events_pg.PgEventBridge` also relays the event to every
other process, whose services run steps 5 to 7 for their own clients. Every process that
downloads runs steps 3 and 4 itself (``showkeeper.services.download_companions``), so a
``showkeeper worker`` writes the NFOs of what it downloaded and keeps its series' rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from showkeeper.downloads import finish

if TYPE_CHECKING:
    from showkeeper.context import AppContext
    from showkeeper.downloads.job import Job
    from showkeeper.downloads.transfer import TransferResult

AFTER_DOWNLOAD_EVENT = "download_complete"


async def after_download(ctx: AppContext, job: Job, result: TransferResult, *, owner: str) -> bool:
    """Steps 1 and 2 for a finished job; False when the item is no longer this worker's."""
    assert job.plan is not None
    file_path = job.plan.relative(result.path)
    recorded = await finish.complete(
        ctx.db,
        job.claim.id,
        owner=owner,
        file_path=file_path,
        size=result.size,
        candidate_url=result.candidate.url,
        track_hosts=job.claim.host_delay_s > 0,
    )
    if not recorded:
        return False
    identity = job.describe()
    ctx.bus.publish(
        AFTER_DOWNLOAD_EVENT,
        **identity,
        file_path=file_path,
        size=result.size,
        method=result.method,
    )
    ctx.bus.publish("queue_status", action="completed", item_ids=[job.claim.id], **identity)
    return True
