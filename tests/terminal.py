"""Run a command on a pseudo-terminal and read what a person would have seen (pyte replays
the output on a VT100 screen with scrollback)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pyte

BAR = "━"


def run_in_terminal(argv: list[str], env: dict[str, str], timeout: float = 180) -> str:
    """Run argv with a pseudo-terminal as its stdout and stderr; everything it wrote."""
    main, child = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env)
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    data = os.read(main, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def screen_lines(raw: str, columns: int) -> list[str]:
    """Every line a person saw scroll by and on the final screen, as the terminal drew it."""
    screen = pyte.HistoryScreen(columns, 24, history=10_000)
    stream = pyte.Stream(screen)
    stream.feed(raw.replace("\n", "\r\n"))  # the pty's ONLCR, which pyte does not apply
    history = ["".join(line[x].data for x in range(columns)) for line in screen.history.top]
    return [line.rstrip() for line in [*history, *screen.display] if line.strip()]
