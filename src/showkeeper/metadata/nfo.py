"""Kodi/Jellyfin NFO files: build ours, read anyone's.

Ours start with :data:`MARKER` (a comment right after the XML declaration), so a refresh
can tell them from NFOs that Sonarr, Jellyfin or a person wrote. Text is stripped of
characters XML 1.0 cannot hold; ElementTree escapes the rest, so any title stays well-formed.
Reading refuses DOCTYPE and ENTITY declarations (no entity expansion of any kind) and files
larger than :data:`MAX_NFO_BYTES`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any, Final
from xml.parsers import expat

from showkeeper.db.models import Episode, Series
from showkeeper.errors import ShowkeeperError

MAX_NFO_BYTES: Final = 1024 * 1024
MARKER: Final = b"<!-- written by showkeeper; edits are replaced on refresh -->"
_HEADER: Final = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + MARKER + b"\n"
# Characters XML 1.0 does not allow at all (controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")
_ROOT_END = re.compile(rb"</(?:tvshow|episodedetails)\s*>", re.I)


class NfoError(ShowkeeperError):
    """An NFO file that cannot be read: too large, not XML, or with DTD declarations."""

    status_code = 422


def clean_text(text: str, *, one_line: bool = False) -> str:
    """Drop characters XML cannot hold; ``one_line`` also folds whitespace runs to a space."""
    text = _NOT_XML.sub("", text)
    return _SPACES.sub(" ", text).strip() if one_line else text.strip()


def is_ours(content: bytes) -> bool:
    """True if ``content`` (the file's first bytes suffice) is an NFO written by us."""
    return MARKER in content[:256]


def _add(parent: ET.Element, tag: str, value: object, **attrs: str) -> None:
    if value is None or value == "":
        return
    text = clean_text(str(value), one_line=tag != "plot")
    if text:
        ET.SubElement(parent, tag, attrs).text = text


def _render(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return _HEADER + ET.tostring(root, encoding="unicode").encode("utf-8") + b"\n"


def tvshow_nfo(series: Series, *, premiered: date | None = None) -> bytes:
    """The ``tvshow.nfo`` of a series; its showkeeper ``<uniqueid>`` is what the library
    scan (library/identify.py) maps the folder back to the series by."""
    root = ET.Element("tvshow")
    _add(root, "title", series.name)
    _add(root, "year", series.year)
    _add(root, "plot", series.overview)
    _add(root, "premiered", premiered.isoformat() if premiered else None)
    extra = show_extras(series)
    for genre in extra.get("genres") or []:
        _add(root, "genre", genre)
    _add(root, "studio", extra.get("studio"))
    _add(root, "uniqueid", series.key, type="showkeeper", default="true")
    if series.tmdb_id:
        _add(root, "uniqueid", series.tmdb_id, type="tmdb")
        _add(root, "tmdbid", series.tmdb_id)
    _add(root, "thumb", series.image_url, aspect="poster")
    return _render(root)


def show_extras(series: Series) -> dict[str, Any]:
    """Genres and studio the metadata loader stored in ``source_state["metadata"]``."""
    state = series.source_state if isinstance(series.source_state, dict) else {}
    found = state.get("metadata")
    if not isinstance(found, dict):
        return {}
    genres = [str(g) for g in found.get("genres") or [] if isinstance(g, str)][:20]
    studio = found.get("studio")
    return {"genres": genres, "studio": studio if isinstance(studio, str) else None}


def episode_nfo(series: Series, episode: Episode) -> bytes:
    """The ``<episodedetails>`` NFO that sits beside an episode's video file."""
    root = ET.Element("episodedetails")
    _add(root, "title", episode.title or f"Episode {episode.episode}")
    _add(root, "showtitle", series.name)
    _add(root, "season", episode.season)
    _add(root, "episode", episode.episode)
    _add(root, "aired", episode.air_date.isoformat() if episode.air_date else None)
    _add(root, "plot", episode.overview)
    if episode.duration_s:
        _add(root, "runtime", max(1, episode.duration_s // 60))
    uid = f"{series.key}/s{episode.season}e{episode.episode}"
    _add(root, "uniqueid", uid, type="showkeeper", default="true")
    if episode.tmdb_id:
        _add(root, "uniqueid", episode.tmdb_id, type="tmdb")
    return _render(root)


def _refuse_dtd(*_: object) -> None:
    raise NfoError("NFO has a DOCTYPE or ENTITY declaration; these are refused")


def parse_nfo(content: bytes) -> ET.Element:
    """Parse NFO bytes (Kodi's trailing scraper URL after the root element is ignored).

    Raises:
        NfoError: too large, not well-formed, or with DOCTYPE/ENTITY declarations.
    """
    if len(content) > MAX_NFO_BYTES:
        raise NfoError(f"NFO is larger than {MAX_NFO_BYTES // 1024} KiB")
    end = _ROOT_END.search(content)
    content = content[: end.end()] if end else content
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse_dtd
    checker.EntityDeclHandler = _refuse_dtd
    try:
        checker.Parse(content, True)  # refuses declarations before anything is expanded
        return ET.fromstring(content)  # noqa: S314 - checked above: no DTD, no entities
    except (expat.ExpatError, ET.ParseError) as exc:
        raise NfoError(f"NFO is not well-formed XML ({exc})") from None


def read_nfo(path: Path) -> dict[str, Any]:
    """What an NFO (tvshow or episode, ours or another tool's) says; unknown fields ignored.

    Returns:
        ``{"kind", "title", "showtitle", "year", "season", "episode", "aired", "plot",
        "uniqueids": {type: value}, "default_uniqueid", "ours"}`` (absent fields are None).

    Raises:
        NfoError: see :func:`parse_nfo`.
        OSError: the file cannot be read.
    """
    with open(path, "rb") as fh:
        content = fh.read(MAX_NFO_BYTES + 1)
    root = parse_nfo(content)
    uniqueids: dict[str, str] = {}
    default: str | None = None
    for el in root.iter("uniqueid"):
        value = (el.text or "").strip()
        if value:
            kind = (el.get("type") or "id").strip().lower()
            uniqueids.setdefault(kind, value)
            if (el.get("default") or "").lower() == "true" and default is None:
                default = kind

    def text(tag: str) -> str | None:
        return (root.findtext(tag) or "").strip() or None

    def number(tag: str) -> int | None:
        value = text(tag)
        return int(value) if value and value.isascii() and value.isdigit() else None

    return {
        "kind": root.tag,
        "title": text("title"),
        "showtitle": text("showtitle"),
        "year": number("year"),
        "season": number("season"),
        "episode": number("episode"),
        "aired": text("aired") or text("premiered"),
        "plot": text("plot"),
        "uniqueids": uniqueids,
        "default_uniqueid": default,
        "ours": is_ours(content),
    }
