"""One claimed item in a worker pool: its claim, plan, progress and how it was stopped."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from showkeeper.downloads.claim import Claim
from showkeeper.downloads.plan import Plan

if TYPE_CHECKING:
    from showkeeper.downloads.transfer import TransferProgress

StopReason = Literal["cancelled", "stopped", "shutdown", "lost"]
"""cancelled: by a user (partials removed); stopped: queue stopped and shutdown: pool stopping
(item released, partials kept); lost: the lease went to another worker (nothing touched)."""


def make_owner() -> str:
    """A lease owner id unique to this pool: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Job:
    """One claimed item being downloaded by this pool."""

    claim: Claim
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    reason: StopReason | None = None
    plan: Plan | None = None
    progress: TransferProgress | None = None
    last_event: float = 0.0
    task: asyncio.Task[None] | None = None
    received: bool = False
    """Every byte is on disk; what is left (fsync, checks, bookkeeping) needs no connection,
    so the job no longer counts against the pool's or its host's limits."""

    def stop(self, reason: StopReason) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()

    def describe(self) -> dict[str, Any]:
        """The item's identity for events."""
        data: dict[str, Any] = {"item_id": self.claim.id, "episode_id": self.claim.episode_id}
        if self.plan is not None:
            data.update(
                series_key=self.plan.series_key,
                season=self.plan.season,
                episode=self.plan.episode,
                title=self.plan.title,
            )
        return data
