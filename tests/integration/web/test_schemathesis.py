"""Property-based requests over /openapi.json against a real uvicorn: no 5xx anywhere."""

import asyncio
from typing import Any

import httpx
import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from showkeeper.config import Settings
from showkeeper.db.models import Episode, Series
from tests.conftest import TEST_PASSWORD
from tests.integration.web.conftest import Live

MAX_EXAMPLES = 15


def login(url: str) -> str:
    resp = httpx.post(f"{url}/api/auth/login", json={"password": TEST_PASSWORD}, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["token"])


def fuzz_operation(operation: Any, url: str, auth: dict[str, str], failures: list[str]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def run(case: Any, data: Any) -> None:
        response = case.call(base_url=url, headers=auth["headers"], timeout=30)
        if response.status_code == 401:  # the fuzzer revoked our token or logged out: again
            auth["headers"] = {"Authorization": f"Bearer {login(url)}"}
            response = case.call(base_url=url, headers=auth["headers"], timeout=30)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )

    run()


async def directory_server() -> tuple[web.AppRunner, str]:
    """An empty podcast directory on 127.0.0.1 (the tests never reach the internet)."""

    async def search(_request: web.Request) -> web.Response:
        return web.json_response({"resultCount": 0, "results": []})

    app = web.Application()
    app.router.add_get("/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/search"


@pytest.mark.slow
async def test_no_server_errors_anywhere(live: Live) -> None:
    runner, search_url = await directory_server()
    ctx = live.app.state.ctx
    ctx.settings = ctx.settings.model_copy(update={"itunes_search_url": search_url})
    try:
        await fuzz(live)
    finally:
        await runner.cleanup()


@pytest.mark.slow
@pytest.mark.postgres
async def test_no_server_errors_anywhere_on_postgres(settings: Settings) -> None:
    from tests.pg import fresh_pg_database
    from tests.security.conftest import live_server

    runner, search_url = await directory_server()
    try:
        async with fresh_pg_database() as url:
            update = {"database_url": url, "itunes_search_url": search_url}
            async with live_server(settings.model_copy(update=update)) as (app, base, key):
                await fuzz(Live(app, base, key))
    finally:
        await runner.cleanup()


async def fuzz(live: Live) -> None:
    async with live.app.state.ctx.db.write() as s:
        series = Series(key="fuzz", folder="Fuzz", name="Fuzz")
        s.add(series)
        await s.flush()
        s.add(Episode(series_id=series.id, season=1, episode=1))
    async with httpx.AsyncClient(base_url=live.url, headers={"X-Api-Key": live.api_key}) as client:
        spec = (await client.get("/openapi.json")).json()
    # the Sonarr v3 subset has its own run (tests/integration/arr/test_schemathesis.py)
    spec["paths"] = {
        p: ops for p, ops in spec["paths"].items() if not p.startswith(("/api/v3/", "/feed/"))
    }
    schema = schemathesis.openapi.from_dict(spec)
    # hostile text and numbers too: NUL, any code point (lone surrogates), invalid shapes
    schema.config.generation.update(
        allow_x00=True, codec=None, modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    )
    failures: list[str] = []
    auth = {"headers": {"Authorization": f"Bearer {await asyncio.to_thread(login, live.url)}"}}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 20

    def fuzz_all() -> None:
        for operation in operations:
            fuzz_operation(operation, live.url, auth, failures)

    await asyncio.to_thread(fuzz_all)  # the server runs in this event loop
    assert failures == []
