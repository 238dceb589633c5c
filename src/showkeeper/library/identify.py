"""Which series a folder holds, when the database does not know the folder yet.

Two files can say so, in this order:

1. ``tvshow.nfo`` (Kodi/Jellyfin/Sonarr) with a ``<uniqueid>``: ``type="showkeeper"`` is our own
   key; any other id becomes ``<type>-<value>`` (``tvdb-81189``).
2. A legacy ``key`` file holding the series key as text, optionally beside a ``data`` JSON file
   ``{"key", "name", "site", "folder", "episodeDict": {"1": [1, 2]}}``. They are read once, when
   the series is imported, and left in place.

Reading is blocking file I/O; the scanner calls it from its worker thread.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET  # expat >= 2.4 refuses entity-expansion bombs
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final, Literal

NFO_FILE: Final = "tvshow.nfo"
KEY_FILE: Final = "key"
DATA_FILE: Final = "data"
MAX_ID_FILE_BYTES: Final = 1024 * 1024

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,199}")
_TYPE = re.compile(r"[a-z0-9][a-z0-9_]{0,30}")
_FOLDER_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>(?:19|20)[0-9]{2})\)\s*$")
_NFO_END = re.compile(rb"</tvshow\s*>", re.I)


@dataclass(frozen=True, slots=True)
class FolderIdentity:
    """A series key (and what else the file said) read from a folder's own files."""

    key: str
    name: str
    year: int | None
    origin: Literal["tvshow.nfo", "key"]
    site: str | None = None
    # (season, episode) pairs of a legacy data file's episode dict
    episodes: tuple[tuple[int, int], ...] = ()
    # the TMDB id a tvshow.nfo carries (<uniqueid type="tmdb">), so a rebuilt database keeps it
    tmdb_id: int | None = None


@dataclass(frozen=True, slots=True)
class IdentityProblem:
    """The folder has an identity file that cannot be used; ``reason`` says why."""

    reason: str


def is_valid_key(key: str) -> bool:
    """True for a URL-safe series key (letters, digits, ``.``, ``_``, ``~``, ``-``; <= 200)."""
    return _KEY.fullmatch(key) is not None


def split_folder_name(name: str) -> tuple[str, int | None]:
    """``"Dark (2017)"`` -> ``("Dark", 2017)``; a name without a year keeps ``None``."""
    m = _FOLDER_YEAR.match(name)
    if m is None or not m.group("title"):
        return name.strip() or name, None
    return m.group("title"), int(m.group("year"))


def identify_folder(folder: str, names: Collection[str]) -> FolderIdentity | IdentityProblem | None:
    """Read the identity files of ``folder`` (``names`` = its entries, already listed).

    Returns None when the folder has no identity file at all.
    """
    lowered = {n.lower(): n for n in names}
    problems: list[str] = []
    if NFO_FILE in lowered:
        found = read_tvshow_nfo(os.path.join(folder, lowered[NFO_FILE]), os.path.basename(folder))
        if isinstance(found, FolderIdentity):
            return found
        problems.append(found.reason)
    if KEY_FILE in names:
        data = os.path.join(folder, DATA_FILE) if DATA_FILE in names else None
        found = read_legacy_key(os.path.join(folder, KEY_FILE), data, os.path.basename(folder))
        if isinstance(found, FolderIdentity):
            return found
        problems.append(found.reason)
    return IdentityProblem("; ".join(problems)) if problems else None


def _read_capped(path: str) -> bytes:
    with open(path, "rb") as fh:
        content = fh.read(MAX_ID_FILE_BYTES + 1)
    if len(content) > MAX_ID_FILE_BYTES:
        raise ValueError(f"larger than {MAX_ID_FILE_BYTES // 1024} KiB")
    return content


def read_tvshow_nfo(path: str, folder_name: str) -> FolderIdentity | IdentityProblem:
    """The series identity of a ``tvshow.nfo`` (its ``<uniqueid>``, title and year)."""
    try:
        content = _read_capped(path)
        end = _NFO_END.search(content)  # Kodi allows a scraper URL after the XML
        root = ET.fromstring(content[: end.end()] if end else content)  # noqa: S314
    except (OSError, ValueError, ET.ParseError) as exc:
        return IdentityProblem(f"tvshow.nfo cannot be read ({_reason(exc)})")
    ids: list[tuple[str, str, bool]] = []
    for el in root.iter("uniqueid"):
        value = (el.text or "").strip()
        if value:
            kind = (el.get("type") or "id").strip().lower()
            ids.append((kind, value, (el.get("default") or "").lower() == "true"))
    if not ids:
        return IdentityProblem("tvshow.nfo has no <uniqueid>")
    ids.sort(key=lambda item: (item[0] != "showkeeper", not item[2]))
    kind, value, _ = ids[0]
    key = value if kind == "showkeeper" else f"{kind}-{value}"
    if not _TYPE.fullmatch(kind) or not is_valid_key(key):
        return IdentityProblem(f"tvshow.nfo uniqueid {key[:60]!r} is not a usable key")
    title, folder_year = split_folder_name(folder_name)
    name = (root.findtext("title") or "").strip() or title
    tmdb = next((v for k, v, _ in ids if k == "tmdb"), "")
    return FolderIdentity(
        key=key,
        name=name[:500],
        year=_nfo_year(root) or folder_year,
        origin="tvshow.nfo",
        tmdb_id=int(tmdb) if tmdb.isascii() and tmdb.isdigit() and len(tmdb) < 10 else None,
    )


def _nfo_year(root: ET.Element) -> int | None:
    for tag in ("year", "premiered", "aired"):
        text = (root.findtext(tag) or "").strip()[:4]
        if text.isascii() and text.isdigit() and 1900 <= int(text) <= 2099:
            return int(text)
    return None


def read_legacy_key(
    key_path: str, data_path: str | None, folder_name: str
) -> FolderIdentity | IdentityProblem:
    """The identity in a legacy ``key`` file, completed by its ``data`` file when readable.

    A ``data`` file that cannot be read or has the wrong shape is ignored: the key alone is
    enough to identify the folder.
    """
    try:
        key = _read_capped(key_path).decode("utf-8").strip()
    except (OSError, ValueError) as exc:
        return IdentityProblem(f"key file cannot be read ({_reason(exc)})")
    if not is_valid_key(key):
        return IdentityProblem(f"key file holds {key[:60]!r}, which is not a usable key")
    title, year = split_folder_name(folder_name)
    data: dict[str, Any] = {}
    if data_path is not None:
        try:
            loaded = json.loads(_read_capped(data_path))
            data = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            data = {}
    name = data.get("name")
    site = data.get("site")
    return FolderIdentity(
        key=key,
        name=name.strip()[:500] if isinstance(name, str) and name.strip() else title,
        year=year,
        origin="key",
        site=site if isinstance(site, str) and site else None,
        episodes=_episode_dict(data),
    )


def _episode_dict(data: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    raw = next((data[k] for k in ("episodeDict", "episode_dict", "episodes") if k in data), None)
    if not isinstance(raw, dict):
        return ()
    pairs: set[tuple[int, int]] = set()
    for season, episodes in raw.items():
        try:
            s = int(season)
        except (TypeError, ValueError):
            continue
        if not 0 <= s <= 9999 or not isinstance(episodes, list):
            continue
        for e in episodes:
            if isinstance(e, int) and not isinstance(e, bool) and 0 <= e <= 99999:
                pairs.add((s, e))
    return tuple(sorted(pairs))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__
