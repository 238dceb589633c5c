"""Importing many feeds at once from an OPML subscription list."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from showkeeper.context import AppContext
from showkeeper.errors import ConflictError, ShowkeeperError
from showkeeper.logging import get_logger
from showkeeper.sources.opml import parse_opml
from showkeeper.sources.service import load_series, register_series

log = get_logger(__name__)


@dataclass(slots=True)
class OpmlImport:
    """Per feed of the file: registered (key), already present, or refused (error)."""

    added: list[dict[str, str]] = field(default_factory=list)
    existing: list[dict[str, str]] = field(default_factory=list)
    invalid: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    """Filled only by a foreground import: registered, but loading failed."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "existing": self.existing,
            "invalid": self.invalid,
            "failed": self.failed,
        }


async def import_opml(ctx: AppContext, data: bytes, *, background: bool = True) -> OpmlImport:
    """Register every feed of an OPML file, then load them within the refresh limits
    (source_refresh_concurrency at once, source_per_host_concurrency per host).

    With ``background`` the loads run in one spawned task and this returns at once;
    otherwise it waits and reports failed loads in ``failed``.

    Raises:
        OpmlError: the file is not an OPML subscription list.
    """
    feeds = parse_opml(data)
    report = OpmlImport()
    keys: list[tuple[str, str]] = []
    for feed in feeds:
        try:
            row = await register_series(ctx, feed.url, kind="feed", title=feed.title or None)
        except ConflictError as exc:
            report.existing.append({"url": feed.url, "detail": str(exc)})
        except ShowkeeperError as exc:
            report.invalid.append({"url": feed.url, "error": str(exc)})
        else:
            keys.append((row.key, row.source_url or feed.url))
            report.added.append({"url": feed.url, "key": row.key, "title": feed.title or ""})
    if background:
        ctx.spawn(_load_all(ctx, keys, report), name="import-opml")
    else:
        await _load_all(ctx, keys, report)
    return report


async def _load_all(ctx: AppContext, keys: list[tuple[str, str]], report: OpmlImport) -> None:
    """Load each (key, url), as politely as a refresh: the same overall and per-host limits."""
    settings = ctx.settings
    overall = asyncio.Semaphore(settings.source_refresh_concurrency)
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(settings.source_per_host_concurrency)
    )

    async def one(key: str, url: str) -> None:
        async with per_host[(urlsplit(url).hostname or "").lower()], overall:
            try:
                await load_series(ctx, key)
            except ShowkeeperError as exc:
                report.failed.append({"key": key, "error": str(exc)})

    await asyncio.gather(*(one(key, url) for key, url in keys))
