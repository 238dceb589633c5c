"""The iCal feed: parsed back with icalendar, one event per dated episode, stable UIDs,
hostile titles kept as text."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from showkeeper.db.models import Episode
from showkeeper.web.arr.feed import FEED_PATH, build_calendar
from tests.integration.arr.conftest import SHOW, ArrServer, ArrSite, wait_for


def events(body: bytes) -> list:
    cal = Calendar.from_ical(body)
    return list(cal.walk("VEVENT"))


@pytest.mark.slow
def test_feed_of_a_real_library(arr_server: ArrServer, arr_site: ArrSite) -> None:
    with arr_server.client() as api:
        added = api.post("/api/v3/series", json={"sourceUrl": arr_site.feed_url})
        assert added.status_code == 201, added.text
        series_id = added.json()["id"]
        wait_for(
            lambda: api.get(f"/api/v3/series/{series_id}").json()["title"] == SHOW,
            what="the series to load",
        )
    key = arr_server.api_key
    with httpx.Client(base_url=arr_server.url, timeout=30) as plain:
        # the default window (7 days back, 28 ahead): only the episode in ten days
        default = plain.get(FEED_PATH, params={"apikey": key})
        assert default.status_code == 200
        assert default.headers["content-type"].startswith("text/calendar")
        (future,) = events(default.content)
        assert str(future["SUMMARY"]) == f"{SHOW} - 1x04 - Future"
        assert future.decoded("DTSTART") == date.fromisoformat(arr_site.future_air_date)
        assert "season 1, episode 4" in str(future["DESCRIPTION"])

        window = {"apikey": key, "pastDays": 3650, "futureDays": 30}
        everything = events(plain.get(FEED_PATH, params=window).content)
        assert sorted(str(e["SUMMARY"]).split(" - ")[1] for e in everything) == [
            "1x01",
            "1x02",
            "1x03",
            "1x04",
        ]
        again = events(plain.get(FEED_PATH, params=window).content)
        assert [str(e["UID"]) for e in everything] == [str(e["UID"]) for e in again]
        assert len({str(e["UID"]) for e in everything}) == 4

        none_ahead = events(plain.get(FEED_PATH, params={**window, "futureDays": 0}).content)
        assert len(none_ahead) == 3
        # unmonitored episodes leave the feed unless asked for
        with arr_server.client() as api:
            series = api.get(f"/api/v3/series/{series_id}").json()
            series["monitored"] = False
            assert api.put(f"/api/v3/series/{series_id}", json=series).status_code == 202
        assert events(plain.get(FEED_PATH, params=window).content) == []
        with_unmonitored = plain.get(FEED_PATH, params={**window, "unmonitored": "true"})
        assert len(events(with_unmonitored.content)) == 4

        assert plain.get(FEED_PATH).status_code == 401
        assert plain.get(FEED_PATH, params={"apikey": "sk_nope"}).status_code == 401
        assert plain.get(FEED_PATH, params={"apikey": key, "pastDays": -1}).status_code == 422


def test_hostile_titles_stay_text() -> None:
    nasty = "Evil\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected <script>alert(1)</script>"
    episodes = [
        Episode(id=7, series_id=1, season=1, episode=1, title=nasty, air_date=date(2024, 1, 1)),
        Episode(id=8, series_id=1, season=1, episode=2, title=None, air_date=None),
        Episode(id=9, series_id=2, season=0, episode=3, title="ok", air_date=date(2024, 1, 2)),
    ]
    names = {1: ("evil", "../../etc"), 2: ("other", "Other; DROP TABLE")}
    stamp = datetime(2024, 1, 1, 12, 0)
    body = build_calendar(episodes, names, stamp=stamp)
    found = events(body)
    assert len(found) == 2  # the undated episode has no event; nothing was injected
    flat = "Evil END:VEVENT BEGIN:VEVENT SUMMARY:injected <script>alert(1)</script>"
    assert str(found[0]["SUMMARY"]) == f"../../etc - 1x01 - {flat}"
    assert str(found[0]["UID"]) == "showkeeper-evil-7@showkeeper"
    assert found[1].decoded("DTEND") - found[1].decoded("DTSTART") == timedelta(days=1)
    assert build_calendar(episodes, names, stamp=stamp) == body  # same input, same bytes
