"""`showkeeper download` on a real terminal: log lines print above the progress bars, never
through them. The command runs in a pseudo-terminal, so rich draws its live bars as it does
for a person; pyte (a VT100 emulator) replays what it wrote, and the screen and its
scrollback are read the way a person reads them. A failing episode makes a warning line
while the others download."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from showkeeper.config import load_settings
from showkeeper.context import open_context
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
    assert any(BAR in line for line in lines), raw[-3000:]  # the bars were drawn
    warnings = [line for line in lines if "download failed" in line]
    assert warnings, raw[-3000:]  # and the failure was logged on the terminal
    for line in lines:
        if "download failed" in line or "warning" in line:
            assert BAR not in line, f"a log line inside a progress bar line: {line!r}"
            assert line.lstrip().startswith("20"), f"a log line cut by a redraw: {line!r}"
    # nothing internal at the default level: worker owner ids stay in the log file
    assert not any("owner=" in line for line in lines)
    assert any("2 downloaded, 1 failed" in line for line in lines), lines[-5:]
    videos = sorted(p.name for p in library_dir.rglob("*.mp4"))
    assert len(videos) == 2
