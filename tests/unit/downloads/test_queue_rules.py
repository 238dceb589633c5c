"""The queue's pure rules: commands, backoff, host budgets, adaptive politeness, URL hosts.

The clock is a plain ``now`` argument: each test moves it by hand."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.domain.queue_rules import (
    DEFAULT_PAUSE_S,
    MAX_PAUSE_S,
    HostBudget,
    HostLimit,
    HostThrottle,
    adaptive_limit,
    after_failure,
    after_throttle,
    apply_command,
    claims_allowed,
    host_budget,
    host_open,
    host_paused,
    keeps_timing_out,
    normal_again_at,
    pause_s,
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


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_a_429_halves_the_limit_pauses_the_host_and_the_limit_grows_back() -> None:
    state = after_throttle(
        HostThrottle(), base=4, own_concurrency=None, now=NOW, retry_after_s=2, recovery_s=30
    )
    assert state == HostThrottle(limit=2, until=NOW + seconds(2))
    assert host_paused(state, NOW + seconds(1.999))
    assert not host_paused(state, NOW + seconds(2))

    def limit_at(later: float) -> int | None:
        return adaptive_limit(state, base=4, now=NOW + seconds(later), recovery_s=30)

    # recovery counts from the end of the pause: +1 per 30 s without another 429/503
    assert [limit_at(t) for t in (0, 2, 31.9, 32, 61.9)] == [2, 2, 2, 3, 3]
    assert limit_at(62) is None  # back to the configured 4: nothing lowered any more
    assert normal_again_at(state, base=4, recovery_s=30) == NOW + seconds(62)
    assert normal_again_at(HostThrottle(None, NOW), base=4, recovery_s=30) == NOW
    assert normal_again_at(HostThrottle(), base=4, recovery_s=30) is None


def test_answers_to_requests_sent_before_the_limit_halve_it_once() -> None:
    first = after_throttle(
        HostThrottle(), base=8, own_concurrency=None, now=NOW, retry_after_s=10, recovery_s=30
    )
    burst = after_throttle(
        first, base=8, own_concurrency=None, now=NOW + seconds(1), retry_after_s=3, recovery_s=30
    )
    assert burst == first  # still paused: same limit, and the pause is never shortened
    longer = after_throttle(
        first, base=8, own_concurrency=None, now=NOW + seconds(1), retry_after_s=60, recovery_s=30
    )
    assert longer == HostThrottle(4, NOW + seconds(61))


def test_a_429_after_the_pause_halves_what_had_grown_back_down_to_one() -> None:
    state = HostThrottle(limit=2, until=NOW)
    later = NOW + seconds(45)  # grown to 3
    again = after_throttle(
        state, base=8, own_concurrency=None, now=later, retry_after_s=None, recovery_s=30
    )
    assert again == HostThrottle(1, later + seconds(DEFAULT_PAUSE_S))
    floor = after_throttle(
        again,
        base=8,
        own_concurrency=None,
        now=later + seconds(DEFAULT_PAUSE_S),
        retry_after_s=None,
        recovery_s=30,
    )
    assert floor.limit == 1


def test_a_host_with_its_own_concurrency_keeps_it_but_honours_the_pause() -> None:
    state = after_throttle(
        HostThrottle(), base=4, own_concurrency=6, now=NOW, retry_after_s=2, recovery_s=30
    )
    assert state == HostThrottle(None, NOW + seconds(2))
    overrides = {"own.example": HostLimit(concurrency=6)}
    paused = host_budget(
        {},
        {},
        now=NOW + seconds(1),
        limit=4,
        delay_s=0,
        overrides=overrides,
        throttles={"own.example": state},
    )
    assert paused.open_slots == {"own.example": 0}
    after = host_budget(
        {"own.example": 1},
        {},
        now=NOW + seconds(2),
        limit=4,
        delay_s=0,
        overrides=overrides,
        throttles={"own.example": HostThrottle(1, NOW)},
    )
    assert after.open_slots == {"own.example": 5}  # its own 6, not the lowered 1


def test_the_budget_uses_the_lowered_limit_and_closes_paused_hosts() -> None:
    throttles = {
        "busy.example": HostThrottle(2, NOW - seconds(1)),
        "paused.example": HostThrottle(2, NOW + seconds(1)),
        "recovered.example": HostThrottle(1, NOW - seconds(200)),
    }
    budget = host_budget(
        {"busy.example": 1, "recovered.example": 1},
        {},
        now=NOW,
        limit=4,
        delay_s=0,
        throttles=throttles,
        recovery_s=30,
    )
    assert budget.open_slots == {
        "busy.example": 1,  # lowered to 2, one running
        "paused.example": 0,
        "recovered.example": 3,  # grown back to 4
    }
    rows = [(1, "busy.example"), (2, "busy.example"), (3, "paused.example"), (4, "x.example")]
    assert pick_claims(rows, budget, need=10)[0] == [1, 4]


def test_retry_after_bounds() -> None:
    assert pause_s(None) == DEFAULT_PAUSE_S
    assert pause_s(-3) == 0
    assert pause_s(2.5) == 2.5
    assert pause_s(10**9) == MAX_PAUSE_S


def test_no_lowering_without_a_limit_to_lower() -> None:
    state = after_throttle(
        HostThrottle(), base=None, own_concurrency=None, now=NOW, retry_after_s=1, recovery_s=30
    )
    assert state == HostThrottle(None, NOW + seconds(1))
    assert adaptive_limit(HostThrottle(2, NOW), base=None, now=NOW, recovery_s=30) is None


def test_two_timeouts_within_the_window_mean_the_host_keeps_timing_out() -> None:
    assert not keeps_timing_out(None, NOW)
    assert keeps_timing_out(NOW - seconds(119), NOW)
    assert not keeps_timing_out(NOW - seconds(121), NOW)
