"""The server's queries on PostgreSQL: setup, auth, the series page, scheduler state."""

import httpx
import pytest

from showkeeper.config import Settings
from tests.conftest import TEST_PASSWORD, complete_setup
from tests.integration.web.test_series_api import seed
from tests.pg import fresh_pg_database


@pytest.mark.postgres
async def test_server_on_postgres(settings: Settings) -> None:
    from showkeeper.web.app import create_app

    async with fresh_pg_database() as url:
        app = create_app(settings.model_copy(update={"database_url": url}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                key = await complete_setup(client, settings.library_dir)
                client.headers["X-Api-Key"] = key
                await seed(app)
                page = (await client.get("/api/series")).json()
                assert page["total"] == 3
                assert {i["key"]: i["missing_count"] for i in page["items"]} == {
                    "s0": 2,
                    "s1": 1,
                    "s2": 1,
                }
                most = (
                    await client.get("/api/series", params={"sort": "missing", "order": "desc"})
                ).json()
                assert most["items"][0]["key"] == "s0"
                assert (await client.get("/api/series", params={"has_missing": False})).json()[
                    "total"
                ] == 0
                token = (
                    await client.post("/api/auth/login", json={"password": TEST_PASSWORD})
                ).json()["token"]
                status = await client.get(
                    "/api/auth/status",
                    headers={"X-Api-Key": "", "Authorization": f"Bearer {token}"},
                )
                assert status.json()["method"] == "token"
                assert (
                    await client.post("/api/auth/tokens/revoke", json={"all": True})
                ).json() == {"revoked": 1}
                assert (await client.delete("/api/series/s1")).status_code == 200
                assert (await client.get("/api/scheduler")).json()["jobs"]["rescan"][
                    "last_run"
                ] is None
                assert (await client.get("/health/detailed")).json()["database"][
                    "backend"
                ] == "postgresql"
