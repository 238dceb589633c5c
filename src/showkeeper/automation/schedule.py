"""When the daily rescan runs next: pure date arithmetic in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def next_daily(after: datetime, *, at: str, weekdays: list[str], tz: str) -> datetime:
    """The first HH:MM on one of `weekdays` in `tz` strictly after `after`, in UTC.

    Args:
        after: an aware datetime.
        at: "HH:MM", 24-hour, local to tz.
        weekdays: names from WEEKDAYS; empty means every day.
        tz: an IANA time zone.
    """
    zone = ZoneInfo(tz)
    hour, minute = (int(part) for part in at.split(":"))
    local = after.astimezone(zone)
    days = set(weekdays) or set(WEEKDAYS)
    for offset in range(0, 9):
        day = local.date() + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in days:
            continue
        candidate = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if candidate.astimezone(UTC) > after.astimezone(UTC):
            return candidate.astimezone(UTC)
    raise ValueError("no weekday to schedule on")  # unreachable with a non-empty set
