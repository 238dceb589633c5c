"""Shared fixtures: an isolated environment, settings in tmp_path, a running app."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from showkeeper.config import Settings, load_settings


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No SHOWKEEPER_* variable or .env of the developer leaks into a test."""
    for key in list(os.environ):
        if key.startswith("SHOWKEEPER_") and key != "SHOWKEEPER_TEST_PG_URL":
            monkeypatch.delenv(key)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    path = tmp_path / "library"
    path.mkdir()
    return path


@pytest.fixture
def settings(data_dir: Path, library_dir: Path) -> Settings:
    return load_settings(
        env_file=None,
        data_dir=data_dir,
        library_dir=library_dir,
        allowed_private_networks="127.0.0.0/8,::1/128",
        scheduler_enabled=False,
    )


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[object]:
    from showkeeper.context import open_context

    async with open_context(settings) as context:
        yield context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    """The real app with its lifespan (database migrated, services started)."""
    from showkeeper.web.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: object) -> AsyncIterator[object]:
    """An HTTP client for the app, through httpx.ASGITransport.

    Once authentication exists this fixture completes setup and logs in, so tests of other
    features keep using it unchanged.
    """
    import httpx

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
