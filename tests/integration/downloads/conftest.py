"""Fixtures shared by the transfer tests: a local media server and our HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from showkeeper.net import HttpClient
from tests.integration.downloads.servers import MediaServer


@pytest.fixture
async def server() -> AsyncIterator[MediaServer]:
    async with MediaServer() as srv:
        yield srv


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    # HLS keeps 2 x download_connections segments in flight against one host.
    async with HttpClient(allowed_networks=["127.0.0.0/8"], per_host_limit=16) as c:
        yield c
