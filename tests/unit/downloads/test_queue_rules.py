"""The queue's pure rules: commands, backoff, host budgets, URL hosts."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.domain.queue_rules import (
    HostBudget,
    after_failure,
    apply_command,
    claims_allowed,
    host_budget,
    host_open,
    pick_claims,
    retry_delay_s,
    source_host,
    transfers_allowed,
    url_host,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "command", "expected"),
    [
        ("running", "pause", "paused"),
        ("running", "stop", "stopped"),
        ("paused", "resume", "running"),
        ("stopped", "pause", "stopped"),  # pausing a stopped queue does not let transfers run
        ("stopped", "start", "running"),
        ("paused", "stop", "stopped"),
    ],
)
def test_commands(state, command, expected) -> None:
    assert apply_command(state, command) == expected


def test_what_each_state_allows() -> None:
    assert claims_allowed("running") and transfers_allowed("running")
    assert not claims_allowed("paused") and transfers_allowed("paused")
    assert not claims_allowed("stopped") and not transfers_allowed("stopped")


def test_backoff_doubles_from_the_base_and_is_capped() -> None:
    delays = [retry_delay_s(n, base_s=30, cap_s=600) for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 600, 600]
    assert retry_delay_s(0, base_s=30, cap_s=600) == 0
    assert retry_delay_s(10_000, base_s=30, cap_s=600) == 600  # no overflow


@given(st.integers(1, 60), st.integers(1, 60))
def test_after_failure_fails_exactly_at_max_attempts(attempts, max_attempts) -> None:
    expected = "failed" if attempts >= max_attempts else "retry"
    assert after_failure(attempts, max_attempts) == expected


def test_host_open_limit_and_delay() -> None:
    recent = NOW - timedelta(seconds=0.2)
    assert host_open(active=0, last_activity=None, now=NOW, limit=1, delay_s=0.3)
    assert not host_open(active=1, last_activity=None, now=NOW, limit=1, delay_s=0)
    assert not host_open(active=0, last_activity=recent, now=NOW, limit=1, delay_s=0.3)
    assert host_open(active=0, last_activity=recent, now=NOW, limit=1, delay_s=0.1)
    assert host_open(active=5, last_activity=None, now=NOW, limit=None, delay_s=0)


def test_budget_and_picking_respect_per_host_slots() -> None:
    budget = host_budget({"a": 1, "b": 0}, {}, now=NOW, limit=2, delay_s=0)
    assert budget.open_slots == {"a": 1, "b": 2}
    rows = [(1, "a"), (2, "a"), (3, "b"), (4, "c"), (5, "c"), (6, "c"), (7, None)]
    picked, full = pick_claims(rows, budget, need=10)
    assert picked == [1, 3, 4, 5, 7]
    assert full == {"a", "c"}


def test_a_delay_allows_one_start_per_host_per_claim() -> None:
    budget = host_budget({}, {"slow": NOW - timedelta(seconds=1)}, now=NOW, limit=3, delay_s=5)
    assert budget.open_slots == {"slow": 0}
    picked, _ = pick_claims([(1, "slow"), (2, "x"), (3, "x"), (4, "y")], budget, need=5)
    assert picked == [2, 4]


@given(
    st.lists(st.tuples(st.integers(1, 10_000), st.sampled_from(["a", "b", "c", None]))),
    st.integers(0, 20),
    st.integers(1, 4),
)
def test_picking_never_exceeds_need_or_slots(rows, need, limit) -> None:
    rows = list(dict(rows).items())  # unique ids
    budget = HostBudget(open_slots={}, default=limit)
    picked, _ = pick_claims(rows, budget, need)
    assert len(picked) <= need
    hosts = dict(rows)
    for host in ("a", "b", "c"):
        assert sum(1 for i in picked if hosts[i] == host) <= limit
    order = [i for i, _ in rows]
    assert picked == sorted(picked, key=order.index)  # claim order kept


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://Media.Example:8080/a.mp4", "media.example"),
        ("https://user:pw@cdn.example/x", "cdn.example"),
        ("http://[::1]:8000/v", "::1"),
        ("http://127.0.0.2/v.mp4?x=1", "127.0.0.2"),
        ("not a url", None),
        ("http:///nohost", None),
        (None, None),
    ],
)
def test_url_host(url, host) -> None:
    assert url_host(url) == host


def test_source_host_is_the_first_candidates_host() -> None:
    assert source_host([{"url": "http://a.example/1"}, {"url": "http://b.example/2"}]) == (
        "a.example"
    )
    assert source_host([]) is None
    assert source_host(None) is None
