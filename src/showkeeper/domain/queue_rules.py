"""The download queue's rules: states, retry backoff, global state, host limits.

Pure code, applied by the database layer: downloads/claim.py (host budgets, which items a
claim picks), downloads/finish.py (retry or fail, what "clear" removes), downloads/control.py
(pause, stop, resume) and the worker pool (whether claims and transfers may run). The
tests check them without a database or a clock.

An item goes queued -> downloading (claim) -> completed | failed | cancelled; downloading
-> queued when a retry is scheduled, a lease is released (stop) or expires (crash);
failed -> queued (retry). Each move is one conditional UPDATE whose WHERE names the states
it may come from, so the database decides races.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

ItemStatus = Literal["queued", "downloading", "completed", "failed", "cancelled"]
QueueState = Literal["running", "paused", "stopped"]
QueueCommand = Literal["start", "stop", "pause", "resume"]

STATUSES: Final[tuple[ItemStatus, ...]] = (
    "queued",
    "downloading",
    "completed",
    "failed",
    "cancelled",
)
ACTIVE: Final[frozenset[str]] = frozenset({"queued", "downloading"})
"""An episode has at most one item in these states."""
CLEARABLE: Final[frozenset[str]] = frozenset({"completed", "cancelled"})
"""What "clear completed" removes: finished items with nothing left to do."""

QUEUE_STATES: Final[tuple[QueueState, ...]] = ("running", "paused", "stopped")
DEFAULT_STATE: Final[QueueState] = "running"


def apply_command(state: QueueState, command: QueueCommand) -> QueueState:
    """The global queue state after a command.

    ``pause`` stops new downloads from starting and lets running ones finish; ``stop`` also
    interrupts running ones (they go back to queued and resume from their ``.part`` file);
    ``start`` and ``resume`` both return to running.
    """
    if command == "pause":
        return "stopped" if state == "stopped" else "paused"
    if command == "stop":
        return "stopped"
    return "running"


def claims_allowed(state: QueueState) -> bool:
    """Whether workers may start new downloads."""
    return state == "running"


def transfers_allowed(state: QueueState) -> bool:
    """Whether running downloads may continue."""
    return state != "stopped"


def retry_delay_s(attempts: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before the next attempt after ``attempts`` failed ones (>= 1).

    ``base * 2 ** (attempts - 1)``, capped at ``cap_s``: the first retry waits ``base_s``.
    """
    if attempts < 1:
        return 0.0
    exponent = min(attempts - 1, 60)  # 2**60 * base is past any cap; avoid float overflow
    return float(min(cap_s, base_s * 2.0**exponent))


def after_failure(attempts: int, max_attempts: int) -> Literal["retry", "failed"]:
    """What a failed attempt leads to, given the attempts made so far (this one included)."""
    return "failed" if attempts >= max_attempts else "retry"


def host_open(
    *,
    active: int,
    last_activity: datetime | None,
    now: datetime,
    limit: int | None,
    delay_s: float,
) -> bool:
    """Whether a new download from a host may start now.

    Args:
        active: Downloads from the host running now (in any worker).
        last_activity: When a download from the host last started or finished.
        limit: Most downloads at once from one host (None: no limit).
        delay_s: Seconds that must pass after the host's last start or finish.
    """
    if limit is not None and active >= limit:
        return False
    return not (
        delay_s > 0
        and last_activity is not None
        and now < last_activity + timedelta(seconds=delay_s)
    )


# -- adaptive politeness ------------------------------------------------------------------
# A host that answers 429 or 503, or keeps timing out, gets its per-host limit halved (floor
# 1) and no new request before its Retry-After; the limit then grows back by one per
# recovery interval without another such answer, until it is the configured one again. A
# host with its own concurrency (download_host_limits) keeps it; its pause still applies.

