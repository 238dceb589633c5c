"""Item 13: settings every process shares live in the database. A `showkeeper worker` started
before setup, with no library folder and no allowed networks of its own, waits (and says so in
its log and in the API's /health) instead of failing items, and starts downloading within
seconds of setup in the API process, with the API process's settings."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db.models import QueueItem
from showkeeper.downloads import service
from tests.conftest import TEST_PASSWORD
from tests.integration.downloads.queue_support import TimedServer, add_series, wait_until
from tests.integration.downloads.servers import media_bytes
from tests.pg import fresh_pg_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def test_a_worker_started_before_setup_waits_then_downloads(
    settings: Settings, tmp_path: Path
) -> None:
    from showkeeper.web.app import create_app

    library = tmp_path / "shared-library"
    api_data = settings.data_dir
    # the API process's own config.json: loopback sources allowed (workers get it from the DB)
    (api_data / "config.json").write_text(json.dumps({"allowed_private_networks": ["127.0.0.0/8"]}))
    async with fresh_pg_database() as db_url, TimedServer() as server:
        api_settings = Settings(
            _env_file=None,
            data_dir=api_data,
            database_url=db_url,
            allowed_private_networks="127.0.0.0/8",
            allowed_hosts="testserver",
            scheduler_enabled=False,
            download_workers_in_server=False,
        )
        app = create_app(api_settings)
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            body = media_bytes(100_000)
            ids = await add_series(
                ctx.db, "shared", [(1, 1, [{"url": server.add("/e.mp4", body)}])]
            )
            [item] = (await service.enqueue_episodes(ctx, ids)).item_ids

            worker_data = tmp_path / "worker-data"
            worker_data.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
            env.update(
                SHOWKEEPER_DATA_DIR=str(worker_data),
                SHOWKEEPER_DATABASE_URL=db_url,
                SHOWKEEPER_SCHEDULER_ENABLED="false",
                SHOWKEEPER_LOG_FORMAT="json",
            )
            log = tmp_path / "worker.log"
            with log.open("wb") as out:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "showkeeper", "worker", env=env, stdout=out, stderr=out
                )
            transport = httpx.ASGITransport(app=app)
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as client:

                    async def health_says_waiting() -> bool:
                        workers = (await client.get("/health")).json()["checks"]["workers"]
                        return "waiting for a library folder" in workers["message"]

                    await wait_until(health_says_waiting, timeout=30)
                    await asyncio.sleep(2)  # it keeps waiting: the item is not failed
                    async with ctx.db.session() as s:
                        row = await s.get(QueueItem, item)
                        assert row is not None and row.status == "queued" and row.attempts == 0
                    assert "waiting for a library folder" in log.read_text()

                    resp = await client.post(
                        "/api/auth/setup",
                        json={"password": TEST_PASSWORD, "library_dir": str(library)},
                    )
                    assert resp.status_code == 201, resp.text

                    async def completed() -> bool:
                        async with ctx.db.session() as s:
                            status = await s.scalar(
                                select(QueueItem.status).where(QueueItem.id == item)
                            )
                        assert status != "failed", log.read_text()[-2000:]
                        return status == "completed"

                    await wait_until(completed, timeout=30)
                    workers = (await client.get("/health")).json()["checks"]["workers"]
                    assert workers["status"] == "ok"
            finally:
                proc.terminate()
                await proc.wait()
    [saved] = library.rglob("*.mp4")
    assert saved.read_bytes() == body
