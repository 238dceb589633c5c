"""Source kinds, found through the entry-point group ``showkeeper.sources``.

A package adds a kind by declaring, in its pyproject.toml::

    [project.entry-points."showkeeper.sources"]
    mykind = "mypackage.module:MySource"   # a showkeeper.sources.base.Source subclass

The built-in kinds (feed, ytdlp, httpdir) are declared the same way in showkeeper's own
pyproject.toml.
"""

from __future__ import annotations

import asyncio
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from showkeeper.logging import get_logger
from showkeeper.sources.base import (
    Source,
    SourceEnv,
    SourceError,
    UnknownSourceKindError,
)
from showkeeper.sources.fetching import fetch

if TYPE_CHECKING:
    from showkeeper.net import FetchResult

log = get_logger(__name__)

ENTRY_POINT_GROUP = "showkeeper.sources"
_BUILTIN = {
    "feed": "showkeeper.sources.feed:FeedSource",
    "ytdlp": "showkeeper.sources.ytdlp_source:YtDlpSource",
    "httpdir": "showkeeper.sources.httpdir:HttpDirSource",
}


def _load_path(path: str) -> type[Source]:
    import importlib

    module, _, name = path.partition(":")
    loaded: type[Source] = getattr(importlib.import_module(module), name)
    return loaded


@cache
def source_classes() -> dict[str, type[Source]]:
    """Every registered kind -> its Source class (loaded once per process)."""
    found: dict[str, type[Source]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception:
            log.exception("cannot load source plugin", entry_point=ep.name, value=ep.value)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Source)):
            log.error("source plugin is not a Source subclass", entry_point=ep.name)
            continue
        found[ep.name] = cls
    for kind, path in _BUILTIN.items():
        if kind not in found:
            log.warning(
                "built-in source not registered as an entry point; reinstall showkeeper "
                "(pip install -e .)",
                kind=kind,
            )
            found[kind] = _load_path(path)
    return found


def kinds() -> list[str]:
    return sorted(source_classes())


def get_source(kind: str, env: SourceEnv) -> Source:
    """An instance of the source ``kind``. Raises UnknownSourceKindError."""
    cls = source_classes().get(kind)
    if cls is None:
        raise UnknownSourceKindError(
            f"unknown source kind {kind!r}; known kinds: {', '.join(kinds())}"
        )
    return cls(env)


CONFIDENT = 90
"""A content score at which the document itself decides (a feed is a feed, whatever site it
is on), without waiting for the URL claims."""
HEAD_START_S = 0.25
"""The document is asked alone this long first: most answer sooner, and then the claims
(yt-dlp's costs an interpreter of ~50 MB when its extractors are not loaded here) are never
asked about a feed."""


def _best(classes: dict[str, type[Source]], result: FetchResult) -> tuple[int, str]:
    """(score, kind) of the kind most sure of a fetched document."""
    content_type = result.headers.get("Content-Type", "")
    return max(
        (
            (cls.detect(result.url, result.body, content_type), kind)
            for kind, cls in classes.items()
        ),
        default=(0, ""),
    )


def _confident(classes: dict[str, type[Source]], fetching: asyncio.Task[FetchResult]) -> str | None:
    """The kind sure of the fetched document, if the fetch is done and one is."""
    if not fetching.done() or fetching.cancelled() or fetching.exception() is not None:
        return None
    best, kind = _best(classes, fetching.result())
    return kind if best >= CONFIDENT else None


async def _claimed(classes: dict[str, type[Source]], url: str) -> str | None:
    """The first kind that claims ``url`` by the URL alone (e.g. a site yt-dlp knows)."""
    for kind, cls in classes.items():
        if await asyncio.to_thread(cls.matches_url, url):
            return kind
    return None


async def detect_kind(env: SourceEnv, url: str) -> str:
    """Pick the kind for ``url``: a kind that claims the URL (e.g. a site yt-dlp knows), or
    the kind most sure of what the URL serves.

    Both questions are asked at once: a URL claim ends the fetch, and a document a kind is
    confident about (a feed, a directory listing) decides without waiting for the claims
    (yt-dlp's answer takes an interpreter start when its extractors are not loaded here).

    Raises:
        SourceFetchError: the URL cannot be fetched (and no kind claims it).
        SourceError: no kind recognises what is there.
    """
    classes = source_classes()
    fetching = asyncio.create_task(fetch(env, url), name="detect-kind:fetch")
    await asyncio.wait({fetching}, timeout=HEAD_START_S)
    decided = _confident(classes, fetching)
    if decided is not None:
        env.prefetched[url] = fetching.result()
        return decided
    claims = asyncio.create_task(_claimed(classes, url), name="detect-kind:claims")
    try:
        done, _ = await asyncio.wait({claims, fetching}, return_when=asyncio.FIRST_COMPLETED)
        if claims in done and claims.result() is not None:
            return str(claims.result())
        try:
            result = await fetching
        except SourceError:
            claimed = await claims
            if claimed is not None:
                return claimed
            raise
        env.prefetched[url] = result  # the chosen source reads it instead of fetching again
        best, kind = _best(classes, result)
        if best < CONFIDENT:
            claimed = await claims
            if claimed is not None:
                return claimed
        if best <= 0:
            raise SourceError(
                f"cannot tell what kind of source {url} is (not a feed, a directory listing or a "
                f"page yt-dlp reads); give the kind explicitly: {', '.join(kinds())}"
            )
        return kind
    finally:
        for task in (claims, fetching):
            task.cancel()  # the one not needed (a thread finishes its check on its own)
        await asyncio.gather(claims, fetching, return_exceptions=True)
