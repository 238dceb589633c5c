"""The disk space guard on a real small tmpfs: a download that would eat into the reserve
pauses the queue (the reason in /health), and the queue resumes by itself once space returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db.models import QueueItem
from showkeeper.downloads import control
from showkeeper.web.app import create_app
from tests.conftest import complete_setup
from tests.integration.downloads.queue_support import add_series, wait_until
from tests.integration.downloads.servers import MediaServer, Resource, media_bytes
from tests.integration.downloads.tmpfs import tmpfs

MiB = 1024 * 1024


@pytest.fixture
def small_library(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "small", "8m") as mount_point:
        yield mount_point


@pytest.fixture
async def guarded_api(settings: Settings, small_library: Path) -> AsyncIterator[Any]:
    """The real app with its worker pool, the library on the tmpfs, a reserve of 3 MiB."""
    app = create_app(
        settings.model_copy(
            update={
                "library_dir": small_library,
                "download_workers_in_server": True,
                "disk_reserve_gib": 3 / 1024,
            }
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.headers["X-Api-Key"] = await complete_setup(client, small_library)
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_the_queue_pauses_for_space_and_resumes(
    guarded_api: Any, server: MediaServer, small_library: Path
) -> None:
    ctx = guarded_api.app.state.ctx
    body = media_bytes(2 * MiB)  # real media: only that is filed
    url = server.add("/e1.mp4", Resource(body, content_type="video/mp4"))
    [episode_id] = await add_series(
        ctx.db, "show", [(1, 1, [{"url": url, "size": len(body)}])], name="Show"
    )
    filler = small_library / "filler.bin"
    filler.write_bytes(b"\0" * (4 * MiB))  # 4 MiB free < 2 MiB + 3 MiB reserve

    resp = await guarded_api.post("/api/queue/add", json={"episode_ids": [episode_id]})
    assert resp.status_code == 201, resp.text

    async def paused() -> bool:
        check = (await guarded_api.get("/health")).json()["checks"]["queue"]
        return check["status"] == "warning"

    await wait_until(paused, timeout=30)
    health = (await guarded_api.get("/health")).json()
    reason = health["checks"]["queue"]["message"]
    assert reason.startswith(f"not enough free space on {small_library}")
    assert "the queue resumes by itself" in reason
    assert health["checks"]["queue"]["paused_by"] == "disk_guard"
    assert await control.get_state(ctx.db) == "paused"
    async with ctx.db.session() as s:
        item = await s.scalar(select(QueueItem))
    assert item is not None and item.status == "queued" and item.attempts == 0
    assert sorted(p.name for p in small_library.rglob("*") if p.is_file()) == ["filler.bin"]

    filler.unlink()  # space returns: the guard resumes the queue, the download runs

    async def downloaded() -> bool:
        async with ctx.db.session() as s:
            status = await s.scalar(select(QueueItem.status))
        return status == "completed"

    await wait_until(downloaded, timeout=30)
    files = [p for p in small_library.rglob("*.mp4")]
    assert len(files) == 1 and files[0].read_bytes() == body
    assert await control.get_state(ctx.db) == "running"
    assert (await guarded_api.get("/health")).json()["checks"]["queue"]["status"] == "ok"


async def test_a_user_pause_is_not_resumed_by_the_guard(
    guarded_api: Any, small_library: Path
) -> None:
    from showkeeper.downloads.diskguard import resume_if_space

    ctx = guarded_api.app.state.ctx
    assert (await guarded_api.post("/api/queue/pause")).status_code == 200
    assert await resume_if_space(ctx) is False
    assert await control.get_state(ctx.db) == "paused"
