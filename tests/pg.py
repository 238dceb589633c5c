"""PostgreSQL for the tests marked ``postgres``: when they run, skip or fail, and a throwaway
database for each.

A ``postgres`` test runs when SHOWKEEPER_TEST_PG_URL is set. Without it the test is skipped on
a developer's machine but fails under CI (CI=true), so a CI run can never pass with those tests
silently left out. With the URL set, a server that cannot be reached is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("SHOWKEEPER_TEST_PG_URL", "")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def gate_postgres_test() -> None:
    """Called before each ``postgres`` test: skip it (no URL, not CI) or fail it (CI)."""
    if PG_URL:
        return
    if in_ci():
        pytest.fail(
            "CI=true but SHOWKEEPER_TEST_PG_URL is not set: the postgres tests must run in CI "
            "(.ci/run sets it); set it to a reachable server",
            pytrace=False,
        )
    pytest.skip("set SHOWKEEPER_TEST_PG_URL to run against PostgreSQL")


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it afterwards.

    Fails the test (with what to do) when SHOWKEEPER_TEST_PG_URL is unset or unreachable.
    """
    if not PG_URL:
        pytest.fail("fresh_pg_database needs SHOWKEEPER_TEST_PG_URL; mark the test postgres")
    base = make_url(PG_URL).set(drivername="postgresql+asyncpg")
    name = f"showkeeper_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OSError, DBAPIError) as exc:
        await admin.dispose()
        shown = make_url(PG_URL).render_as_string(hide_password=True)
        pytest.fail(
            f"SHOWKEEPER_TEST_PG_URL={shown} is set but PostgreSQL cannot be reached or refused "
            f"({type(exc).__name__}: {exc}); start it or fix the URL",
            pytrace=False,
        )
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
