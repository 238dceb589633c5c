"""What adding a URL would give, before anything is stored: the source's title, kind and
episodes (how many, which the filters keep, the first and the last)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from showkeeper.context import AppContext
from showkeeper.sources.base import NotModified, RemoteEpisode, SeriesRef
from showkeeper.sources.fetching import source_env
from showkeeper.sources.filters import apply_filters
from showkeeper.sources.registry import detect_kind, get_source
from showkeeper.sources.service import AUTO_KIND, checked_source


@dataclass(frozen=True, slots=True)
class Preview:
    url: str
    kind: str
    title: str
    year: int | None
    overview: str | None
    episodes: int
    kept: int = 0
    first: str | None = None
    last: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _order(ep: RemoteEpisode) -> tuple[Any, ...]:
    when = ep.air_date or (ep.published.date() if ep.published else None) or dt.date.min
    return (when, ep.season, ep.episode or 0)


def _name(ep: RemoteEpisode) -> str:
    title = ep.title or ep.remote_id
    return f"{title} ({ep.air_date.isoformat()})" if ep.air_date else title


async def preview_source(
    ctx: AppContext, url: str, *, kind: str | None = None, options: dict[str, Any] | None = None
) -> Preview:
    """Probe and list a source without storing anything.

    Raises:
        InvalidSourceError: bad URL or unknown kind.
        InvalidOptionsError: bad filter options.
        ShowkeeperError: the source could not be read (its message says why).
    """
    source_url, clean = checked_source(url, kind, options)
    async with source_env(ctx.settings) as env:
        found = kind if kind not in (None, AUTO_KIND) else await detect_kind(env, source_url)
        assert found is not None
        source = get_source(found, env)
        info = await source.probe(source_url)
        ref = SeriesRef(key="preview", url=source_url, kind=found, options=clean, state={})
        try:
            episodes = await source.episodes(ref)
        except NotModified:
            episodes = []
    kept = sorted(apply_filters(list(episodes), clean), key=_order)
    return Preview(
        url=source_url,
        kind=found,
        title=info.title,
        year=info.year,
        overview=info.overview,
        episodes=len(episodes),
        kept=len(kept),
        first=_name(kept[0]) if kept else None,
        last=_name(kept[-1]) if kept else None,
    )
