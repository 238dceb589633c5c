"""Work sharing between ranged connections (pure bookkeeping, no I/O)."""

from __future__ import annotations

import itertools

from showkeeper.downloads.ranged import STEAL_MIN, _Plan

MiB = 1024 * 1024


def test_first_connection_takes_everything_missing() -> None:
    plan = _Plan([], 100 * MiB)
    first = plan.next_piece()
    assert first is not None and (first.start, first.end) == (0, 100 * MiB)
    assert plan.received() == 0


def test_newcomers_take_half_of_the_largest_remaining_range() -> None:
    plan = _Plan([], 80 * MiB)
    pieces = [plan.next_piece() for _ in range(4)]
    assert all(p is not None for p in pieces)
    shares = sorted(p.end - p.start for p in pieces if p is not None)
    assert shares == [20 * MiB] * 4  # 80 -> 40+40 -> 20+20+40 -> 20*4
    # The pieces tile the file without overlap.
    spans = sorted((p.start, p.end) for p in pieces if p is not None)
    assert spans[0][0] == 0 and spans[-1][1] == 80 * MiB
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_progress_is_respected_when_stealing() -> None:
    plan = _Plan([], 40 * MiB)
    first = plan.next_piece()
    assert first is not None
    first.pos = 30 * MiB  # 10 MiB left
    second = plan.next_piece()
    assert second is not None
    assert (second.start, second.end) == (35 * MiB, 40 * MiB)
    assert first.end == 35 * MiB
    assert plan.received() == 30 * MiB
    assert plan.done() == [(0, 30 * MiB)]


def test_nothing_small_is_split_and_exhaustion_is_signalled() -> None:
    plan = _Plan([], STEAL_MIN - 1)
    assert plan.next_piece() is not None
    assert plan.next_piece() is None
    assert plan.exhausted.is_set()


def test_resume_starts_from_the_gaps() -> None:
    plan = _Plan([(0, 10 * MiB), (20 * MiB, 30 * MiB)], 40 * MiB)
    assert plan.received() == 20 * MiB
    first, second = plan.next_piece(), plan.next_piece()
    assert first is not None and second is not None
    assert [(first.start, first.end), (second.start, second.end)] == [
        (10 * MiB, 20 * MiB),
        (30 * MiB, 40 * MiB),
    ]
    first.pos = 15 * MiB
    assert plan.done() == [(0, 15 * MiB), (20 * MiB, 30 * MiB)]
