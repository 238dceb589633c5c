"""After a download completes, write the episode's NFO (and tvshow.nfo if missing) and its
thumbnail (when the source or TMDB gave one)."""

from __future__ import annotations

import asyncio

from showkeeper.context import AppContext
from showkeeper.errors import NotFoundError
from showkeeper.events import BusConsumer, Subscription
from showkeeper.logging import get_logger
from showkeeper.metadata.images import write_episode_thumb
from showkeeper.metadata.service import write_episode_nfo

log = get_logger(__name__)


class NfoWriter(BusConsumer):
    """Consumes download_complete events; a failure is logged, never stops the service."""

    name = "nfo-writer"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(ctx.bus, types={"download_complete"})
        self.ctx = ctx

    async def consume(self, sub: Subscription) -> None:
        async for event in sub:
            root = self.ctx.settings.library_dir  # read each time: setup may set it live
            episode_id = event.data.get("episode_id")
            if root is None or not isinstance(episode_id, int):
                continue
            try:
                result = await write_episode_nfo(self.ctx.db, root, episode_id)
            except asyncio.CancelledError:
                raise
            except NotFoundError as exc:  # deleted since: nothing to describe
                log.warning("no NFO after a download", episode_id=episode_id, error=str(exc))
                continue
            except Exception:
                log.exception("writing NFOs after a download failed", episode_id=episode_id)
                continue
            if result.errors:
                log.warning("NFOs after a download", episode_id=episode_id, **result.as_dict())
            try:
                thumbs = await write_episode_thumb(self.ctx.db, self.ctx.settings, root, episode_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("writing a thumbnail after a download failed", episode_id=episode_id)
                continue
            if thumbs.errors:  # the scheduled rescan's repair tries again
                log.warning(
                    "no thumbnail after a download", episode_id=episode_id, errors=thumbs.errors
                )
