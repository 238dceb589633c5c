"""Changing the master password from the app, resetting it from the CLI; the setup's TMDB key
and its first scan."""

from __future__ import annotations

from pathlib import Path

import httpx
from typer.testing import CliRunner

from showkeeper.cli import app as cli_app
from showkeeper.config import Settings
from tests.conftest import TEST_PASSWORD

NEW = "a much longer new password"


async def _token(api: httpx.AsyncClient, password: str) -> httpx.Response:
    return await api.post("/api/auth/login", json={"password": password}, headers={"X-Api-Key": ""})


async def test_change_password_needs_the_current_one_and_revokes_other_tokens(
    api: httpx.AsyncClient,
) -> None:
    before = await _token(api, TEST_PASSWORD)
    assert before.status_code == 200, before.text
    old_token = before.json()["token"]

    wrong = await api.post(
        "/api/auth/password", json={"current_password": "nope nope", "new_password": NEW}
    )
    assert wrong.status_code == 400
    assert wrong.json()["detail"].startswith("current_password is wrong")
    weak = await api.post(
        "/api/auth/password", json={"current_password": TEST_PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 400 and "8 characters" in weak.json()["detail"]
    # nothing changed by either: the old password and its token still work
    assert (await _token(api, TEST_PASSWORD)).status_code == 200
    bearer = {"Authorization": f"Bearer {old_token}", "X-Api-Key": ""}
    assert (await api.get("/api/auth/status", headers=bearer)).status_code == 200

    done = await api.post(
        "/api/auth/password", json={"current_password": TEST_PASSWORD, "new_password": NEW}
    )
    assert done.status_code == 200, done.text
    assert done.json()["changed"] is True and done.json()["revoked"] >= 2
    assert (await _token(api, TEST_PASSWORD)).status_code == 401
    assert (await _token(api, NEW)).status_code == 200
    assert (await api.get("/api/auth/status", headers=bearer)).status_code == 401


def test_cli_reset_password(settings: Settings, data_dir: Path, library_dir: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(
        cli_app, ["--data-dir", str(data_dir), "auth", "reset-password", "--password", NEW]
    )
    assert missing.exit_code == 2 and "finish setup" in missing.output

    import asyncio

    from showkeeper.web.app import create_app

    async def set_up() -> None:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                from tests.conftest import complete_setup

                await complete_setup(client, library_dir)

    asyncio.run(set_up())
    weak = runner.invoke(
        cli_app, ["--data-dir", str(data_dir), "auth", "reset-password"], input="short\nshort\n"
    )
    assert weak.exit_code == 1 and "8 characters" in weak.output
    ok = runner.invoke(
        cli_app, ["--data-dir", str(data_dir), "auth", "reset-password"], input=f"{NEW}\n{NEW}\n"
    )
    assert ok.exit_code == 0, ok.output
    assert "password changed" in ok.output

    async def logins() -> tuple[int, int]:
        application = create_app(settings)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                old = await client.post("/api/auth/login", json={"password": TEST_PASSWORD})
                new = await client.post("/api/auth/login", json={"password": NEW})
                return old.status_code, new.status_code

    assert asyncio.run(logins()) == (401, 200)


async def test_setup_stores_the_tmdb_key_and_scans_the_library(
    anon_api: httpx.AsyncClient, settings: Settings, library_dir: Path
) -> None:
    show = library_dir / "Old Show (2019)" / "Season 01"
    show.mkdir(parents=True)
    (show / "Old Show - S01E01.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(64))
    (show.parent / "key").write_text("old-show\n")
    resp = await anon_api.post(
        "/api/auth/setup",
        json={
            "password": TEST_PASSWORD,
            "library_dir": str(library_dir),
            "tmdb_api_key": "0123456789abcdef",
        },
    )
    assert resp.status_code == 201, resp.text
    key = {"X-Api-Key": resp.json()["api_key"]}
    import asyncio

    for _ in range(300):
        scan = (await anon_api.get("/api/library/scan", headers=key)).json()
        if scan["running"] is None and scan["last"] is not None:
            break
        await asyncio.sleep(0.02)
    series = (await anon_api.get("/api/series", headers=key)).json()
    assert [(s["key"], s["downloaded_count"]) for s in series["items"]] == [("old-show", 1)]
    config = (await anon_api.get("/api/config", headers=key)).json()
    assert config["stored"]["tmdb_api_key"] == "********"
