"""Progress meter: rate limiting, speed and ETA (with a fake clock)."""

from __future__ import annotations

import itertools

import pytest

from showkeeper.downloads.progress import ProgressMeter
from showkeeper.downloads.transfer import TransferProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reports_at_most_four_per_second() -> None:
    clock = Clock()
    reports: list[tuple[float, TransferProgress]] = []
    meter = ProgressMeter(lambda p: reports.append((clock.now, p)), total=10_000, clock=clock)
    for _ in range(1000):  # 1000 chunks over 10 simulated seconds
        clock.now += 0.01
        meter.add(10)
    meter.finish()
    times = [t for t, _ in reports]
    gaps = [b - a for a, b in itertools.pairwise(times[:-1])]  # the final report is extra
    assert min(gaps) >= 0.25 - 1e-9
    assert len(reports) <= 10 * 4 + 2
    assert reports[-1][1].downloaded_bytes == 10_000
    assert reports[-1][1].eta_s == 0.0


def test_speed_and_eta() -> None:
    clock = Clock()
    reports: list[TransferProgress] = []
    meter = ProgressMeter(reports.append, total=1_000_000, clock=clock)
    for _ in range(8):
        clock.now += 0.25
        meter.add(25_000)  # 100 kB/s
    last = reports[-1]
    assert last.speed_bps == pytest.approx(100_000, rel=0.01)
    assert last.eta_s == pytest.approx((1_000_000 - 200_000) / 100_000, rel=0.01)


def test_resumed_bytes_do_not_count_as_speed() -> None:
    clock = Clock()
    reports: list[TransferProgress] = []
    meter = ProgressMeter(reports.append, total=None, clock=clock)
    meter.start_at(5_000_000)
    clock.now += 1
    meter.add(1000)
    assert reports[-1].downloaded_bytes == 5_001_000
    assert reports[-1].speed_bps == pytest.approx(1000)
    assert reports[-1].eta_s is None


def test_speed_window_forgets_old_bursts() -> None:
    clock = Clock()
    reports: list[TransferProgress] = []
    meter = ProgressMeter(reports.append, clock=clock)
    clock.now += 0.3
    meter.add(10_000_000)  # a burst, then a slow trickle for ten seconds
    for _ in range(40):
        clock.now += 0.25
        meter.add(250)
    assert reports[-1].speed_bps == pytest.approx(1000, rel=0.2)


def test_update_sets_absolute_values() -> None:
    clock = Clock()
    reports: list[TransferProgress] = []
    meter = ProgressMeter(reports.append, clock=clock)
    clock.now += 1
    meter.update(500, 2000)
    assert reports[-1].downloaded_bytes == 500
    assert reports[-1].total_bytes == 2000
    assert meter.downloaded == 500


def test_without_callback_it_only_counts() -> None:
    meter = ProgressMeter(None)
    meter.add(5)
    meter.finish()
    assert meter.snapshot().downloaded_bytes == 5
