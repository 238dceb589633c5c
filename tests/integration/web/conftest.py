"""A real uvicorn on 127.0.0.1 serving the app (in the test's event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from showkeeper.config import Settings
from tests.conftest import complete_setup, free_port


@dataclass
class Live:
    app: Any
    url: str
    api_key: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/connect"


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    from showkeeper.web.app import create_app

    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            key = await complete_setup(client, settings.library_dir)
        yield Live(app, url, key)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
