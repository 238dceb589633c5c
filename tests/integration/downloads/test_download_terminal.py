"""`showkeeper download` on a real terminal: log lines print above the progress bars, never
through them. The command runs in a pseudo-terminal, so rich draws its live bars as it does
for a person; pyte (a VT100 emulator) replays what it wrote, and the screen and its
scrollback are read the way a person reads them. A failing episode makes a ✗ line (not the
worker's own log lines) while the others download, and a real warning (the download errors
log cannot be written: its path is a folder) is logged meanwhile."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from showkeeper.config import load_settings
from showkeeper.context import open_context
from showkeeper.downloads.engine import ERRORS_LOG_NAME
from tests.integration.downloads.queue_support import add_series, serve_directory
from tests.integration.downloads.servers import make_media
from tests.terminal import BAR, run_in_terminal, screen_lines


def test_log_lines_never_cut_through_the_bars(tmp_path: Path, library_dir: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    first = make_media(media / "e1.mp4", seconds=1)
    shutil.copyfile(first, media / "e2.mp4")
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_LIBRARY_DIR": str(library_dir),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "SHOWKEEPER_SCHEDULER_ENABLED": "false",
        "SHOWKEEPER_DOWNLOAD_MAX_ATTEMPTS": "1",  # the missing file fails for good at once
        "COLUMNS": "100",
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    settings = load_settings(env_file=None, data_dir=data_dir, library_dir=library_dir)
    (data_dir / "logs" / ERRORS_LOG_NAME).mkdir(parents=True)  # a failure cannot be recorded
    with serve_directory(media) as base:

        async def seed() -> None:
            async with open_context(settings) as ctx:
                candidates = {n: [{"url": f"{base}/e{n}.mp4"}] for n in (1, 2, 3)}
                await add_series(ctx.db, "tty-show", [(1, n, candidates[n]) for n in (1, 2, 3)])

        asyncio.run(seed())
        raw = run_in_terminal(
            [sys.executable, "-m", "showkeeper", "download", "--series", "tty"], env
        )
    lines = screen_lines(raw, 100)
    assert BAR in raw, raw[-3000:]  # the bars were drawn while it ran
    assert not any(BAR in line for line in lines), lines  # and gone once it ended
    warnings = [line for line in lines if "could not write the download errors log" in line]
    assert warnings, raw[-3000:]  # the warning was logged on the terminal
    for line in lines:
        if "download errors log" in line or "warning" in line:
            assert BAR not in line, f"a log line inside a progress bar line: {line!r}"
            assert line.lstrip().startswith("20"), f"a log line cut by a redraw: {line!r}"
    # the failure is one line of the view; the worker's own lines about it stay in the file
    (failed,) = [line for line in lines if line.startswith("✗")]
    assert failed.startswith("✗ S01E03 Episode 3  HTTP 404"), failed
    assert not any("download failed" in line or "All candidates" in line for line in lines)
    # nothing internal at the default level: worker owner ids stay in the log file
    assert not any("owner" in line or "item_id" in line for line in lines)
    assert sum(1 for line in lines if line.startswith("✓ S01E0")) == 2
    assert any("2 downloaded, 1 failed" in line for line in lines), lines[-5:]
    videos = sorted(p.name for p in library_dir.rglob("*.mp4"))
    assert len(videos) == 2
