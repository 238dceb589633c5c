"""Which episode(s) of a series a parsed file name stands for. Pure code.

A name with a season and episode numbers is taken at its word. Names without them are only
matched when the series leaves no doubt; otherwise the file is reported, never guessed:

- an air date matches the one episode that aired that day;
- a bare number matches the episode with that absolute number, else episode N of the series'
  only season (season 1 when the series knows no episodes yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

EpisodeNumber = tuple[int, int]


@dataclass(frozen=True, slots=True)
class KnownEpisode:
    """An episode row as the reconcile step needs it."""

    id: int
    season: int
    episode: int
    absolute: int | None
    air_date: date | None
    file_path: str | None  # relative to the library root
    is_downloaded: bool
    size: int | None
    removable: bool  # known only from disk: deleted when its file goes


class EpisodeIndex:
    """A series' known episodes by number, air date and absolute number."""

    def __init__(self, episodes: Iterable[KnownEpisode]) -> None:
        self.by_number: dict[EpisodeNumber, KnownEpisode] = {}
        self.by_air_date: dict[date, list[KnownEpisode]] = {}
        self.by_absolute: dict[int, list[KnownEpisode]] = {}
        self.seasons: set[int] = set()
        for ep in episodes:
            self.by_number[(ep.season, ep.episode)] = ep
            if ep.air_date is not None:
                self.by_air_date.setdefault(ep.air_date, []).append(ep)
            if ep.absolute is not None:
                self.by_absolute.setdefault(ep.absolute, []).append(ep)
            if ep.season > 0:
                self.seasons.add(ep.season)


class Numbers(Protocol):
    """What a file name said: a ParsedEpisode, or a ScannedFile carrying its values."""

    @property
    def season(self) -> int | None: ...
    @property
    def episodes(self) -> tuple[int, ...]: ...
    @property
    def absolute(self) -> int | None: ...
    @property
    def air_date(self) -> date | None: ...


def resolve(parsed: Numbers, index: EpisodeIndex) -> tuple[EpisodeNumber, ...] | str:
    """The (season, episode) numbers ``parsed`` stands for, or why it matches none."""
    if parsed.season is not None and parsed.episodes:
        return tuple((parsed.season, e) for e in parsed.episodes)
    if not parsed.episodes:
        if parsed.air_date is None:
            return "no episode number in the name"
        aired = index.by_air_date.get(parsed.air_date, [])
        if len(aired) == 1:
            return ((aired[0].season, aired[0].episode),)
        day = parsed.air_date.isoformat()
        if not aired:
            return f"no episode of this series aired on {day}"
        return f"{len(aired)} episodes aired on {day}: name the file S01E02 style"
    if len(parsed.episodes) == 1:
        same = index.by_absolute.get(parsed.episodes[0], [])
        if len(same) == 1:
            return ((same[0].season, same[0].episode),)
    if len(index.seasons) <= 1:
        season = next(iter(index.seasons), 1)
        return tuple((season, e) for e in parsed.episodes)
    return (
        f"episode {parsed.episodes[0]} has no season and the series has "
        f"{len(index.seasons)}: move it into a season folder or name it S01E02 style"
    )
