"""At server start: series whose loading was cut short by a stop are marked failed."""

from __future__ import annotations

from showkeeper.context import AppContext
from showkeeper.logging import get_logger
from showkeeper.sources.service import recover_interrupted

log = get_logger(__name__)


class SourceLoadRecovery:
    """A start-up step as a service: one UPDATE, so a half-loaded series is never stuck.

    Adds run in the API process, so at its start no load can be in progress.
    """

    name = "source-load-recovery"

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def start(self) -> None:
        count = await recover_interrupted(self.ctx)
        if count:
            log.warning("series loads interrupted by the last stop marked failed", count=count)

    async def stop(self) -> None:
        return None
