"""The Source contract: what a series is, and which episodes exist where.

A source turns a URL (a feed, a channel or playlist, a directory listing) into a
:class:`SeriesInfo` and a list of :class:`RemoteEpisode`, each with ordered candidate
streams for the download engine. Sources are plugins: they register under the
entry-point group ``showkeeper.sources`` (see :mod:`showkeeper.sources.registry`).
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from showkeeper.config import Settings
from showkeeper.domain.candidates import Candidate
from showkeeper.errors import ShowkeeperError
from showkeeper.net import FetchResult, HttpClient


class SourceError(ShowkeeperError):
    """A source cannot read what the URL points at; the message says what and what to do."""

    status_code = 422


class SourceFetchError(SourceError):
    """The source's server could not be reached or answered badly (network, HTTP status)."""

    status_code = 502


class UnknownSourceKindError(ShowkeeperError):
    """No source of that kind is registered."""

    status_code = 400


class NotModified(Exception):  # a signal rather than an error, hence no "Error" suffix
    """Raised by :meth:`Source.episodes` when a conditional request says nothing changed."""


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """What a source knows about a series.

    ``key`` is the source's suggestion for series.key (the service derives the stored
    key from the URL and keeps it stable). ``images`` is best first.
    """

    key: str
    title: str
    year: int | None = None
    overview: str | None = None
    images: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteEpisode:
    """One episode as the source lists it.

    ``episode=None`` means the source has no numbering for it: the service numbers such
    episodes in listing order (so a source lists them oldest first) after the numbers
    already stored, and keeps a number once given (identity by ``remote_id``).
    ``candidates`` are ordered best first.
    """

    remote_id: str
    season: int = 1
    episode: int | None = None
    absolute_number: int | None = None
    title: str | None = None
    air_date: dt.date | None = None
    published: dt.datetime | None = None
    duration_s: int | None = None
    candidates: tuple[Candidate, ...] = ()


@dataclass(slots=True)
class SeriesRef:
    """The stored series a source lists episodes for.

    ``state`` is the series' ``source_state``; a source MAY update it (ETag, Last-Modified,
    cursors) and the service stores it after a successful listing.
    """

    key: str
    url: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EpisodeMetadata:
    """What a source says about one episode beyond its listing: a plot and a thumbnail URL."""

    overview: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class SourceMetadata:
    """A source's own description and artwork of a series (all optional).

    Image fields hold absolute http(s) URLs, best first; the metadata loader downloads them
    through the guarded client and checks every byte before it writes a file. ``episodes``
    maps a :attr:`RemoteEpisode.remote_id` to that episode's plot and thumbnail.
    """

    overview: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    posters: tuple[str, ...] = ()
    fanart: tuple[str, ...] = ()
    logos: tuple[str, ...] = ()
    banners: tuple[str, ...] = ()
    episodes: dict[str, EpisodeMetadata] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A directory search hit: a series that can be added by its URL."""

    title: str
    url: str
    kind: str
    author: str | None = None
    image: str | None = None
    episode_count: int | None = None
    genre: str | None = None


@dataclass(frozen=True, slots=True)
class SourceEnv:
    """What a source works with: the guarded HTTP client and the settings."""

    client: HttpClient
    settings: Settings
    prefetched: dict[str, FetchResult] = field(default_factory=dict)
    """Documents already fetched in this operation (kind detection), used once by fetch()."""

    @property
    def max_bytes(self) -> int:
        return self.settings.source_max_response_mb * 1024 * 1024


class Source(ABC):
    """A kind of source (feed, ytdlp, httpdir, or a plugin's).

    Contract:

    - A subclass MUST set ``kind`` (a short lower-case name, the entry-point name) and
      ``label``, and MUST accept a :class:`SourceEnv` as its only constructor argument.
      One instance serves one operation (an add, a refresh); it MAY cache between
      :meth:`probe` and :meth:`episodes` on the same URL.
    - All HTTP MUST go through ``env.client`` (the SSRF guard, size caps and timeouts
      live there). A library doing its own HTTP MUST first check the URL with
      :mod:`showkeeper.net.guard`, run in a thread, and have a timeout.
    - :meth:`probe` and :meth:`episodes` MUST raise :class:`SourceError` (or a subclass)
      with a message for the user when the URL cannot be read; never a half result.
    - :meth:`episodes` MAY raise :class:`NotModified` when ``series.state`` allowed a
      conditional request and the server said nothing changed, and MAY update
      ``series.state``. It returns every episode currently listed (filters are applied
      by the service), each with a stable ``remote_id`` unique within the series.
    - :meth:`detect` and :meth:`matches_url` let the registry pick a kind for a URL.
    - :meth:`search` is optional; the default raises :class:`SourceError`.
    - :meth:`metadata` is optional: a source MAY describe the series and offer artwork
      (poster, fanart, logo, banner) and per-episode plots and thumbnails as a
      :class:`SourceMetadata`. It is asked after :meth:`episodes` on the same instance (so it
      MAY reuse what that read) and whenever the metadata loader repairs a series. It MUST
      NOT raise for missing metadata (return what it has; the default returns nothing) and
      SHOULD raise :class:`SourceError` only when the source cannot be read at all. URLs it
      returns are fetched through the guarded client; nothing it returns is trusted.
    """

    kind: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, env: SourceEnv) -> None:
        self.env = env

    @classmethod
    def matches_url(cls, url: str) -> bool:
        """True when the URL alone says it is this kind (no request made)."""
        return False

    @classmethod
    def detect(cls, url: str, body: bytes, content_type: str) -> int:
        """Confidence 0-100 that a fetched document is this kind (0: not mine)."""
        return 0

    @abstractmethod
    async def probe(self, url: str) -> SeriesInfo:
        """Read the series at ``url``. Raises SourceError."""

    @abstractmethod
    async def episodes(self, series: SeriesRef) -> list[RemoteEpisode]:
        """List the episodes at ``series.url``. Raises SourceError or NotModified."""

    async def metadata(self, series: SeriesRef) -> SourceMetadata:
        """The source's own description and artwork of the series (default: none)."""
        return SourceMetadata()

    async def search(self, query: str, *, limit: int = 20) -> list[SearchResult]:
        """Find series by name in a directory, when the kind has one."""
        raise SourceError(f"{self.label} sources cannot be searched")
