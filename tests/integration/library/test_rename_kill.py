"""kill -9 in the middle of a rename: after the next start every file is at its old or its new
path, with its companions, and the database agrees. A real `showkeeper rename` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.context import open_context
from showkeeper.db.models import Episode, RenameBatch
from showkeeper.services import build_services
from tests.integration.library.manage_support import COMPANIONS, downloaded_series, old_name, tree

COUNT = 1500


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env["SHOWKEEPER_DATA_DIR"] = str(settings.data_dir)
    env["SHOWKEEPER_LIBRARY_DIR"] = str(settings.library_dir)
    env["SHOWKEEPER_LOG_LEVEL"] = "WARNING"
    return env


def _kill_midway(settings: Settings, first_new: Path, last_old: Path) -> None:
    """Start the rename, kill -9 it as soon as its first file has moved."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "showkeeper", "rename", "--series", "show"],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    try:
        while not os.path.lexists(first_new):
            if proc.poll() is not None:
                raise AssertionError(f"rename ended before any move: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                raise AssertionError("the rename did not start moving files within 60 s")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert os.path.lexists(last_old), "the rename finished before the kill: nothing was cut"


@pytest.mark.slow
async def test_kill_9_during_a_rename_leaves_every_file_at_old_or_new(
    settings: Settings, library_dir: Path
) -> None:
    async with open_context(settings) as ctx:
        disk = await downloaded_series(ctx.db, library_dir, "show", "Show", COUNT)
    files_before = len(tree(library_dir))
    old = {n: f"Show/Season 01/{old_name('Show', 1, n)}" for n in range(1, COUNT + 1)}
    new = {n: f"Show/Season 01/Show - S01E{n:02d} - Episode {n}.mkv" for n in range(1, COUNT + 1)}
    _kill_midway(settings, library_dir / new[1], library_dir / old[COUNT])

    # cut in the middle: some files moved, some did not, and the batch says "applying"
    moved = sum(os.path.lexists(library_dir / new[n]) for n in old)
    assert 0 < moved < COUNT
    for n in old:  # never lost, never in two places
        assert os.path.lexists(library_dir / old[n]) != os.path.lexists(library_dir / new[n])
    assert len(tree(library_dir)) == files_before

    # the next start finishes it
    async with open_context(settings, services=build_services) as ctx, ctx.db.session() as s:
        batches = list(await s.scalars(select(RenameBatch)))
        rows = {e.episode: e.file_path for e in await s.scalars(select(Episode))}
    assert [b.status for b in batches] == ["applied"]
    assert "interruption" in (batches[0].error or "")
    assert len(rows) == len(disk.episode_ids)
    for n, path in rows.items():
        assert path == new[n]
        video = library_dir / path
        assert video.is_file()
        for suffix in COMPANIONS:
            assert video.with_name(video.stem + suffix).is_file()
    assert len(tree(library_dir)) == files_before


@pytest.mark.slow
async def test_the_next_rename_command_finishes_an_interrupted_one(
    settings: Settings, library_dir: Path
) -> None:
    """Without a server start in between, `showkeeper rename` recovers before it plans."""
    async with open_context(settings) as ctx:
        await downloaded_series(ctx.db, library_dir, "show", "Show", COUNT)
    new = library_dir / "Show/Season 01/Show - S01E01 - Episode 1.mkv"
    _kill_midway(settings, new, library_dir / f"Show/Season 01/{old_name('Show', 1, COUNT)}")
    # the "next start" is a dry run of the CLI: it recovers first, then lists nothing to do
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "showkeeper", "rename", "--dry-run"],
        env=_env(settings),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "would move 0 files" in done.stdout
    assert tree(library_dir) == sorted(
        f"Show/Season 01/Show - S01E{n:02d} - Episode {n}{suffix}"
        for n in range(1, COUNT + 1)
        for suffix in (".mkv", *COMPANIONS)
    )
