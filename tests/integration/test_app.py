import asyncio
from pathlib import Path

import httpx

from showkeeper.config import Settings
from showkeeper.web.app import create_app
from tests.conftest import complete_setup


async def test_app_starts_and_stops_with_no_leaked_tasks(settings: Settings) -> None:
    before = asyncio.all_tasks()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            resp = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "healthy"
    assert set(body["checks"]) >= {"database", "ffmpeg", "library", "disk"}
    assert body["checks"]["ffmpeg"]["origin"] in {"PATH", "imageio-ffmpeg"}
    assert resp.headers["x-request-id"] == "abc-123"
    await asyncio.sleep(0)
    leaked = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leaked == set()


async def test_health_is_unhealthy_when_library_is_missing(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"library_dir": tmp_path / "gone"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            body = (await client.get("/health")).json()
    assert body["status"] == "unhealthy"
    assert "does not exist" in body["checks"]["library"]["message"]


async def test_request_id_is_on_every_log_line_of_a_request(settings: Settings) -> None:
    import json
    import logging

    from fastapi import APIRouter

    from showkeeper.logging import get_logger, setup_logging

    setup_logging("INFO", logs_dir=settings.logs_dir)
    try:
        app = create_app(settings)
        router = APIRouter()

        @router.get("/_log")
        async def _log() -> dict[str, bool]:
            get_logger("test").info("inside request", n=1)
            await asyncio.sleep(0)
            get_logger("test").warning("still inside")
            return {"ok": True}

        app.include_router(router)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                assert settings.library_dir is not None
                key = await complete_setup(client, settings.library_dir)  # every route needs auth
                resp = await client.get("/_log", headers={"X-Api-Key": key})
                assert resp.status_code == 200
                rid = resp.headers["x-request-id"]
    finally:
        for handler in logging.getLogger().handlers:
            handler.flush()
    lines = [
        json.loads(line) for line in (settings.logs_dir / "showkeeper.log").read_text().splitlines()
    ]
    mine = [line for line in lines if line.get("logger") == "test"]
    assert [line["event"] for line in mine] == ["inside request", "still inside"]
    assert all(line["request_id"] == rid for line in mine)
