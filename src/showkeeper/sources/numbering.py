"""Episode numbers for listings that have none, stable across refreshes (pure code).

A source may list episodes without numbers (a feed with no ``itunes:episode``, a folder of
dated files). They are numbered here, in the order the source lists them (publication
order, oldest first), after the numbers already in use; once stored, an episode keeps its
number through its ``remote_id`` even when older items drop out of the feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from showkeeper.sources.base import RemoteEpisode

Key = tuple[int, int]


def assign_numbers(
    episodes: list[RemoteEpisode],
    known: Mapping[str, Key],
    occupied: Iterable[Key] = (),
) -> list[RemoteEpisode]:
    """Give every episode a (season, episode); returns them in the input order.

    Args:
        episodes: the listing; ``episode=None`` means "number me".
        known: remote_id -> (season, episode) of episodes already stored for the series.
        occupied: other (season, episode) pairs in use by the source's stored episodes.

    Explicit numbers win; a duplicate explicit number (two items claiming S01E03) makes the
    later one unnumbered. Known remote ids keep their stored number unless an explicit one
    took it. New ones get the next free numbers of their season.
    """
    claimed: set[Key] = set()
    result: list[RemoteEpisode | None] = [None] * len(episodes)
    pending: list[int] = []
    for i, ep in enumerate(episodes):
        if ep.episode is not None and (ep.season, ep.episode) not in claimed:
            claimed.add((ep.season, ep.episode))
            result[i] = ep
        else:
            pending.append(i)
    fresh: list[int] = []
    for i in pending:
        ep = episodes[i]
        key = known.get(ep.remote_id)
        if key is not None and key not in claimed:
            claimed.add(key)
            result[i] = replace(ep, season=key[0], episode=key[1])
        else:
            fresh.append(i)
    highest: dict[int, int] = {}
    for season, number in [*claimed, *occupied, *known.values()]:
        highest[season] = max(highest.get(season, 0), number)
    for i in fresh:
        ep = episodes[i]
        number = highest.get(ep.season, 0) + 1
        highest[ep.season] = number
        result[i] = replace(ep, episode=number)
    return [ep for ep in result if ep is not None]
