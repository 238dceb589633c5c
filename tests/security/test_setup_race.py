"""Item 6: concurrent first-run setups: one wins, and only the winner writes anything."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from showkeeper.config import Settings
from tests.conftest import TEST_PASSWORD
from tests.pg import fresh_pg_database


async def _race(app: object, tmp_path: Path, settings: Settings) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        libraries = [tmp_path / f"lib{n}" for n in range(6)]
        answers = await asyncio.gather(
            *(
                client.post(
                    "/api/auth/setup", json={"password": TEST_PASSWORD, "library_dir": str(lib)}
                )
                for lib in libraries
            )
        )
        codes = sorted(r.status_code for r in answers)
        assert codes[0] == 201 and codes[1:] == [409] * 5, [r.text for r in answers]
        winner = next(r.json() for r in answers if r.status_code == 201)
        stored = json.loads((settings.data_dir / "config.json").read_text())
        assert stored["library_dir"] == winner["library_dir"]
        assert str(app.state.ctx.settings.library_dir) == winner["library_dir"]  # type: ignore[attr-defined]
        # the losers created no folder either
        assert [p.name for p in libraries if p.exists()] == [Path(winner["library_dir"]).name]
        key = {"X-Api-Key": winner["api_key"]}
        assert (await client.get("/api/series", headers=key)).status_code == 200


async def test_concurrent_setups_on_sqlite(tmp_path: Path, settings: Settings) -> None:
    from showkeeper.web.app import create_app

    app = create_app(settings.model_copy(update={"library_dir": None}), with_services=False)
    async with app.router.lifespan_context(app):
        await _race(app, tmp_path, settings)


@pytest.mark.postgres
async def test_concurrent_setups_on_postgres(tmp_path: Path, settings: Settings) -> None:
    from showkeeper.web.app import create_app

    async with fresh_pg_database() as url:
        update = {"library_dir": None, "database_url": url}
        app = create_app(settings.model_copy(update=update), with_services=False)
        async with app.router.lifespan_context(app):
            await _race(app, tmp_path, settings)
