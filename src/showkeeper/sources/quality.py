"""Ordering candidate streams best first (pure code)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from showkeeper.domain.candidates import Candidate

_HEIGHT_RE = re.compile(
    r"(?<![0-9])(2160|1440|1080|720|576|540|480|360|240|144)[pi](?![0-9a-z])", re.I
)
_NAMED = {"4k": 2160, "uhd": 2160, "fhd": 1080, "hd": 720, "sd": 480}
_NAMED_RE = re.compile(r"(?<![a-z0-9])(4k|uhd|fhd|hd|sd)(?![a-z0-9])", re.I)


def height_from_name(name: str) -> int | None:
    """Video height written in a file name or label ("1080p", "720i", "4K"), else None."""
    match = _HEIGHT_RE.search(name)
    if match:
        return int(match.group(1))
    named = _NAMED_RE.search(name)
    return _NAMED[named.group(1).lower()] if named else None


def order_candidates(
    candidates: Iterable[Candidate], *, max_height: int = 1080
) -> tuple[Candidate, ...]:
    """Best first, without duplicate URLs.

    Known heights within ``max_height`` come first (highest first), then candidates of
    unknown height (largest first, else as listed), then heights above ``max_height``
    (closest to the limit first), so the engine tries what the user wants before what it
    can merely get. Ties keep the source's order.
    """
    seen: set[str] = set()
    unique: list[Candidate] = []
    for candidate in candidates:
        if candidate.url not in seen:
            seen.add(candidate.url)
            unique.append(candidate)

    def rank(indexed: tuple[int, Candidate]) -> tuple[int, int, int, int]:
        index, c = indexed
        if c.quality is not None and c.quality <= max_height:
            return (0, -c.quality, -(c.size or 0), index)
        if c.quality is None:
            return (1, 0, -(c.size or 0), index)
        return (2, c.quality, -(c.size or 0), index)

    return tuple(c for _, c in sorted(enumerate(unique), key=rank))
