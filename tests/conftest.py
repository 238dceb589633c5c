"""Shared fixtures: an isolated environment, settings in tmp_path, a running app."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from showkeeper.config import Settings, load_settings
from tests.pg import gate_postgres_test


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``postgres`` test without SHOWKEEPER_TEST_PG_URL: skipped, or failed under CI."""
    if item.get_closest_marker("postgres") is not None:
        gate_postgres_test()


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


TEST_ALLOWED_HOSTS = "localhost,127.0.0.1,[::1],testserver"


@pytest.fixture
def settings(data_dir: Path, library_dir: Path) -> Settings:
    return load_settings(
        env_file=None,
        data_dir=data_dir,
        library_dir=library_dir,
        allowed_private_networks="127.0.0.0/8,::1/128",
        # httpx.ASGITransport's default host, beside the loopback names of a live server
        allowed_hosts=TEST_ALLOWED_HOSTS,
        scheduler_enabled=False,
        # A worker pool would claim rows that tests insert; tests of workers opt in.
        download_workers_in_server=False,
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


TEST_PASSWORD = "correct horse battery staple"


async def complete_setup(client: object, library_dir: Path) -> str:
    """POST /api/auth/setup with TEST_PASSWORD and library_dir; returns the API key once the
    scan that setup starts has ended (so its events and rows do not mix with the test's)."""
    import asyncio

    resp = await client.post(  # type: ignore[attr-defined]
        "/api/auth/setup", json={"password": TEST_PASSWORD, "library_dir": str(library_dir)}
    )
    assert resp.status_code == 201, resp.text
    key = str(resp.json()["api_key"])
    for _ in range(500):
        scan = await client.get("/api/library/scan", headers={"X-Api-Key": key})  # type: ignore[attr-defined]
        assert scan.status_code == 200, scan.text
        if scan.json()["running"] is None and scan.json()["last"] is not None:
            return key
        await asyncio.sleep(0.02)
    raise AssertionError(f"the scan after setup did not end: {scan.text}")


@pytest.fixture
async def anon_api(app: object) -> AsyncIterator[object]:
    """An HTTP client for the app without credentials (setup not done by it)."""
    import httpx

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def api(app: object, settings: Settings) -> AsyncIterator[object]:
    """An authenticated HTTP client for the app, through httpx.ASGITransport.

    Setup is completed (master password TEST_PASSWORD, the test library_dir) and every
    request carries the API key in X-Api-Key (also available as `api.api_key`).
    """
    import httpx

    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert settings.library_dir is not None
        key = await complete_setup(client, settings.library_dir)
        client.headers["X-Api-Key"] = key
        client.api_key = key  # type: ignore[attr-defined]
        yield client


STRAY_SUFFIXES = (".part", ".part.state", ".tmp", ".hls-parts", ".ytdlp", ".ytdl")
"""Names a download leaves only while it runs (or when it broke): never after a test."""


def stray_files(root: Path) -> list[str]:
    """Temporary download files and directories under ``root``, relative to it."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            if name.endswith(STRAY_SUFFIXES):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


@pytest.fixture
def assert_no_stray_files(library_dir: Path) -> Iterator[object]:
    """Opt-in: the test fails if ``library_dir`` holds temporary download files at its end
    (``.part``, ``.part.state``, ``.tmp``, ``*.hls-parts/``, ``*.ytdlp/``). The fixture's value
    is a function ``check(root=library_dir)`` to assert the same earlier, or for another root.
    """

    def check(root: Path = library_dir) -> None:
        left = stray_files(root)
        assert not left, f"temporary download files left in {root}: {left}"

    yield check
    check()
