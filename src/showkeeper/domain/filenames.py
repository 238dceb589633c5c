"""Reading season/episode numbers out of episode file names.

Pure code: no I/O, no clock.  The library scanner calls :func:`parse_episode_filename` for every
file of a full import (~100k names), so the common forms are read by a handful of precompiled
regular expressions (the *fast path*, a few microseconds per name).  Only names the fast path
cannot read go to ``guessit`` (imported lazily, milliseconds per name), whose answers are
accepted only when they cannot have come from a year, a resolution or a codec.

The parser prefers saying nothing (``None``) to guessing: a wrong episode number would make the
library believe an episode is present when it is not.

Fast-path forms, tried in this order (first hit wins):

1. ``S01E02``, ``s1e2``, ``S01.E02``, ``S01 E02``, ``S01 - E02``; multi-episode ``S01E02E03``,
   ``S01E02-E03``, ``S01E02-03``, ``S01E02.S01E03``; years as seasons ``S2019E01``; specials
   ``S00E01``.  A Sonarr anime absolute number right after the marker
   (``S01E02 - 014 - Title``) is kept in ``absolute``.
2. ``Season 1 Episode 2`` (also Staffel/Folge, Saison/Épisode, Temporada/Episodio, Series).
3. ``1x02``, ``01x02``, ``1x02-03``, ``1x02-1x03``, ``1x02x03``.
4. Air dates ``2024-05-01``, ``2024.05.01``, ``2024_05_01``, ``2024 05 01`` (year first only;
   ``01.05.2024`` is ambiguous between DD.MM and MM.DD and is not read).
5. Episode only: ``Episode 12``, ``Ep 12``, ``Ep.12``, ``EP12``, ``Folge 12``, ``E12`` (bare
   ``E`` needs two digits, so ``E3`` stays unread).
6. Anime/absolute dash form: ``Title - 12``, ``Title - 012 [1080p]``, ``Title - 12v2``,
   ``[Group] Title - 12 (1080p) [ABCD1234]``, ``Title - 05 - Episode title``.
7. Podcast ``Show #123 - Guest``.
8. A leading number: ``01 - Pilot``, ``01. Pilot``, ``01.mkv``.

Forms 5-8 carry no season.  With a ``season_hint`` (from the season folder) the result gets
``season=season_hint``; without one, ``season`` is ``None`` and the number is reported both as
``episodes=(n,)`` and ``absolute=n`` – the number's scope (season or whole series) is unknown
and the caller decides (single-season show, anime absolute order, podcast feed order).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "AUDIO_EXTENSIONS",
    "MEDIA_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "ParsedEpisode",
    "is_media_file",
    "parse_episode_filename",
    "parse_season_folder",
]

VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {
        "3g2",
        "3gp",
        "asf",
        "avi",
        "divx",
        "f4v",
        "flv",
        "m2t",
        "m2ts",
        "m2v",
        "m4v",
        "mkv",
        "mov",
        "mp4",
        "mpe",
        "mpeg",
        "mpg",
        "mts",
        "ogm",
        "ogv",
        "rm",
        "rmvb",
        "ts",
        "vob",
        "webm",
        "wmv",
    }
)
AUDIO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {
        "aac",
        "aif",
        "aiff",
        "alac",
        "ape",
        "flac",
        "m4a",
        "m4b",
        "mka",
        "mp2",
        "mp3",
        "oga",
        "ogg",
        "opus",
        "spx",
        "wav",
        "wma",
        "wv",
    }
)
MEDIA_EXTENSIONS: Final[frozenset[str]] = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS

# Extensions stripped before parsing (media plus the side-car files that sit next to episodes).
_STRIPPED_EXTENSIONS: Final[frozenset[str]] = MEDIA_EXTENSIONS | frozenset(
    {"srt", "ass", "ssa", "sub", "idx", "vtt", "sup", "smi", "nfo", "txt", "jpg", "jpeg", "png"}
)


@dataclass(frozen=True, slots=True)
class ParsedEpisode:
    """What a file name says about the episode(s) it holds.

    Invariants: ``episodes`` is ascending without duplicates; either ``episodes`` is non-empty or
    ``air_date`` is set (date-based names carry no episode number, so ``episodes == ()``);
    episode ``0`` only appears with an explicit season (``S01E00``, ``S00E00``).
    """

    season: int | None
    episodes: tuple[int, ...]
    absolute: int | None
    air_date: datetime.date | None
    title: str | None
    method: str  # "fast" or "guessit"


# --------------------------------------------------------------------------------------------
# regular expressions (all compiled once, at import)

# The fast-path patterns run on a lower-cased copy of the stem and start with a literal or a
# character class (lookbehinds, where needed, come after the first character or are checked in
# code by _bounded): that lets the regex engine skip ahead instead of trying every position,
# which makes them several times faster than the equivalent re.IGNORECASE patterns.
_SXXEYY = re.compile(r"s(?P<s>[0-9]{1,4})(?:[ ._]*-[ ._]*|[ ._]?)e(?P<e>[0-9]{1,4})(?![0-9])")
# continuation of a multi-episode marker: E03 / -E03 / -03 / .S01E03 / -S01E03
_S_TAIL = re.compile(
    r"(?P<sep>[ ._]*-[ ._]*|[ ._]?)(?:s(?P<s>[0-9]{1,4})[ ._]?)?(?P<E>e)?(?P<n>[0-9]{1,4})(?![0-9])"
)
_SEASON_WORD = r"(?:season|staffel|saison|temporada|stagione|series|seizoen|sezon)"
_EPISODE_WORD = r"(?:episode|épisode|episodio|epizod|aflevering|folge|capitulo|capítulo|ep)"
_SEASON_EPISODE = re.compile(
    _SEASON_WORD
    + r"[ ._-]?(?P<s>[0-9]{1,4})[ ._,-]*"
    + _EPISODE_WORD
    + r"\.?[ ._-]?(?P<e>[0-9]{1,4})(?![0-9])"
)
_NXNN = re.compile(
    r"(?P<s>[0-9](?<![^\W_][0-9])(?<![0-9][.,][0-9])[0-9]?)x(?P<e>[0-9]{2,3})(?![0-9])"
)
_X_TAIL = re.compile(r"(?P<sep>-(?:(?P<s>[0-9]{1,2})x)?|x)(?P<n>[0-9]{2,3})(?![0-9])")
_DATE = re.compile(
    r"(?P<y>(?:1(?<![0-9]1)9|2(?<![0-9]2)0)[0-9]{2})(?P<sep>[-._ ])(?P<m>[0-9]{2})(?P=sep)"
    r"(?P<d>[0-9]{2})(?![0-9])"
)
_EPISODE_ONLY = re.compile(
    r"(?P<w>episode|épisode|episodio|epizod|aflevering|folge|capitulo|capítulo|ep|e)"
    r"(?P<sep>[ ._#-]{0,3})(?P<n>[0-9]{1,4})(?:v[0-9]{1,2})?(?=[^0-9a-z]|\Z|e[0-9])"
)
_DASH_NUMBER = re.compile(
    r"-\s+(?P<n>[0-9]{1,4})(?:v[0-9]{1,2})?(?:\s+(?:end|final)(?![^\W_]))?"
    r"(?=\s*\Z|\s*[\[(]|\s+-(?:\s|\Z))"
)
_HASH_NUMBER = re.compile(r"#(?P<n>[0-9]{1,4})(?![0-9a-z])")
_LEADING_NUMBER = re.compile(
    r"(?P<n>[0-9]{1,3})(?:v[0-9])?"
    r"(?:\s*\Z|\s*-\s*(?=[^\s0-9])|\.\s*(?=[^\s0-9.])|\s+(?=[\[(]))"
)
# Sonarr anime naming: "Show - S01E02 - 014 - Title" – the absolute number after the marker
_ABSOLUTE_AFTER = re.compile(r"\s+-\s+(?P<a>[0-9]{2,4})(?=\s+-\s|\s*\Z|\s*[\[(])")

_RELEASE_TAG = re.compile(
    r"(?:[0-9]{3,4}[pi]|[0-9]{3,4}x[0-9]{3,4}|[248]k|uhd|hdtv|pdtv|sdtv|dsr|hdtvrip|tvrip"
    r"|web|web-?dl|webdl|web-?rip|webdlrip|bluray|blu-ray|bdrip|brrip|bdremux|remux|dvdrip|dvd"
    r"|dvd5|dvd9|hdrip|x26[2-6]|h\.?26[2-6]|hevc|avc|xvid|divx|av1|vp9|aac[0-9.]*|ac3|e-?ac3"
    r"|ddp?[0-9.]*\+?|dd\+[0-9.]*|dts(?:-?hd)?|truehd|atmos|flac|10-?bit|8-?bit|hi10p?|hdr(?:10)?\+?"
    r"|dovi|proper|repack|rerip|internal|multi|multisub|subbed|dubbed|vostfr|amzn|nf|dsnp"
    r"|hulu|atvp|hmax|pcok|funi|hidive|crunchyroll|ntsc|pal|480|576|720|1080|2160)",
    re.I,
)
_HAS_DIGIT = re.compile(r"[0-9]")
_SAMPLE = re.compile(r"(?<![^\W_])sample(?![^\W_])", re.I)

_SEASON_FOLDER = re.compile(
    r"\s*(?:" + _SEASON_WORD + r"[ ._-]*(?P<a>[0-9]{1,4})|S(?P<b>[0-9]{1,4}))"
    r"(?:[ ._]+[^0-9\s].*)?\s*",
    re.I | re.S,
)
_SPECIALS_FOLDER = re.compile(r"\s*(?:season[ ._-]*)?specials?\s*", re.I)
_CJK_SEASON_FOLDER = re.compile(
    r"\s*(?:第\s*(?P<a>[0-9]{1,4})\s*[季期部]|シーズン\s*(?P<b>[0-9]{1,4}))\s*"
)

_RESOLUTION_NUMBERS: Final[frozenset[int]] = frozenset(
    {240, 360, 480, 540, 576, 720, 1080, 1440, 2160, 4320}
)
_MAX_RANGE = 50  # S01E01-E50 is the widest multi-episode range believed


# --------------------------------------------------------------------------------------------
# public helpers


def is_media_file(name: str) -> bool:
    """True for a video/audio file by extension (case-insensitive).

    Hidden files (``.x.mkv``, AppleDouble ``._x.mkv``), partial downloads (``x.mkv.part``) and
    sample files (``x.sample.mkv``, ``sample-x.mkv``) are not media files.
    """
    base = _basename(name)
    if not base or base[0] == ".":
        return False
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem or ext.lower() not in MEDIA_EXTENSIONS:
        return False
    return _SAMPLE.search(stem) is None


def parse_season_folder(name: str) -> int | None:
    """Season number of a season folder name, ``0`` for specials, else ``None``.

    ``Season 01``, ``season1``, ``S01``, ``Staffel 1``, ``Saison 2``, ``Temporada 3``,
    ``Series 2``, ``Season 2019``, ``Season 1 (2013)``, ``Specials`` -> 0, ``第2季``.
    ``Extras``, ``Season 1-3``, ``Featurettes`` -> ``None``.
    """
    name = _basename(name.strip().rstrip("/\\"))
    if _SPECIALS_FOLDER.fullmatch(name):
        return 0
    m = _SEASON_FOLDER.fullmatch(name) or _CJK_SEASON_FOLDER.fullmatch(name)
    if m is None:
        return None
    season = int(m.group("a") or m.group("b"))
    return season if _valid_season(season) else None


def parse_episode_filename(
    name: str, *, season_hint: int | None = None, use_fallback: bool = True
) -> ParsedEpisode | None:
    """Read season/episode numbers (or an air date) from a bare file name.

    ``season_hint`` is the season of the containing folder; it only applies to names that carry
    an episode number but no season.  Returns ``None`` when nothing can be read with confidence.
    ``use_fallback=False`` skips guessit (fast path only).
    """
    if season_hint is not None and not _valid_season(season_hint):
        season_hint = None
    stem = _stem(name)
    parsed = _parse_fast(stem, season_hint)
    if parsed is not None or not use_fallback:
        return parsed
    if _HAS_DIGIT.search(stem) is None:  # guessit can't find an integer episode without digits
        return None
    return _parse_with_guessit(_basename(name), season_hint)


# --------------------------------------------------------------------------------------------
# fast path


def _basename(name: str) -> str:
    return name.rpartition("/")[2].rpartition("\\")[2]


def _stem(name: str) -> str:
    stem = _basename(name).strip()
    for _ in range(2):
        base, dot, ext = stem.rpartition(".")
        if not dot or not base or ext.lower() not in _STRIPPED_EXTENSIONS:
            break
        stem = base
    if stem.count("_") > stem.count(" "):  # Title_-_05_[720p]
        stem = stem.replace("_", " ")
    return stem


def _valid_season(season: int) -> bool:
    return 0 <= season <= 99 or 1900 <= season <= 2099


def _is_year(digits: str) -> bool:
    return (
        len(digits) == 4 and digits.isascii() and digits.isdigit() and 1900 <= int(digits) <= 2099
    )


def _bounded(text: str, start: int) -> bool:
    """True when ``text[start]`` is not glued to a preceding letter or digit."""
    return start == 0 or not text[start - 1].isalnum()


def _lower(stem: str) -> str:
    low = stem.lower()
    if len(low) != len(stem):  # "İ" lower-cases to two code points: keep offsets aligned
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in stem)
    return low


def _parse_fast(stem: str, hint: int | None) -> ParsedEpisode | None:
    low = _lower(stem)
    for m in _SXXEYY.finditer(low):
        season = int(m.group("s"))
        if not _valid_season(season) or not _bounded(low, m.start()):
            continue
        episodes, end = _read_tail(low, m.end(), int(m.group("e")), season, _S_TAIL)
        absolute = None
        a = _ABSOLUTE_AFTER.match(low, end)
        if a is not None and not _is_year(a.group("a")) and int(a.group("a")) > 0:
            absolute = int(a.group("a"))
            end = a.end()
        return _result(season, episodes, absolute, None, stem[end:])

    for m in _SEASON_EPISODE.finditer(low):
        season = int(m.group("s"))
        if not _valid_season(season) or not _bounded(low, m.start()):
            continue
        episodes, end = _read_tail(low, m.end(), int(m.group("e")), season, _S_TAIL)
        if episodes[0] == 0:
            continue
        return _result(season, episodes, None, None, stem[end:])

    for m in _NXNN.finditer(low):
        season = int(m.group("s"))
        episodes, end = _read_tail(low, m.end(), int(m.group("e")), season, _X_TAIL)
        return _result(season, episodes, None, None, stem[end:])

    for m in _DATE.finditer(low):
        try:
            air_date = datetime.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        except ValueError:
            continue
        return _result(None, [], None, air_date, stem[m.end() :])

    for m in _EPISODE_ONLY.finditer(low):
        number = int(m.group("n"))
        if number == 0 or not _bounded(low, m.start()):
            continue
        if m.group("w") == "e" and (m.group("sep") or len(m.group("n")) < 2):
            continue  # bare "E" needs two digits and no separator: "E05", not "E3" / "E 3"
        episodes, end = _read_tail(low, m.end(), number, None, _S_TAIL)
        return _numbered(episodes, hint, stem[end:])

    for m in _DASH_NUMBER.finditer(low):
        digits = m.group("n")
        start = m.start()
        if start > 0 and not low[start - 1].isspace():
            continue
        if _is_year(digits) or int(digits) == 0:
            continue
        return _numbered([int(digits)], hint, stem[m.end() :])

    for m in _HASH_NUMBER.finditer(low):
        start = m.start()
        if (start == 0 or low[start - 1].isspace()) and int(m.group("n")) > 0:
            return _numbered([int(m.group("n"))], hint, stem[m.end() :])

    m3 = _LEADING_NUMBER.match(low)
    if m3 is not None:
        digits = m3.group("n")
        number = int(digits)
        # "101 - Pilot" in "Season 1" is probably S01E01, not episode 101: don't guess.
        ambiguous = len(digits) == 3 and hint is not None and number // 100 == hint
        if number > 0 and not ambiguous:
            return _numbered([number], hint, stem[m3.end() :])
    return None


def _read_tail(
    stem: str, pos: int, first: int, season: int | None, tail: re.Pattern[str]
) -> tuple[list[int], int]:
    """Extend a marker with further episodes: ``E03``, ``-E05``/``-05`` ranges, ``.S01E03``."""
    episodes = [first]
    while (m := tail.match(stem, pos)) is not None:
        sep, s, digits = m.group("sep"), m.group("s"), m.group("n")
        n, prev = int(digits), episodes[-1]
        is_range = "-" in sep
        if s is not None and (season is None or int(s) != season):
            break
        if tail is _S_TAIL:
            has_e = m.group("E") is not None
            if not has_e:
                # bare "-03": directly attached, no season, and not "-720p" / "-03abc"
                if sep != "-" or s is not None or stem[m.end() : m.end() + 1].isalpha():
                    break
            elif sep and not is_range and s is None and n != prev + 1:
                # "S01E01.E3.Expo": a separated E-number must be the next one or carry S01
                break
        elif sep == "-" and stem[m.end() : m.end() + 1].isalpha():  # 1x02-03, not 1x02-720p
            break
        if n <= prev or n - prev > _MAX_RANGE or _is_year(digits):
            break
        episodes.extend(range(prev + 1, n + 1) if is_range else (n,))
        pos = m.end()
    return episodes, pos


def _numbered(episodes: list[int], hint: int | None, rest: str) -> ParsedEpisode:
    if hint is not None:
        return _result(hint, episodes, None, None, rest)
    absolute = episodes[0] if len(episodes) == 1 else None
    return _result(None, episodes, absolute, None, rest)


def _result(
    season: int | None,
    episodes: list[int],
    absolute: int | None,
    air_date: datetime.date | None,
    rest: str,
    method: str = "fast",
) -> ParsedEpisode:
    return ParsedEpisode(
        season=season,
        episodes=(episodes[0],) if len(episodes) == 1 else tuple(sorted(set(episodes))),
        absolute=absolute,
        air_date=air_date,
        title=_clean_title(rest) if rest else None,
        method=method,
    )


def _is_tag(token: str) -> bool:
    token = token.strip("()[]{},-")
    if _RELEASE_TAG.fullmatch(token):
        return True
    head, dash, _ = token.partition("-")
    return bool(dash and head and _RELEASE_TAG.fullmatch(head))


def _clean_title(rest: str) -> str | None:
    """Best-effort episode title from the text after the episode marker."""
    for stop in "[{":
        i = rest.find(stop)
        if i != -1:
            rest = rest[:i]
    i = rest.find("(")
    while i != -1:
        j = rest.find(")", i)
        inner = rest[i + 1 : j if j != -1 else len(rest)]
        if not inner.strip() or _is_year(inner.strip()) or any(_is_tag(t) for t in inner.split()):
            rest = rest[:i]
            break
        i = rest.find("(", i + 1)
    if " " not in rest.strip(" ._-"):  # scene style: Episode.Title.720p
        rest = rest.replace(".", " ").replace("_", " ")
    words: list[str] = []
    for token in rest.split():
        if _is_tag(token):
            break
        words.append(token)
    title = " ".join(words).strip(" -._~:,|")
    if not title or not any(c.isalpha() for c in title):
        return None
    return title


# --------------------------------------------------------------------------------------------
# guessit fallback


def _parse_with_guessit(name: str, hint: int | None) -> ParsedEpisode | None:
    try:
        from guessit import guessit  # lazy: importing guessit costs ~150 ms
    except ImportError:  # pragma: no cover - guessit is a hard dependency
        return None
    try:
        guess = guessit(name, {"advanced": True})
    except Exception:  # guessit/rebulk may raise on odd input; the fallback is best effort
        return None
    if _value(guess.get("type")) != "episode":
        return None

    episode_matches = _as_list(guess.get("episode"))
    season_matches = _as_list(guess.get("season"))
    if not episode_matches or len(season_matches) > 1:
        return None
    year = _value(guess.get("year"))

    for match in episode_matches + season_matches:
        if _from_year_or_resolution(match):
            return None

    episodes: list[int] = []
    for match in episode_matches:
        value = _value(match)
        if not _is_int(value) or not 1 <= value <= 9999 or value == year:
            return None
        episodes.append(value)

    season: int | None = None
    if season_matches:
        value = _value(season_matches[0])
        if not _is_int(value) or not 0 <= value <= 99 or value == year:
            return None
        season = value
        if hint is not None and season != hint and _is_weak(season_matches[0]):
            return None  # "Show.Name.720" style weak split disagreeing with the folder
    else:
        if hint is None:
            return None
        if any(_is_weak(m) and len(str(_value(m))) >= 3 for m in episode_matches):
            return None  # "Show.102-103" without its season split: don't read 102 as episode
        season = hint

    air_date = _value(guess.get("date"))
    title = _value(guess.get("episode_title"))
    return ParsedEpisode(
        season=season,
        episodes=tuple(sorted(set(episodes))),
        absolute=None,
        air_date=air_date if isinstance(air_date, datetime.date) else None,
        title=(title.strip() or None) if isinstance(title, str) else None,
        method="guessit",
    )


def _value(match: Any) -> Any:
    if isinstance(match, list):
        return _value(match[0]) if match else None
    return getattr(match, "value", match)


def _as_list(match: Any) -> list[Any]:
    if match is None:
        return []
    return list(match) if isinstance(match, list) else [match]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_weak(match: Any) -> bool:
    tags = getattr(match, "tags", None) or []
    initiator = getattr(match, "initiator", None)
    return "weak-episode" in tags or getattr(initiator, "name", None) == "weak_episode"


def _from_year_or_resolution(match: Any) -> bool:
    """True when guessit built the number from a year- or resolution-like digit run."""
    initiator = getattr(match, "initiator", None)
    raws = [getattr(match, "raw", None), getattr(initiator, "raw", None)]
    for raw in raws:
        if not isinstance(raw, str):
            continue
        digits = raw.strip(" ._-")
        if digits.isascii() and digits.isdigit():
            number = int(digits)
            if number in _RESOLUTION_NUMBERS or _is_year(digits):
                return True
    return False
