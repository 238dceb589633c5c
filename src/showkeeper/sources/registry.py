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

from showkeeper.logging import get_logger
from showkeeper.sources.base import (
    Source,
    SourceEnv,
    SourceError,
    UnknownSourceKindError,
)
from showkeeper.sources.fetching import fetch

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


async def detect_kind(env: SourceEnv, url: str) -> str:
    """Pick the kind for ``url``: by the URL alone when a kind claims it (e.g. a site yt-dlp
    knows), else by fetching it and asking each kind how sure it is.

    Raises:
        SourceFetchError: the URL cannot be fetched.
        SourceError: no kind recognises what is there.
    """
    classes = source_classes()
    for kind, cls in classes.items():
        if await asyncio.to_thread(cls.matches_url, url):
            return kind
    result = await fetch(env, url)
    env.prefetched[url] = result  # the chosen source reads it instead of fetching again
    content_type = result.headers.get("Content-Type", "")
    scores = [
        (cls.detect(result.url, result.body, content_type), kind) for kind, cls in classes.items()
    ]
    best, kind = max(scores, default=(0, ""))
    if best <= 0:
        raise SourceError(
            f"cannot tell what kind of source {url} is (not a feed, a directory listing or a "
            f"page yt-dlp reads); give the kind explicitly: {', '.join(kinds())}"
        )
    return kind
