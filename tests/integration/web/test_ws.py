import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.conftest import TEST_PASSWORD
from tests.integration.web.conftest import Live


async def recv(ws: ClientConnection, timeout: float = 20) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def join(ws: ClientConnection, *rooms: str) -> None:
    assert (await recv(ws))["type"] == "welcome"
    for room in rooms:
        await ws.send(json.dumps({"action": "join", "room": room}))
        assert await recv(ws) == {"type": "joined", "room": room}


async def token(live: Live) -> str:
    async with httpx.AsyncClient(base_url=live.url) as client:
        resp = await client.post("/api/auth/login", json={"password": TEST_PASSWORD})
        return str(resp.json()["token"])


async def test_websocket_authentication(live: Live) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(live.ws_url):
            pass
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        async with connect(live.ws_url + "?token=skt_wrong"):
            pass
    async with connect(live.ws_url + f"?token={await token(live)}") as ws:
        assert (await recv(ws))["type"] == "welcome"
    async with connect(
        live.ws_url, additional_headers={"Authorization": f"Bearer {await token(live)}"}
    ) as ws:
        assert (await recv(ws))["type"] == "welcome"
    async with connect(live.ws_url, additional_headers={"X-Api-Key": live.api_key}) as ws:
        assert (await recv(ws))["type"] == "welcome"


async def test_cookie_websocket_needs_a_same_origin(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        resp = await client.post(
            "/api/auth/login", json={"password": TEST_PASSWORD, "mode": "session"}
        )
        cookie = f"showkeeper_session={resp.cookies['showkeeper_session']}"
    for origin in (None, "http://evil.example"):
        headers = {"Cookie": cookie} | ({"Origin": origin} if origin else {})
        with pytest.raises(InvalidStatus):
            async with connect(live.ws_url, additional_headers=headers, origin=None):
                pass
    async with connect(live.ws_url, additional_headers={"Cookie": cookie}, origin=live.url) as ws:
        assert (await recv(ws))["type"] == "welcome"


async def test_rooms_and_messages(live: Live) -> None:
    bus = live.app.state.ctx.bus
    headers = {"X-Api-Key": live.api_key}
    async with connect(live.ws_url, additional_headers=headers) as ws:
        await join(ws, "downloads", "scan_progress")
        await ws.send("not json")
        assert (await recv(ws))["type"] == "error"
        await ws.send(json.dumps({"action": "join", "room": "nope"}))
        assert "unknown room" in (await recv(ws))["detail"]
        bus.publish("series_loading_update", key="x", status="pending")  # not joined
        bus.publish("download_failed", queue_id=7, error="boom")
        bus.publish("scan_complete", added=1)
        first, second = await recv(ws), await recv(ws)
        assert first["type"] == "download_failed" and first["data"] == {
            "queue_id": 7,
            "error": "boom",
        }
        assert second["type"] == "scan_complete" and isinstance(second["ts"], float)
        await ws.send(json.dumps({"action": "leave", "room": "downloads"}))
        assert await recv(ws) == {"type": "left", "room": "downloads"}
        bus.publish("download_complete", queue_id=7)
        bus.publish("scan_failed", error="disk")
        assert (await recv(ws))["type"] == "scan_failed"
        await ws.send(json.dumps({"action": "ping"}))
        assert await recv(ws) == {"type": "pong"}


async def test_progress_is_throttled_per_item_and_the_newest_is_delivered(live: Live) -> None:
    bus = live.app.state.ctx.bus
    async with connect(live.ws_url, additional_headers={"X-Api-Key": live.api_key}) as ws:
        await join(ws, "download_progress", "downloads")
        for n in range(50):
            bus.publish("download_progress", queue_id=1, downloaded_bytes=n)
        bus.publish("download_progress", queue_id=2, downloaded_bytes=0)
        bus.publish("download_progress", queue_id=2, downloaded_bytes=99)
        got: list[dict] = []
        while not any(m["data"].get("downloaded_bytes") == 99 for m in got):
            got.append(await recv(ws))
        bus.publish("download_complete", queue_id=1)
        while got[-1]["type"] != "download_complete":
            got.append(await recv(ws))
    item1 = [
        m["data"]["downloaded_bytes"]
        for m in got
        if m["type"] == "download_progress" and m["data"]["queue_id"] == 1
    ]
    item2 = [
        m["data"]["downloaded_bytes"]
        for m in got
        if m["type"] == "download_progress" and m["data"]["queue_id"] == 2
    ]
    assert item1[0] == 0 and len(item1) < 50  # the first at once, the rest coalesced
    assert item1 == sorted(item1) and (len(item1) == 1 or item1[-1] == 49)
    assert item2 == [0, 99]  # the held update is sent when the interval ends


async def test_a_stalled_client_does_not_delay_another(live: Live) -> None:
    bus = live.app.state.ctx.bus
    headers = {"X-Api-Key": live.api_key}
    blob = "x" * 100_000
    async with (
        connect(live.ws_url, additional_headers=headers, max_queue=1, max_size=None) as stalled,
        connect(live.ws_url, additional_headers=headers, max_size=None) as healthy,
    ):
        await join(stalled, "downloads")
        await join(healthy, "downloads")
        # 20 MB for each client: far more than the socket buffers hold for one that stops reading
        for n in range(200):
            bus.publish("download_complete", queue_id=n, blob=blob)
            if n % 20 == 0:
                await asyncio.sleep(0)
        bus.publish("download_failed", queue_id=-1, error="marker")
        received = 0
        while True:
            message = await recv(healthy, timeout=60)
            if message["type"] == "download_failed":
                break
            received += 1
        assert received == 200  # all of it, while the stalled client read nothing
        # the stalled client catches up later and still ends with the newest event
        last = None
        while last is None or last["type"] != "download_failed":
            last = await recv(stalled, timeout=60)
        assert last["data"]["error"] == "marker"
