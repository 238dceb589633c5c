"""Episodes take TMDB's data by season/episode, else by air date; the source's otherwise."""

from __future__ import annotations

from datetime import date

from showkeeper.db.models import Episode
from showkeeper.metadata.gather import Gathered, episode_values
from showkeeper.sources.base import EpisodeMetadata, SourceMetadata


def tmdb_episode(tmdb_id: int, name: str, aired: str) -> dict[str, object]:
    return {
        "id": tmdb_id,
        "name": name,
        "overview": f"{name} plot",
        "air_date": aired,
        "_still": f"https://i/{tmdb_id}.jpg",
    }


def gathered() -> Gathered:
    g = Gathered(
        source=SourceMetadata(
            episodes={"guid-9": EpisodeMetadata(overview="own plot", image="https://own/9.jpg")}
        )
    )
    first = tmdb_episode(11, "Pilot", "2020-01-05")
    second = tmdb_episode(12, "Second", "2020-01-12")
    g.by_number = {(1, 1): first, (1, 2): second}
    g.by_date = {"2020-01-05": first, "2020-01-12": second}
    return g


def test_by_number_then_by_date_then_the_sources_own() -> None:
    g = gathered()
    numbered = Episode(season=1, episode=2, title=None, remote_id="x")
    assert episode_values(g, numbered) == {
        "title": "Second",
        "tmdb_id": 12,
        "overview": "Second plot",
        "image_url": "https://i/12.jpg",
    }
    # a source numbering by upload year: season 2020, episode 1, aired on the pilot's date
    dated = Episode(season=2020, episode=1, title="Own title", air_date=date(2020, 1, 5))
    values = episode_values(g, dated)
    assert values["tmdb_id"] == 11 and "title" not in values  # the source's title stays
    own = Episode(season=3, episode=9, remote_id="guid-9", air_date=date(2021, 1, 1))
    assert episode_values(g, own) == {"overview": "own plot", "image_url": "https://own/9.jpg"}
    unchanged = Episode(
        season=3, episode=9, remote_id="guid-9", overview="own plot", image_url="https://own/9.jpg"
    )
    assert episode_values(g, unchanged) == {}
