"""Sources of series: feeds, yt-dlp channels/playlists, HTTP directories, and plugins.

See :mod:`showkeeper.sources.base` for the contract and :mod:`showkeeper.sources.registry`
for how kinds are found; :mod:`showkeeper.sources.service` adds series and
:mod:`showkeeper.sources.refresh` refreshes them.
"""

from showkeeper.sources.base import (
    NotModified,
    RemoteEpisode,
    SearchResult,
    SeriesInfo,
    SeriesRef,
    Source,
    SourceEnv,
    SourceError,
    SourceFetchError,
)

__all__ = [
    "NotModified",
    "RemoteEpisode",
    "SearchResult",
    "SeriesInfo",
    "SeriesRef",
    "Source",
    "SourceEnv",
    "SourceError",
    "SourceFetchError",
]
