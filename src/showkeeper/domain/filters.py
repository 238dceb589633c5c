"""Per-series episode filters: which listed episodes a series keeps.

Pure code. The filter lives in ``Series.options`` as JSON::

    {"include": "regex", "exclude": "regex", "not_before": "2024-01-01",
     "min_duration_s": 300, "max_duration_s": 7200}

Regexes match anywhere in the title, case-insensitively. An episode whose date or duration
is unknown passes the date and duration rules (nothing says it breaks them); an episode
without a title fails an include rule and passes an exclude rule.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["FILTER_KEYS", "EpisodeFilter", "FilterError", "parse_filter"]

FILTER_KEYS: Final = frozenset(
    {"include", "exclude", "not_before", "min_duration_s", "max_duration_s"}
)
MAX_PATTERN_LENGTH: Final = 500
MAX_DURATION_S: Final = 7 * 24 * 3600


class FilterError(ValueError):
    """An option value is invalid; the message names the option and the problem."""


@dataclass(frozen=True, slots=True)
class EpisodeFilter:
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    not_before: dt.date | None = None
    min_duration_s: int | None = None
    max_duration_s: int | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.include is None
            and self.exclude is None
            and self.not_before is None
            and self.min_duration_s is None
            and self.max_duration_s is None
        )

    def accepts(self, title: str | None, air_date: dt.date | None, duration_s: int | None) -> bool:
        """True when an episode with these fields is kept."""
        text = title or ""
        if self.include is not None and (not text or self.include.search(text) is None):
            return False
        if self.exclude is not None and text and self.exclude.search(text) is not None:
            return False
        if self.not_before is not None and air_date is not None and air_date < self.not_before:
            return False
        if duration_s is not None:
            if self.min_duration_s is not None and duration_s < self.min_duration_s:
                return False
            if self.max_duration_s is not None and duration_s > self.max_duration_s:
                return False
        return True


def _pattern(name: str, value: Any) -> re.Pattern[str] | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FilterError(f"option {name} must be a regular expression string")
    if len(value) > MAX_PATTERN_LENGTH:
        raise FilterError(f"option {name} is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise FilterError(
            f"option {name} is not a valid regular expression: {exc.msg}{where} in {value!r}"
        ) from None


def _date(name: str, value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise FilterError(f"option {name} must be a date written YYYY-MM-DD, not {value!r}")


def _duration(name: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FilterError(f"option {name} must be a number of seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise FilterError(f"option {name} must be a number of seconds, not {value!r}") from None
    if not 0 <= seconds <= MAX_DURATION_S:
        raise FilterError(f"option {name} must be between 0 and {MAX_DURATION_S} seconds")
    return int(seconds)


def parse_filter(options: dict[str, Any]) -> EpisodeFilter:
    """Read the filter rules out of a series' options (other keys are ignored).

    Raises:
        FilterError: a rule is malformed (bad regex, date or duration; min above max).
    """
    result = EpisodeFilter(
        include=_pattern("include", options.get("include")),
        exclude=_pattern("exclude", options.get("exclude")),
        not_before=_date("not_before", options.get("not_before")),
        min_duration_s=_duration("min_duration_s", options.get("min_duration_s")),
        max_duration_s=_duration("max_duration_s", options.get("max_duration_s")),
    )
    low, high = result.min_duration_s, result.max_duration_s
    if low is not None and high is not None and low > high:
        raise FilterError(f"option min_duration_s ({low}) is above max_duration_s ({high})")
    return result
