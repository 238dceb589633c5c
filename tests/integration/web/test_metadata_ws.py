"""The metadata loader's steps arrive over the WebSocket, live and in order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.integration.web.conftest import Live
from tests.metadata_site import MetaSite, jpeg, show_feed

STEPS = [
    "pending",
    "loading_episodes",
    "loading_nfo",
    "loading_logo",
    "loading_images",
    "completed",
]


async def test_loading_steps_over_the_websocket(live: Live) -> None:
    site = await MetaSite().start()
    try:
        site.put("/art/cover.jpg", jpeg(500, 750), "image/jpeg")
        site.put("/show.xml", show_feed(site, item_images=False), "application/rss+xml")
        headers = {"X-Api-Key": live.api_key}
        async with connect(live.ws_url, additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "welcome"
            await ws.send(json.dumps({"action": "join", "room": "series_loading"}))
            assert json.loads(await ws.recv()) == {"type": "joined", "room": "series_loading"}
            async with httpx.AsyncClient(base_url=live.url, headers=headers) as client:
                resp = await client.post("/api/series", json={"url": site.url("/show.xml")})
                assert resp.status_code == 202, resp.text
                key = resp.json()["key"]
            steps: list[dict[str, Any]] = []
            async with asyncio.timeout(60):
                while not steps or steps[-1]["status"] not in ("completed", "failed"):
                    message = json.loads(await ws.recv())
                    data = message.get("data") or {}
                    if (
                        message.get("type") == "series_loading_update"
                        and data.get("phase") == "metadata"
                    ):
                        assert data["key"] == key
                        steps.append(data)
    finally:
        await site.close()
    assert [s["status"] for s in steps] == STEPS
    assert [sum(s["progress"].values()) for s in steps] == [0, 0, 1, 2, 3, 4]
    assert steps[-1]["folder"] == "Kestrel Bay (2017)"
    assert all(isinstance(s["message"], str) and s["message"] for s in steps)
