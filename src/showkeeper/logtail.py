"""The last lines of the log file (JSON lines written by logging.py), for the System page."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LogLine:
    time: str
    level: str
    logger: str
    message: str
    extra: str


def log_file(data_dir: Path) -> Path:
    return data_dir / "logs" / "showkeeper.log"


def _last_lines(path: Path, count: int, max_bytes: int = 8 * 1024 * 1024) -> list[str]:
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            data = b""
            pos = end
            while pos > 0 and data.count(b"\n") <= count and end - pos < max_bytes:
                step = min(_CHUNK, pos)
                pos -= step
                f.seek(pos)
                data = f.read(step) + data
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    if pos > 0 and lines:
        lines = lines[1:]  # the first one may be cut
    return lines[-count:] if count else []


def _parse(raw: str) -> LogLine:
    try:
        record: Any = json.loads(raw)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return LogLine("", "INFO", "", raw[:2000], "")
    known = {"timestamp", "level", "logger", "event"}
    extra = " ".join(f"{k}={v}" for k, v in record.items() if k not in known)
    return LogLine(
        time=str(record.get("timestamp", "")),
        level=str(record.get("level", "info")).upper(),
        logger=str(record.get("logger", "")),
        message=str(record.get("event", ""))[:2000],
        extra=extra[:2000],
    )


def tail(path: Path, *, lines: int = 200, level: str | None = None) -> list[LogLine]:
    """The last ``lines`` lines at ``level`` or above (all levels when None), oldest first."""
    floor = LEVELS.index(level) if level in LEVELS else 0
    wanted: list[LogLine] = []
    window = lines
    while True:
        raw = _last_lines(path, window)
        parsed = [p for p in map(_parse, raw) if _rank(p.level) >= floor]
        wanted = parsed[-lines:]
        if len(wanted) >= lines or len(raw) < window or window >= lines * 64:
            return wanted
        window *= 4


def _rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 1