THROTTLE_STATUSES: Final[frozenset[int]] = frozenset({429, 503})
"""Answers that mean "slow down": Too Many Requests, Service Unavailable."""
DEFAULT_PAUSE_S: Final = 5.0
"""The pause when the server gives no Retry-After (or the host keeps timing out): long enough
for a rate limiter's window to move on, short enough not to stall a healthy host."""
MAX_PAUSE_S: Final = 6 * 3600.0
"""The longest Retry-After honoured: a larger value (or a date far ahead) is clipped to it."""
TIMEOUT_WINDOW_S: Final = 120.0
"""Two attempts on one host ending in a timeout within this window: it "keeps timing out"."""


@dataclass(frozen=True, slots=True)
class HostThrottle:
    """A host's adaptive state, as stored per host."""

    limit: int | None = None
    """The halved limit set at the last 429/503 (None: not lowered)."""
    until: datetime | None = None
    """No new request to the host before this (the Retry-After); the limit's recovery
    counts from here."""


def pause_s(retry_after_s: float | None) -> float:
    """How long a host is left alone after a 429/503: its Retry-After, within bounds."""
    if retry_after_s is None:
        return DEFAULT_PAUSE_S
    return min(max(retry_after_s, 0.0), MAX_PAUSE_S)


def host_paused(state: HostThrottle, now: datetime) -> bool:
    """Whether the host must get no new request now."""
    return state.until is not None and now < state.until


