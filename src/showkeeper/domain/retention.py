"""Retention rules: which episodes of a series to remove. Pure: no disk, no database, no clock.

A rule keeps the newest N episodes and/or removes episodes older than D days, counted by air
date or by download date (showkeeper cannot know what was watched). Counted by air date, the
rule covers every aired episode of the series, so an episode outside it is not downloaded
just to be deleted; counted by download date, it covers what is on disk.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Literal

By = Literal["air_date", "downloaded"]
BY_VALUES: tuple[By, ...] = ("air_date", "downloaded")
DEFAULT_MAX_SHARE = 0.5
MAX_DAYS = 36500
MAX_KEEP = 100000


class RuleError(ValueError):
    """A retention rule was refused; the message names the key and what is accepted."""


@dataclass(frozen=True, slots=True)
class RetentionRule:
    keep_newest: int | None = None
    max_age_days: int | None = None
    by: By = "air_date"

    @property
    def active(self) -> bool:
        return self.keep_newest is not None or self.max_age_days is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        parts = []
        if self.keep_newest is not None:
            parts.append(f"keep the newest {self.keep_newest}")
        if self.max_age_days is not None:
            parts.append(f"remove after {self.max_age_days} days")
        what = "air date" if self.by == "air_date" else "download date"
        return f"{' and '.join(parts)} (by {what})" if parts else "keep everything"


def _count(key: str, value: Any, maximum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(f"{key} must be a whole number or null, got {value!r}")
    if value < 1:
        raise RuleError(
            f"{key} = {value} would remove every episode; use at least 1, or null for no limit"
        )
    if value > maximum:
        raise RuleError(f"{key} = {value} is more than {maximum}")
    return value


def parse_rule(values: dict[str, Any]) -> RetentionRule:
    """A rule from JSON values (``keep_newest``, ``max_age_days``, ``by``).

    Raises:
        RuleError: an unknown key, 0 or a negative count, an unknown ``by``.
    """
    unknown = sorted(set(values) - {"keep_newest", "max_age_days", "by"})
    if unknown:
        raise RuleError(f"unknown retention key {unknown[0]!r}: use keep_newest, max_age_days, by")
    by = values.get("by", "air_date")
    if by not in BY_VALUES:
        raise RuleError(f"by must be air_date or downloaded, got {by!r}")
    return RetentionRule(
        keep_newest=_count("keep_newest", values.get("keep_newest"), MAX_KEEP),
        max_age_days=_count("max_age_days", values.get("max_age_days"), MAX_DAYS),
        by=by,
    )


def parse_share(value: Any) -> float:
    """The safety floor: the largest share of a series' files one unconfirmed run removes.

    Raises:
        RuleError: not a number in (0, 1].
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise RuleError(f"max_share must be a number above 0 and at most 1, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file (or one episode without a file) a rule looks at."""

    key: str  # the file path, or "episode:<id>" for one that is not on disk
    when: date | None  # air date or download date
    order: tuple[int, int]  # (season, episode): ties and undated episodes
    on_disk: bool


def select_removed(
    rule: RetentionRule, candidates: list[Candidate], today: date
) -> list[tuple[Candidate, str]]:
    """The candidates the rule removes, each with the reason, newest first.

    Undated candidates sort below dated ones (by season and episode) and never expire.
    """
    ranked = sorted(
        candidates,
        key=lambda c: (c.when is not None, c.when or date.min, c.order),
        reverse=True,
    )
    removed: list[tuple[Candidate, str]] = []
    cutoff = today - timedelta(days=rule.max_age_days) if rule.max_age_days else None
    for index, cand in enumerate(ranked):
        if rule.keep_newest is not None and index >= rule.keep_newest:
            removed.append((cand, f"beyond the newest {rule.keep_newest}"))
        elif cutoff is not None and cand.when is not None and cand.when < cutoff:
            removed.append((cand, f"older than {rule.max_age_days} days"))
    return removed
