"""What several benchmark scripts share: a free port, a `showkeeper serve` started on a
fresh data dir, waiting for its /health, and percentiles.

Import it as ``bench.support`` with the repository root first on sys.path (each script does
that: run as a script, bench/ itself would come first, where bench/queue.py shadows the
standard library's queue module).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


QUIET = {
    "SHOWKEEPER_SCHEDULER_ENABLED": "false",
    "SHOWKEEPER_DOWNLOAD_WORKERS_IN_SERVER": "false",
    "SHOWKEEPER_LOG_LEVEL": "WARNING",
}
"""No scheduler and no download workers: only the requests being measured run."""


def start_server(
    data_dir: Path,
    library: Path,
    port: int,
    *,
    argv: list[str] | None = None,
    settings: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``showkeeper serve`` (or ``argv``) on ``port`` with a data dir and library and
    ``settings`` (environment variables); the caller's own SHOWKEEPER_* are left out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env.update(
        SHOWKEEPER_DATA_DIR=str(data_dir),
        SHOWKEEPER_LIBRARY_DIR=str(library),
        SHOWKEEPER_PORT=str(port),
        **(settings or {}),
    )
    return subprocess.Popen(
        argv or [sys.executable, "-m", "showkeeper", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Until ``url``/health answers 200 (30 s at most); exits if the server died."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            try:
                async with http.get(url + "/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]
