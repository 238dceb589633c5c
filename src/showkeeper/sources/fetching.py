"""Fetching for sources: the guarded client, an overall deadline, errors a user can read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from showkeeper.config import Settings
from showkeeper.net import FetchResult, HttpClient, OutboundError, OutboundTimeoutError
from showkeeper.sources.base import SourceEnv, SourceFetchError

# A whole fetch (all redirects, retries and the body) may take this many read timeouts.
DEADLINE_FACTOR = 4


def make_client(settings: Settings, *, concurrency: int | None = None) -> HttpClient:
    """The HTTP client sources use: the settings' networks, timeouts and per-host limit."""
    per_host = settings.source_per_host_concurrency
    total = max(concurrency or settings.source_refresh_concurrency, per_host)
    return HttpClient(
        allowed_networks=settings.allowed_private_networks,
        per_host_limit=per_host,
        total_limit=total,
        connect_timeout=min(10.0, settings.source_timeout_s),
        read_timeout=settings.source_timeout_s,
    )


@asynccontextmanager
async def source_env(
    settings: Settings, *, concurrency: int | None = None
) -> AsyncIterator[SourceEnv]:
    """Open a client and yield the environment sources work in."""
    async with make_client(settings, concurrency=concurrency) as client:
        yield SourceEnv(client=client, settings=settings)


async def fetch(
    env: SourceEnv,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int | None = None,
) -> FetchResult:
    """GET ``url`` through the guarded client within an overall deadline.

    Raises:
        SourceFetchError: any network, guard, status, size or timeout problem, with the
            client's message (what happened, what to do).
    """
    if etag is None and last_modified is None:
        cached = env.prefetched.pop(url, None)
        if cached is not None:
            return cached
    timeout = env.settings.source_timeout_s
    try:
        async with asyncio.timeout(timeout * DEADLINE_FACTOR):
            return await env.client.fetch(
                url,
                etag=etag,
                last_modified=last_modified,
                max_bytes=max_bytes or env.max_bytes,
            )
    except OutboundError as exc:
        raise SourceFetchError(str(exc)) from None
    except TimeoutError:
        late = OutboundTimeoutError(url, phase="fetching", timeout=timeout * DEADLINE_FACTOR)
        raise SourceFetchError(str(late)) from None