def adaptive_limit(
    state: HostThrottle, *, base: int | None, now: datetime, recovery_s: float
) -> int | None:
    """The lowered limit in force now, or None when the host is back to ``base``.

    The stored limit grows by one per ``recovery_s`` after ``state.until``.
    """
    if state.limit is None or base is None:
        return None
    grown = state.limit
    if state.until is None or now >= state.until:
        since = (now - state.until).total_seconds() if state.until is not None else 0.0
        grown += int(since // recovery_s) if recovery_s > 0 else base
    return None if grown >= base else grown


def normal_again_at(state: HostThrottle, *, base: int | None, recovery_s: float) -> datetime | None:
    """When the host is back to normal: paused no more and its limit grown back to ``base``."""
    if state.until is None:
        return None
    steps = 0 if state.limit is None or base is None else max(0, base - state.limit)
    return state.until + timedelta(seconds=steps * recovery_s)


def after_throttle(
    state: HostThrottle,
    *,
    base: int | None,
    own_concurrency: int | None,
    now: datetime,
    retry_after_s: float | None,
    recovery_s: float,
) -> HostThrottle:
    """A host's state after it answered 429/503 (or kept timing out).

    The pause runs to ``now + pause_s(retry_after_s)`` (never shortened). The limit in force
    is halved, floor 1, unless the host is already paused: answers to requests sent before
    the host was limited halve it once, not once each. A host with its own concurrency, or
    none to halve (``base`` None), only gets the pause.
    """
    until = now + timedelta(seconds=pause_s(retry_after_s))
    if state.until is not None and state.until > until:
        until = state.until
    if host_paused(state, now) or own_concurrency is not None or base is None:
        return HostThrottle(state.limit, until)
    current = adaptive_limit(state, base=base, now=now, recovery_s=recovery_s) or base
    return HostThrottle(max(1, current // 2), until)


def keeps_timing_out(previous_timeout: datetime | None, now: datetime) -> bool:
    """Whether a timed-out attempt, after one at ``previous_timeout``, limits the host."""
    return previous_timeout is not None and (
        now - previous_timeout <= timedelta(seconds=TIMEOUT_WINDOW_S)
    )


@dataclass(frozen=True, slots=True)
class HostBudget:
    """How many more downloads may start from each host in one claim."""

    open_slots: Mapping[str, int]
    """Hosts with a limit: slots left (0 = closed). Hosts not listed are unlimited."""
    default: int | None
    """Slots for a host not in ``open_slots`` (None: unlimited)."""


@dataclass(frozen=True, slots=True)
class HostLimit:
    """A host's own limits; None keeps the global setting."""

    concurrency: int | None = None
    delay_s: float | None = None


def host_budget(
    active: Mapping[str, int],
    last_activity: Mapping[str, datetime],
    *,
    now: datetime,
    limit: int | None,
    delay_s: float,
    overrides: Mapping[str, HostLimit] | None = None,
    throttles: Mapping[str, HostThrottle] | None = None,
    recovery_s: float = 30.0,
) -> HostBudget:
    """Slots per host for one claim: limit minus active, and at most one while a delay applies.

    A host that starts a download enters its delay, so with a delay only one item per host
    can start in one claim. ``overrides`` give some hosts their own limit and delay;
    ``throttles`` lower a host's limit (:func:`adaptive_limit`) or pause it.
    """
    overrides = overrides or {}
    throttles = throttles or {}
    per_claim_default = 1 if delay_s > 0 else limit
    slots: dict[str, int] = {}
    for host in set(active) | set(last_activity) | set(overrides) | set(throttles):
        own = overrides.get(host, HostLimit())
        throttle = throttles.get(host, HostThrottle())
        host_limit = limit if own.concurrency is None else own.concurrency
        if own.concurrency is None:
            lowered = adaptive_limit(throttle, base=limit, now=now, recovery_s=recovery_s)
            host_limit = host_limit if lowered is None else lowered
        host_delay = delay_s if own.delay_s is None else own.delay_s
        per_claim = 1 if host_delay > 0 else host_limit
        if host_paused(throttle, now) or not host_open(
            active=active.get(host, 0),
            last_activity=last_activity.get(host),
            now=now,
            limit=host_limit,
            delay_s=host_delay,
        ):
            slots[host] = 0
            continue
        left = None if host_limit is None else host_limit - active.get(host, 0)
        if per_claim is not None:
            left = per_claim if left is None else min(left, per_claim)
        if left is not None:
            slots[host] = left
    return HostBudget(open_slots=slots, default=per_claim_default)


def pick_claims(
    rows: Iterable[tuple[int, str | None]],
    budget: HostBudget,
    need: int,
    used: dict[str, int] | None = None,
) -> tuple[list[int], set[str]]:
    """Pick up to ``need`` item ids from rows in claim order, within each host's slots.

    Args:
        rows: ``(item_id, source_host)`` in priority order; a None host is never limited.
        budget: From :func:`host_budget`.
        need: How many items to pick.
        used: Slots already taken per host in this claim; updated in place.

    Returns:
        The picked ids and the hosts that are now full (exclude them when fetching more rows).
    """
    used = {} if used is None else used
    picked: list[int] = []
    full: set[str] = set()
    for item_id, host in rows:
        if len(picked) >= need:
            break
        if host is None:
            picked.append(item_id)
            continue
        slots = budget.open_slots.get(host, budget.default)
        if slots is not None and used.get(host, 0) >= slots:
            full.add(host)
            continue
        picked.append(item_id)
        used[host] = used.get(host, 0) + 1
        if slots is not None and used[host] >= slots:
            full.add(host)
    return picked, full


def closed_hosts(budget: HostBudget) -> set[str]:
    """Hosts with no slot left before the claim starts."""
    return {host for host, slots in budget.open_slots.items() if slots <= 0}


# scheme://[userinfo@]host — the host is a bracketed IPv6 literal or runs to : / ? #
_URL_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)")


def url_host(url: object) -> str | None:
    """The host name of an absolute URL, lower case (IPv6 without brackets); None if none."""
    if not isinstance(url, str):
        return None
    match = _URL_HOST.match(url)
    host = match.group(1).lower() if match else ""
    if host.startswith("["):
        host = host[1:-1]
    return host[:255] or None


def source_host(candidates: Iterable[Mapping[str, Any]] | None) -> str | None:
    """The host an episode downloads from: its first candidate's host (see :func:`url_host`)."""
    for candidate in candidates or ():
        return url_host(candidate.get("url")) if isinstance(candidate, Mapping) else None
    return None
