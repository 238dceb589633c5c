"""The metadata tests' local site (TMDB-shaped API, images, feeds) and a running app.

Every test here also checks that no aiohttp session was left unclosed.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.events import Subscription
from tests.conftest import complete_setup
from tests.metadata_site import API_KEY, MetaSite, jpeg, png


@pytest.fixture(autouse=True)
def _no_unclosed_sessions(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    gc.collect()
    leaked = [r.getMessage() for r in caplog.records if "Unclosed" in r.getMessage()]
    assert not leaked, leaked


@pytest.fixture
async def site() -> AsyncIterator[MetaSite]:
    state = await MetaSite().start()
    state.put("/art/cover.jpg", png(600, 600, alpha=False), "image/png")  # a PNG named .jpg
    for n in (1, 2, 3):
        state.put(f"/art/ep{n}.jpg", jpeg(320, 180, (n * 60, 20, 20)), "image/jpeg")
    yield state
    await state.close()


def with_tmdb(settings: Settings, site: MetaSite, key: str | None = API_KEY) -> Settings:
    from pydantic import SecretStr

    return settings.model_copy(
        update={
            "tmdb_api_key": SecretStr(key) if key else None,
            "tmdb_base_url": site.tmdb_url,
        }
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[AppContext, httpx.AsyncClient]]:
    """The real app (services started) and an authenticated client for it."""
    from showkeeper.web.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert settings.library_dir is not None
            client.headers["X-Api-Key"] = await complete_setup(client, settings.library_dir)
            yield app.state.ctx, client


async def metadata_done(sub: Subscription, key: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The metadata loader's events for ``key`` up to its completed (or failed) one."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        async for event in sub:
            data = event.data
            if data.get("key") != key:
                continue
            if data.get("phase") != "metadata":
                if data.get("status") == "failed":  # the source itself could not be read
                    raise AssertionError(f"the source load of {key} failed: {data}")
                continue
            seen.append(data)
            if data["status"] in ("completed", "failed"):
                return seen
    raise AssertionError(f"no end of the metadata load of {key}: {seen}")


def library_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
