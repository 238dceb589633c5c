"""Where series folders are read: a worker thread, or a worker process for a big read.

Reading 100k files is mostly parsing their names, which is pure Python: in a thread it takes
turns with the database writes for the GIL. When many folders must be read (a first import, a
forced rescan), a worker process (read_worker.py, started with ``python -P -m``, so nothing of
the caller's ``__main__`` runs again) reads them instead, and reading and writing use two cores.
Small reads (a rescan that finds little changed, one series) stay in a thread: starting a
process would cost more than it saves. If the process cannot start or fails, threads take over.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import Final

from showkeeper.library.read_worker import frame
from showkeeper.library.scanner import FolderPlan, FolderScan, scan_folders
from showkeeper.logging import get_logger

log = get_logger(__name__)

# folders that will certainly be read (new or forced) before a worker process pays off
PROCESS_MIN_FOLDERS: Final = 256
_STOP_TIMEOUT_S: Final = 5.0


class WorkerError(Exception):
    """The worker process answered with an error or broke the protocol."""


def wants_process(plans: Sequence[FolderPlan]) -> bool:
    """True when enough folders will be read, and there is a second core to read them on."""
    if (os.cpu_count() or 1) < 2:
        return False
    certain = sum(1 for p in plans if p.force or not p.recorded)
    return certain >= PROCESS_MIN_FOLDERS


class FolderReader:
    """Reads batches of series folders off the event loop; use as ``async with``."""

    def __init__(self, root: str, *, process: bool) -> None:
        self.root = root
        self._use_process = process
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self.reads_in_process = 0  # batches the worker process read (the rest: a thread)

    async def read(self, plans: Sequence[FolderPlan]) -> list[FolderScan]:
        if self._use_process:
            async with self._lock:
                proc = self._proc or await self._start()
                if proc is not None:
                    try:
                        scans = await self._exchange(proc, plans)
                        self.reads_in_process += 1
                        return scans
                    except (WorkerError, OSError, EOFError, asyncio.IncompleteReadError) as exc:
                        log.warning("scan worker failed; reading in a thread", error=str(exc))
                        await self._stop(kill=True)
                    except BaseException:  # cancelled mid-exchange: the pipe state is unknown
                        await asyncio.shield(self._stop(kill=True))
                        raise
        return await asyncio.to_thread(scan_folders, self.root, plans)

    async def _start(self) -> asyncio.subprocess.Process | None:
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-P",
                "-m",
                "showkeeper.library.read_worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            log.warning("no scan worker process; reading in a thread", error=str(exc))
            self._use_process = False
        return self._proc

    async def _exchange(
        self, proc: asyncio.subprocess.Process, plans: Sequence[FolderPlan]
    ) -> list[FolderScan]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(frame((self.root, list(plans), None)))
        await proc.stdin.drain()
        size = int.from_bytes(await proc.stdout.readexactly(8), "big")
        status, value = pickle.loads(await proc.stdout.readexactly(size))  # noqa: S301 - our child
        if status != "ok":
            raise WorkerError(str(value))
        if not isinstance(value, list):
            raise WorkerError("the worker answered something else than folder scans")
        return value

    async def _stop(self, *, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        self._use_process = self._use_process and not kill
        if proc is None or proc.returncode is not None:
            return
        if kill:
            proc.kill()
        elif proc.stdin is not None:
            proc.stdin.close()  # the worker exits at the end of its input
        try:
            await asyncio.wait_for(proc.wait(), _STOP_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def __aenter__(self) -> FolderReader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.shield(self._stop(kill=exc is not None))
