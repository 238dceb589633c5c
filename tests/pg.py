"""A throwaway PostgreSQL database for a test, when SHOWKEEPER_TEST_PG_URL is set."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("SHOWKEEPER_TEST_PG_URL", "")

needs_pg = pytest.mark.skipif(
    not PG_URL, reason="set SHOWKEEPER_TEST_PG_URL to run against PostgreSQL"
)


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    base = make_url(PG_URL).set(drivername="postgresql+asyncpg")
    name = f"showkeeper_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
