"""`showkeeper serve` as users run it (a real uvicorn in its own process), and canaries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

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
