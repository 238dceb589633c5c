"""Which TMDB series a series is: automatic only when the match leaves no doubt.

A result is a candidate when its normalised title (``name`` or ``original_name``) equals the
series' normalised title and, when both years are known, its first air year is within one
year. The series is matched only when exactly one result is a candidate; otherwise it stays
unmatched and the user picks with Identify.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

_YEAR_SUFFIX = re.compile(r"\s*[(\[]\s*(?:19|20)\d{2}\s*[)\]]\s*$")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """Case, accents, punctuation, a leading article and a trailing "(2017)" do not count."""
    text = _YEAR_SUFFIX.sub("", title)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    words = _NOT_WORD.sub(" ", text).split()
    if len(words) > 1 and words[0] in ("the", "a", "an"):
        words = words[1:]
    return " ".join(words)


def first_air_year(result: dict[str, Any]) -> int | None:
    value = result.get("first_air_date")
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
        return int(value[:4])
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One TMDB search result, as Identify lists it."""

    tmdb_id: int
    title: str
    year: int | None
    overview: str | None
    poster_path: str | None

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> Candidate:
        name = result.get("name") or result.get("original_name") or ""
        overview = result.get("overview")
        poster = result.get("poster_path")
        return cls(
            tmdb_id=int(result["id"]),
            title=str(name)[:500],
            year=first_air_year(result),
            overview=str(overview)[:2000] if isinstance(overview, str) and overview else None,
            poster_path=poster if isinstance(poster, str) else None,
        )


def confident_match(title: str, year: int | None, results: list[dict[str, Any]]) -> int | None:
    """The TMDB id when exactly one result has the same title (and a year within one)."""
    wanted = normalise_title(title)
    if not wanted:
        return None
    found: set[int] = set()
    for result in results:
        names = {result.get("name"), result.get("original_name")}
        if not any(isinstance(n, str) and normalise_title(n) == wanted for n in names):
            continue
        other = first_air_year(result)
        if year is not None and other is not None and abs(year - other) > 1:
            continue
        found.add(int(result["id"]))
    return found.pop() if len(found) == 1 else None
