import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from showkeeper.config import Settings
from showkeeper.db.models import Episode, QueueItem, Series
from showkeeper.notifications import Notifier


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def until(predicate: Any, what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No worker pool: it would claim (and fail) the queued row these tests count."""
    return settings.model_copy(update={"download_workers_in_server": False})


async def test_metrics_from_events_and_database(
    api: httpx.AsyncClient, anon_api: httpx.AsyncClient, app: Any
) -> None:
    ctx = app.state.ctx
    async with ctx.db.write() as s:
        series = Series(key="m", folder="M", name="M")
        s.add(series)
        await s.flush()
        eps = [Episode(series_id=series.id, season=1, episode=n) for n in (1, 2, 3)]
        s.add_all(eps)
        await s.flush()
        s.add_all(
            [QueueItem(episode_id=eps[0].id), QueueItem(episode_id=eps[1].id, status="failed")]
        )
    ctx.bus.publish("download_complete", queue_id=1, size=1500)
    ctx.bus.publish("download_complete", queue_id=2, size=500)
    ctx.bus.publish("download_failed", queue_id=3, error="gone")
    ctx.bus.publish("scan_complete", duration_s=2.5)
    ctx.bus.publish("series_loading_update", key="m", status="failed", error="404")
    metrics = next(s for s in ctx.services if s.name == "metrics")
    await until(lambda: metrics.source_errors._value.get() == 1, "events observed")

    resp = await api.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    got = samples(resp.text)
    assert got[("showkeeper_downloads_total", (("state", "completed"),))] == 2
    assert got[("showkeeper_downloads_total", (("state", "failed"),))] == 1
    assert got[("showkeeper_downloaded_bytes_total", ())] == 2000
    assert got[("showkeeper_queue_length", ())] == 1
    assert got[("showkeeper_queue_items", (("status", "failed"),))] == 1
    # episode 1 is queued, so not missing (series/missing.py); 2 (failed) and 3 are
    assert got[("showkeeper_episodes_missing", ())] == 2
    # the scan that setup starts, and the one published here
    assert got[("showkeeper_scan_duration_seconds_count", ())] == 2
    assert got[("showkeeper_source_errors_total", ())] == 1
    assert (await anon_api.get("/metrics")).status_code == 401


async def test_metrics_public_setting(api: httpx.AsyncClient, anon_api: httpx.AsyncClient) -> None:
    await api.put("/api/config", json={"values": {"metrics_public": True}})
    resp = await anon_api.get("/metrics")
    assert resp.status_code == 200 and "showkeeper_queue_length" in resp.text
    assert api.api_key not in resp.text


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[dict]]]:
    """A local HTTP server recording what apprise's json:// posts to it."""
    got: list[dict] = []

    async def record(request: web.Request) -> web.Response:
        got.append(json.loads(await request.text()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"json://127.0.0.1:{port}/", got
    finally:
        await runner.cleanup()


async def test_notifications_for_bus_events(ctx: Any, receiver: tuple[str, list[dict]]) -> None:
    url, got = receiver
    ctx.settings = ctx.settings.model_copy(
        update={
            "notification_urls": [url],
            "notify_on_complete": True,
            "notify_on_new_episodes": False,
        }
    )
    notifier = Notifier(ctx, batch_window_s=0.05)
    await notifier.start()
    try:
        ctx.bus.publish("download_failed", series_key="show", season=1, episode=2, error="HTTP 404")
        await until(lambda: len(got) == 1, "failure sent")
        assert (
            got[0]["type"] == "failure"
            and "S01E02" in got[0]["message"]
            and "HTTP 404" in got[0]["message"]
        )
        ctx.bus.publish("episodes_added", series_key="show", count=3)  # switched off
        for n in (1, 2, 3):
            ctx.bus.publish(
                "download_complete", series_key="show", season=1, episode=n, title=f"Part {n}"
            )
        await until(lambda: len(got) == 2, "batch sent")
        assert got[1]["title"] == "showkeeper: downloaded (3)"
        assert got[1]["message"].count("Part") == 3
        await asyncio.sleep(0.2)
        assert len(got) == 2  # nothing for episodes_added
    finally:
        await notifier.stop()


async def test_test_notification_endpoint(
    api: httpx.AsyncClient, receiver: tuple[str, list[dict]]
) -> None:
    url, got = receiver
    none = await api.post("/api/notifications/test")
    assert none.status_code == 400 and "notification_urls" in none.json()["detail"]
    await api.put("/api/config", json={"values": {"notification_urls": [url]}})
    resp = await api.post("/api/notifications/test")
    assert resp.json() == {"sent": 1, "failed": []}
    assert got[0]["title"] == "showkeeper test"
    bad = await api.post("/api/notifications/test", json={"urls": ["json://127.0.0.1:1/"]})
    assert bad.json() == {"sent": 0, "failed": ["json://"]}
