"""`showkeeper serve` as users run it (a real uvicorn in its own process), and canaries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from showkeeper.config import Settings
from tests.conftest import free_port


@dataclass
class Served:
    url: str
    port: int
    data_dir: Path
    library_dir: Path
    process: subprocess.Popen[bytes]


def showkeeper_bin() -> str:
    return str(Path(sys.executable).with_name("showkeeper"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """serve(**settings) starts `showkeeper serve` on 127.0.0.1 with SHOWKEEPER_<KEY> set."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**values: str) -> Served:
        n = len(started)
        data, library = tmp_path / f"data{n}", tmp_path / f"library{n}"
        data.mkdir()
        library.mkdir()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
        env.update(
            SHOWKEEPER_DATA_DIR=str(data),
            SHOWKEEPER_SCHEDULER_ENABLED="false",
            SHOWKEEPER_DOWNLOAD_WORKERS_IN_SERVER="false",
        )
        env.update({f"SHOWKEEPER_{k.upper()}": v for k, v in values.items()})
        log = open(tmp_path / f"serve{n}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [showkeeper_bin(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError((tmp_path / f"serve{n}.log").read_text())
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code < 500:
                    return Served(url, port, data, library, proc)
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("showkeeper serve did not answer within 30 s")

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@asynccontextmanager
async def live_server(settings: Settings) -> AsyncIterator[tuple[Any, str, str]]:
    """The app under a real uvicorn on 127.0.0.1 in this event loop, set up:
    yields (app, base URL, API key)."""
    import asyncio

    import uvicorn

    from showkeeper.web.app import create_app
    from tests.conftest import complete_setup

    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_config=None, proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            assert settings.library_dir is not None
            key = await complete_setup(client, settings.library_dir)
        yield app, url, key
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
