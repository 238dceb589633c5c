"""The CLI's download view fed with the pool's events: its lines, bars and summary, drawn
on a real rich Console writing to memory."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from showkeeper.cli.download_view import (
    DownloadRun,
    DownloadView,
    episode_label,
    fit,
    human_duration,
    human_size,
    short_reason,
)
from showkeeper.downloads.engine import failure_line
from showkeeper.downloads.foreground import ItemView
from showkeeper.events import Event
from showkeeper.logging import INTERNAL_KEYS, get_logger, hidden_on_console, setup_logging


def test_sizes_durations_and_labels() -> None:
    assert human_size(None) == "?"
    assert human_size(999) == "999 B"
    assert human_size(8_000_000) == "8.0 MB"
    assert human_size(1_500_000_000) == "1.5 GB"
    assert human_duration(2.14) == "2.1 s"
    assert human_duration(185) == "3 min 05 s"
    assert human_duration(3720) == "1 h 02 min"
    assert episode_label(1, 3, "  The\nTitle ") == "S01E03 The Title"
    assert episode_label(0, 12, None) == "S00E12"


def test_fit_counts_terminal_cells() -> None:
    assert fit("short", 10) == "short"
    assert fit("exactly10!", 10) == "exactly10!"
    assert fit("a longer title", 8) == "a longe…"
    assert fit("進撃の巨人", 6) == "進撃…"  # two cells a character


def test_short_reason_reads_the_engines_failure_line() -> None:
    url = "http://media.example/e3.mp4"
    line = failure_line(
        "show S01E03",
        [(url, f"{url} answered HTTP 404 Not Found"), ("http://m2/e3.mp4", "timed out")],
    )
    assert short_reason(line) == "HTTP 404 Not Found; timed out"
    assert short_reason("no candidates\n  to try") == "no candidates to try"
    assert short_reason(None) == "failed"


def test_summary_line() -> None:
    run = DownloadRun({1: "completed", 2: "completed", 3: "failed"}, size=16_000_000, seconds=4.2)
    assert run.summary() == "2 downloaded, 1 failed (16.0 MB in 4.2 s)"
    assert DownloadRun().summary() == "0 downloaded, 0 failed"
    assert DownloadRun({1: "queued"}).summary() == "0 downloaded, 0 failed, 1 not finished"


def items(n: int) -> dict[int, ItemView]:
    return {i: ItemView(i, 1, i, f"Title {i}", "queued", None, None) for i in range(101, 101 + n)}


def event(type_: str, **data: object) -> Event:
    return Event(type_, dict(data))


def test_lines_without_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, width=60)
    with DownloadView(console, items(3)) as view:
        assert view.progress is None  # no bars when piped
        view.handle(event("queue_status", action="started", item_id=101))
        view.handle(event("download_progress", item_id=101, bytes=10, total=20))
        view.handle(event("download_complete", item_id=101, size=8_000_000))
        view.handle(event("queue_status", action="completed", item_id=101))
        view.handle(event("download_failed", item_id=102, error="no candidates"))
        view.handle(event("download_complete", item_id=999, size=1))  # not ours
        later = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
        view.handle(
            event(
                "queue_status",
                action="retry_scheduled",
                item_id=103,
                error="timed out",
                next_attempt_at=later,
            )
        )
        view.report_unseen(
            {
                101: ItemView(101, 1, 101, "Title 101", "completed", 8_000_000, None),
                103: ItemView(103, 1, 103, "Title 103", "completed", 5_000_000, None),
            }
        )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✓ S01E101 Title 101  8.0 MB  ")
    assert lines[0].endswith(" s")
    assert lines[1] == "✗ S01E102 Title 102  no candidates"
    assert lines[2].startswith("↻ S01E103 Title 103  timed out; again in ")
    assert lines[3] == "✓ S01E103 Title 103  5.0 MB"  # finished elsewhere: no time known
    assert len(lines) == 4


def test_bars_only_for_running_downloads() -> None:
    console = Console(file=io.StringIO(), width=80, force_terminal=True)
    view = DownloadView(console, items(4))
    with view:
        assert view.progress is not None
        for item_id in (101, 102, 103):
            view.handle(event("queue_status", action="started", item_id=item_id))
        assert len(view.progress.tasks) == 3
        view.handle(event("download_complete", item_id=101, size=1))
        view.handle(event("queue_status", action="released", item_id=102))
        view.handle(event("download_failed", item_id=103, error="gone"))
        assert view.progress.tasks == []
        view.handle(event("queue_status", action="started", item_id=102))
        view.handle(event("queue_status", action="cancelled", item_ids=[102]))
        assert view.progress.tasks == []
        for item_id in (101, 102):
            view.handle(event("queue_status", action="started", item_id=item_id))
        view.sync({101: "downloading", 102: "cancelled"})  # cancelled by another process
        assert [t.description for t in view.progress.tasks] == ["S01E101 Title 101"]
        view.sync({})  # removed
        assert view.progress.tasks == []
        view.handle(event("download_progress", item_id=104, bytes=5, total=10))
        (task,) = view.progress.tasks
        assert task.description == "S01E104 Title 104" and task.completed == 5
    assert view.progress is None


def test_a_long_title_stays_on_one_line() -> None:
    out = io.StringIO()
    console = Console(file=out, width=40)
    long = {1: ItemView(1, 2, 7, "word " * 30, "queued", None, None)}
    with DownloadView(console, long) as view:
        view.handle(event("download_complete", item_id=1, size=3_000))
        view.handle(event("download_failed", item_id=1, error="reason " * 20))
    done, failed = out.getvalue().splitlines()
    assert done.startswith("✓ S02E07 word") and done.endswith("…  3.0 kB")
    assert failed.startswith("✗ S02E07 word") and failed.endswith("…")
    assert len(done) <= 40 and len(failed) <= 40


def test_console_leaves_out_internal_ids_and_what_the_view_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO", console_format="console", console_hidden_keys=INTERNAL_KEYS)
    log = get_logger("showkeeper.test")
    try:
        log.warning("reclaimed downloads", item_ids=[4], owner="host:1:abcdef12", count=1)
        with hidden_on_console({"download failed"}, prefixes=("All candidates failed",)):
            log.warning("download failed", item_id=4, error="x")
            logging.getLogger("showkeeper.std").error("All candidates failed for a; tried=[]")
            log.warning("disk nearly full", free=1)
        log.warning("download failed", error="y")
    finally:
        setup_logging("INFO")
    err = capsys.readouterr().err
    assert "reclaimed downloads" in err and "count=1" in err
    assert "owner" not in err and "item_id" not in err and "abcdef12" not in err
    assert "disk nearly full" in err
    assert "error=x" not in err and "All candidates" not in err  # hidden within the block
    assert "error=y" in err  # and back after it
