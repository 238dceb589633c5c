"""Item 4: a login attempt is reserved before its password is checked, per client and per
account, and the count is shared by every process (in the database)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from showkeeper.auth import throttle
from showkeeper.auth.errors import TooManyAttemptsError
from showkeeper.config import Settings
from showkeeper.context import AppContext
from showkeeper.web.auth import utcnow
from tests.conftest import TEST_PASSWORD
from tests.pg import fresh_pg_database
from tests.security.conftest import Served

WRONG = {"password": "not the password"}


async def test_parallel_guesses_beyond_the_limit_are_refused_unchecked(
    api: httpx.AsyncClient,
) -> None:
    anon = {"X-Api-Key": ""}
    answers = await asyncio.gather(
        *(api.post("/api/auth/login", json=WRONG, headers=anon) for _ in range(30))
    )
    # a 401 means the password was checked: only login_max_failures (5) of them were
    assert Counter(r.status_code for r in answers) == {401: 5, 429: 25}
    refused = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 300


async def test_window_per_client_and_account_and_success_clears(ctx: AppContext) -> None:
    db, now = ctx.db, utcnow()
    limits = throttle.ThrottleLimits(max_per_client=3, max_per_account=4, window_s=60)
    for _ in range(3):
        await throttle.reserve(db, "1.1.1.1", "admin", limits=limits, now=now)
    with pytest.raises(TooManyAttemptsError) as info:
        await throttle.reserve(db, "1.1.1.1", "admin", limits=limits, now=now)
    assert info.value.retry_after == 60 and info.value.headers == {"Retry-After": "60"}
    await throttle.reserve(db, "2.2.2.2", "admin", limits=limits, now=now)  # 4th on the account
    with pytest.raises(TooManyAttemptsError):  # the account is at its limit from anywhere
        await throttle.reserve(db, "3.3.3.3", "admin", limits=limits, now=now)
    await throttle.reserve(db, "3.3.3.3", "other", limits=limits, now=now)
    with pytest.raises(TooManyAttemptsError) as info:
        await throttle.reserve(db, "1.1.1.1", "x", limits=limits, now=now + timedelta(seconds=30))
    assert info.value.retry_after == 30
    later = now + timedelta(seconds=61)
    await throttle.reserve(db, "1.1.1.1", "admin", limits=limits, now=later)
    await throttle.release(db, "1.1.1.1", "admin")  # a success forgets both keys
    for _ in range(3):
        await throttle.reserve(db, "1.1.1.1", "admin", limits=limits, now=later)


@pytest.mark.postgres
async def test_the_limit_holds_across_server_processes_on_postgres(
    serve: Callable[..., Served], tmp_path: Path, settings: Settings
) -> None:
    async with fresh_pg_database() as url:
        library = tmp_path / "shared-library"
        library.mkdir()
        env = {"database_url": url, "library_dir": str(library), "login_max_failures": "4"}
        first, second = serve(**env), serve(**env)
        setup = httpx.post(f"{first.url}/api/auth/setup", json={"password": TEST_PASSWORD})
        assert setup.status_code == 201, setup.text

        async def guess(client: httpx.AsyncClient, url: str) -> int:
            return (await client.post(f"{url}/api/auth/login", json=WRONG)).status_code

        async with httpx.AsyncClient(timeout=30) as client:
            answers = await asyncio.gather(
                *(guess(client, s.url) for _ in range(10) for s in (first, second))
            )
        assert Counter(answers) == {401: 4, 429: 16}
        for s in (first, second):
            right = httpx.post(f"{s.url}/api/auth/login", json={"password": TEST_PASSWORD})
            assert right.status_code == 429  # the lockout is the same in both processes
