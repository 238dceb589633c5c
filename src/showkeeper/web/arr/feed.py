"""The iCal feed at Sonarr's path: one all-day event per episode with an air date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from showkeeper import __version__
from showkeeper.db.models import Episode
from showkeeper.series.episodes import episodes_between, series_names
from showkeeper.web.deps import DbDep

router = APIRouter(tags=["sonarr v3"])
FEED_PATH = "/feed/v3/calendar/showkeeper.ics"
MAX_DAYS = 3650


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def _line(text: str) -> str:
    """One line of text: a title's line breaks and control characters become spaces."""
    return _CONTROLS.sub(" ", text).strip()


def build_calendar(
    episodes: list[Episode], names: dict[int, tuple[str, str]], *, stamp: datetime
) -> bytes:
    """The VCALENDAR; icalendar escapes every text value (titles are remote metadata)."""
    # icalendar (with dateutil: ~3 MB) loads when a calendar is asked for, not with the server
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", f"-//showkeeper//{__version__}//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "showkeeper")
    for ep in episodes:
        if ep.air_date is None:
            continue
        key, raw_name = names.get(ep.series_id, ("", "unknown series"))
        name = _line(raw_name)
        title = _line(ep.title) if ep.title else None
        number = f"{ep.season}x{ep.episode:02d}"
        event = Event()
        # stable across runs and servers' restarts: the episode's id and series key
        event.add("uid", f"showkeeper-{key}-{ep.id}@showkeeper")
        event.add("dtstamp", stamp)
        event.add("dtstart", ep.air_date)
        event.add("dtend", ep.air_date + timedelta(days=1))
        event.add("summary", f"{name} - {number}" + (f" - {title}" if title else ""))
        event.add(
            "description",
            f"{name}, season {ep.season}, episode {ep.episode}"
            + (f": {title}" if title else "")
            + (" (downloaded)" if ep.is_downloaded else ""),
        )
        event.add("categories", [name])
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


@router.get(FEED_PATH)
async def calendar_feed(
    db: DbDep,
    pastDays: Annotated[int, Query(ge=0, le=MAX_DAYS)] = 7,
    futureDays: Annotated[int, Query(ge=0, le=MAX_DAYS)] = 28,
    unmonitored: bool = False,
    tags: Annotated[str | None, Query(max_length=1000)] = None,
    premieresOnly: bool = False,
    asAllDay: bool = True,
) -> Response:
    """Episodes airing from pastDays ago to futureDays ahead, as text/calendar."""
    today: date = datetime.now(UTC).date()
    found = await episodes_between(
        db,
        today - timedelta(days=pastDays),
        today + timedelta(days=futureDays),
        unmonitored=unmonitored,
    )
    if premieresOnly:
        found = [e for e in found if e.episode == 1]
    names = await series_names(db, [e.series_id for e in found])
    body = build_calendar(found, names, stamp=datetime.now(UTC).replace(microsecond=0))
    return Response(body, media_type="text/calendar; charset=utf-8")
