import json
from typing import Any

import httpx
import pytest

from showkeeper.config import Settings


async def test_config_masks_secrets_and_applies_changes(
    api: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    resp = await api.put(
        "/api/config",
        json={
            "values": {
                "tmdb_api_key": "tmdb-secret-123",
                "notification_urls": ["tgram://bot-secret/42"],
                "scheduler_time": "04:30",
            }
        },
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body["applied"]) == {"tmdb_api_key", "notification_urls", "scheduler_time"}
    assert body["backup"] is not None  # setup wrote config.json before
    assert app.state.ctx.settings.scheduler_time == "04:30"
    view = await api.get("/api/config")
    text = view.text
    assert "tmdb-secret-123" not in text and "bot-secret" not in text
    assert view.json()["settings"]["notification_urls"] == ["tgram://********"]
    assert view.json()["stored"]["tmdb_api_key"] == "********"
    # sending the masked values back keeps the secrets
    echo = await api.put("/api/config", json={"values": view.json()["stored"]})
    assert echo.status_code == 200 and echo.json()["changed"] == []
    stored = json.loads((settings.data_dir / "config.json").read_text())
    assert stored["tmdb_api_key"] == "tmdb-secret-123"
    restart = await api.put("/api/config", json={"values": {"port": 9999}})
    assert restart.json()["restart_required"] == ["port"] and app.state.ctx.settings.port == 8000


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"scheduler_time": "25:00"}, "scheduler_time"),
        ({"no_such_setting": 1}, "unknown setting"),
        ({"data_dir": "/tmp"}, "data_dir cannot be set"),
        ({"library_dir": "relative/path"}, "absolute"),
    ],
)
async def test_bad_config_is_refused_and_nothing_is_written(
    api: httpx.AsyncClient, settings: Settings, values: dict, needle: str
) -> None:
    before = (settings.data_dir / "config.json").read_text()
    resp = await api.put("/api/config", json={"values": values})
    assert resp.status_code == 400 and needle in resp.json()["detail"]
    assert (settings.data_dir / "config.json").read_text() == before


async def test_validate_backups_and_restore(api: httpx.AsyncClient, app: Any) -> None:
    check = await api.post("/api/config/validate", json={"values": {"download_concurrency": 0}})
    assert check.json()["valid"] is False and "download_concurrency" in check.json()["error"]
    assert (
        await api.post("/api/config/validate", json={"values": {"download_concurrency": 4}})
    ).json() == {"valid": True, "error": None}
    await api.put("/api/config", json={"values": {"download_concurrency": 7}})
    await api.put("/api/config", json={"values": {"download_concurrency": 9}})
    backups = (await api.get("/api/config/backups")).json()
    assert len(backups) >= 2
    restored = await api.post(f"/api/config/backups/{backups[0]['name']}/restore")
    assert restored.status_code == 200 and app.state.ctx.settings.download_concurrency == 7
    missing = await api.post("/api/config/backups/config-nope.json/restore")
    assert missing.status_code == 400 and "config backups" in missing.json()["detail"]


async def test_health_ready_and_detailed(
    api: httpx.AsyncClient, anon_api: httpx.AsyncClient, app: Any, settings: Settings
) -> None:
    health = (await anon_api.get("/health")).json()
    assert health["status"] == "healthy"
    assert "scheduler_next_run" in health and "scheduler_last_run" in health
    assert (await anon_api.get("/health/ready")).json() == {"status": "ready"}
    detailed = await api.get("/health/detailed")
    body = detailed.json()
    assert body["database"]["series"] == 0 and body["process"]["pid"] > 0
    assert body["filesystem"]["library"]["writable"] is True and body["system"]["cpus"] >= 1
    assert (await anon_api.get("/health/detailed")).status_code == 401

    settings.library_dir.rmdir()
    ready = await anon_api.get("/health/ready")
    assert ready.status_code == 503
    assert any("library" in f for f in ready.json()["critical_failures"])
    assert (await anon_api.get("/health")).json()["status"] == "unhealthy"
