"""Naming templates and path safety for the library on disk.

Everything that ends up in a file or folder name comes from remote metadata, which is treated
as hostile: titles such as ``../../etc``, ``/abs``, ``CON``, ``-rf``, NUL bytes, 300-character
names or extensions such as ``.desktop`` must never escape or poison the library root.

The module is pure except for :func:`ensure_inside`, which resolves a path against the library
root with :func:`os.path.realpath` (and therefore reads symlinks on disk).
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

__all__ = [
    "ALLOWED_EXTENSIONS",
    "COMPANION_SUFFIX_BYTES",
    "DEFAULT_EPISODE_TEMPLATE",
    "MAX_FILE_NAME_BYTES",
    "MAX_STEM_BYTES",
    "NAME_MAX_BYTES",
    "SEASON_FOLDER_FIELDS",
    "SERIES_FOLDER_FIELDS",
    "TEMPLATE_FIELDS",
    "EpisodeNaming",
    "UnsafePathError",
    "ensure_inside",
    "episode_file_name",
    "episode_relative_path",
    "render_folder_name",
    "safe_component",
    "safe_extension",
    "season_folder_name",
    "series_folder_name",
    "validate_folder_template",
    "validate_template",
]

ALLOWED_EXTENSIONS: frozenset[str] = frozenset(
    {"mp4", "mkv", "webm", "m4v", "mov", "avi", "ts", "m4a", "mp3", "aac", "opus", "ogg"}
)
"""File extensions (lower case, without the dot) that may be written into the library."""

DEFAULT_EPISODE_TEMPLATE = "{series} - S{season:02d}E{episode:02d} - {title}"
"""Default episode file name template (the extension is appended automatically)."""

MAX_FILE_NAME_BYTES = 240
"""Upper bound for a whole episode file name, extension included, in UTF-8 bytes."""

NAME_MAX_BYTES = 255
"""The file system's limit for one name (ext4, XFS, btrfs, ZFS: 255 bytes)."""

COMPANION_SUFFIX_BYTES = 24
"""The most any companion file adds to an episode file's stem: the atomic write of its
artwork, ``.<stem>-thumb.jpg.XXXXXXXX.tmp``; ``<stem>.webm.part.state.tmp`` adds 20 and the
NFO's ``.<stem>.nfo.XXXXXXXX.tmp`` 18. An episode's stem is cut so that all of them fit."""

MAX_STEM_BYTES = NAME_MAX_BYTES - COMPANION_SUFFIX_BYTES
"""Upper bound for an episode file's stem, in UTF-8 bytes, whatever its extension."""

MAX_COMPONENT_BYTES = 255
"""Largest ``max_bytes`` accepted by :func:`safe_component` (the usual file system limit)."""

MAX_SEASON = 9999
MAX_EPISODE = 99999
MAX_EPISODES_PER_FILE = 100
MAX_TEMPLATE_LENGTH = 500
_SERIES_FIELD_BYTES = 120

_INT_FIELDS = frozenset({"season", "episode", "absolute", "year"})
_AIR_DATE_FIELDS = frozenset({"air_date", "air_date_dots", "air_date_compact"})
_STR_FIELDS = frozenset({"series", "title", "air_year", "quality", "source_id"}) | _AIR_DATE_FIELDS
TEMPLATE_FIELDS: frozenset[str] = _INT_FIELDS | _STR_FIELDS
"""Field names an episode template may use."""
_IDENTIFYING_FIELDS = frozenset({"episode", "absolute"}) | _AIR_DATE_FIELDS
SERIES_FOLDER_FIELDS: frozenset[str] = frozenset({"series", "year", "source_id"})
"""Field names a series folder template may use."""
SEASON_FOLDER_FIELDS: frozenset[str] = frozenset({"season"})
"""Field names a season folder template may use."""

# Windows device names; also reserved with any extension ("con.txt", "NUL.tar.gz").
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")}
)

# Invisible characters that can spoof how a name reads (e.g. "evil\u202egpj.exe").
_INVISIBLE = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
_REPLACEMENTS = {"/": "-", "\\": "-", "|": "-", ":": "-", '"': "'"}
_REMOVED = frozenset("*?<>")
_SPECIAL = re.compile(r'[/\\|:"*?<>]')  # the characters _REPLACEMENTS and _REMOVED handle
_LEADING_JUNK = "-. "
_TRAILING_JUNK = ". "
_SEPARATORS = " -_.,;~"
_OPENERS = {"(": ")", "[": "]", "{": "}"}

# [[fill]align][sign][#][0][width][grouping][.precision][type]; width/precision capped at 99
# so a template cannot ask for a megabyte of padding.
_FORMAT_SPEC = re.compile(
    r"(?:[^{}]?[<>=^])?[ +-]?#?0?(?:[1-9][0-9]?)?[,_]?(?:\.[0-9]{1,2})?[ds]?", re.DOTALL
)


class UnsafePathError(ValueError):
    """A name, extension, template or path was refused because it is unsafe or invalid.

    The message says what was refused and why.
    """


def _show(value: object, limit: int = 60) -> str:
    """Return a bounded ``repr`` of ``value`` for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_bad_char(ch: str) -> bool:
    """Return True for control characters (Cc), lone surrogates and invisible bidi marks."""
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or ch in _INVISIBLE


def _clean(text: str) -> str:
    """Sanitise ``text`` without truncating it; the result may be empty.

    NFC-normalises, replaces control characters with spaces, drops surrogates and invisible
    bidi marks, replaces or removes characters that are special in paths, collapses whitespace
    and strips leading ``-``/dots/spaces and trailing dots/spaces.
    """
    if text.isascii() and text.isprintable() and _SPECIAL.search(text) is None:
        # plain printable ASCII (most names): nothing to replace or normalise
        return " ".join(text.split()).lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)
    text = unicodedata.normalize("NFC", text.replace(": ", " - "))
    out: list[str] = []
    for ch in text:
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        elif ch in _REMOVED:
            continue
        elif _is_bad_char(ch):
            # Control characters separate words; surrogates and bidi marks just vanish.
            if unicodedata.category(ch) == "Cc":
                out.append(" ")
        else:
            out.append(ch)
    # Removing characters can bring a base letter and a combining mark together again.
    cleaned = unicodedata.normalize("NFC", "".join(out))
    cleaned = " ".join(cleaned.split())
    return cleaned.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)


def _truncate(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes at a code point boundary.

    Combining marks are never separated from the character they belong to, and trailing
    dots/spaces exposed by the cut are stripped.
    """
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    kept = len(text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore"))
    while kept > 0 and unicodedata.combining(text[kept]):
        kept -= 1
    return text[:kept].rstrip(_TRAILING_JUNK)


def _reserved_stem(name: str) -> str | None:
    """Return the Windows device name that ``name`` is equivalent to, if any."""
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem if stem.upper() in _RESERVED_NAMES else None


def _finish(cleaned: str, max_bytes: int) -> str:
    """Turn an already cleaned name into a final component (may be empty)."""
    stem = _reserved_stem(cleaned)
    if stem is not None:
        cleaned = f"{stem}_{cleaned[len(stem) :]}"
    result = _truncate(cleaned, max_bytes)
    if result and _reserved_stem(result) is not None:
        # Only reachable when truncation re-created a device name ("CONSOLE" -> "CON").
        result = _truncate("_" + result, max_bytes)
    return result


def safe_component(text: str, *, max_bytes: int = 200, fallback: str = "untitled") -> str:
    """Turn arbitrary text into one safe path component.

    The text is NFC-normalised; control characters (including NUL, DEL and C1) become spaces;
    lone surrogates and invisible bidi marks are dropped; ``/``, ``\\``, ``|`` and ``:`` become
    ``-`` (``": "`` becomes ``" - "``), ``"`` becomes ``'`` and ``* ? < >`` are removed;
    whitespace runs collapse to one space; leading ``-``, dots and spaces and trailing dots and
    spaces are stripped (so the result is never ``.``, ``..`` or hidden). Windows device names
    (``CON``, ``nul.txt``, ``COM1`` ... case-insensitive) get an underscore after the device
    name. The result is cut to ``max_bytes`` UTF-8 bytes without splitting a code point.

    Args:
        text: The untrusted text, e.g. a series or episode title from remote metadata.
        max_bytes: Maximum length of the result in UTF-8 bytes (1 to 255).
        fallback: Used (sanitised the same way) when nothing usable is left of ``text``;
            if the fallback is unusable as well, ``"_"`` is returned.

    Returns:
        A non-empty string that is safe to use as a single file or folder name.

    Raises:
        ValueError: If ``max_bytes`` is outside 1..255.
    """
    if not 1 <= max_bytes <= MAX_COMPONENT_BYTES:
        raise ValueError(f"max_bytes must be between 1 and {MAX_COMPONENT_BYTES}, got {max_bytes}")
    result = _finish(_clean(text), max_bytes)
    if not result:
        result = _finish(_clean(fallback), max_bytes) or "_"
    return result


def safe_extension(ext: str) -> str:
    """Normalise and check a media file extension against :data:`ALLOWED_EXTENSIONS`.

    Args:
        ext: An extension with or without one leading dot, any case (``".MP4"``, ``"mkv"``).

    Returns:
        The lower-case extension without the dot, e.g. ``"mp4"``.

    Raises:
        UnsafePathError: If the extension is not an allowed media extension (this includes
            ``"exe"``, ``"desktop"``, ``"../.mp4"``, ``"mp4 "`` and look-alike Unicode letters).
    """
    bare = ext[1:] if ext.startswith(".") else ext
    normalised = bare.lower() if bare.isascii() else bare
    if normalised not in ALLOWED_EXTENSIONS:
        allowed = ", ".join(sorted(ALLOWED_EXTENSIONS))
        raise UnsafePathError(f"refused file extension {_show(ext)}: not one of {allowed}")
    return normalised


def _check_number(what: str, value: object, maximum: int) -> int:
    """Return ``value`` if it is an int (not bool) in ``0..maximum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise UnsafePathError(
            f"refused {what} {_show(value)}: must be an integer between 0 and {maximum}"
        )
    return value


def series_folder_name(title: str, year: int | None = None) -> str:
    """Build the folder name for a series, e.g. ``"Attack on Titan (2013)"``.

    Args:
        title: The (untrusted) series title.
        year: The first-air year, or None. It is not added twice when the title already ends
            with ``"(<year>)"``.

    Returns:
        A safe single path component of at most 200 UTF-8 bytes; the year survives truncation.

    Raises:
        UnsafePathError: If ``year`` is not an integer between 1 and 9999.
    """
    if year is None:
        return safe_component(title)
    if _check_number("year", year, 9999) == 0:
        raise UnsafePathError("refused year 0: must be an integer between 1 and 9999")
    suffix = f" ({year})"
    base = re.sub(rf"\s*\(\s*{year}\s*\)$", "", _clean(title))
    return safe_component(base, max_bytes=200 - len(suffix)) + suffix


def season_folder_name(season: int) -> str:
    """Build the folder name for a season.

    Args:
        season: Season number; 0 means specials.

    Returns:
        ``"Specials"`` for season 0, otherwise ``"Season 01"``, ``"Season 12"``, ``"Season 2013"``.

    Raises:
        UnsafePathError: If ``season`` is not an integer between 0 and 9999.
    """
    if _check_number("season number", season, MAX_SEASON) == 0:
        return "Specials"
    return f"Season {season:02d}"


@dataclass(frozen=True)
class EpisodeNaming:
    """Everything needed to name one episode file.

    Attributes:
        series: Series title (untrusted, sanitised when rendered).
        season: Season number, 0 for specials.
        episodes: Episode numbers in the file (several for multi-episode files); a list is
            accepted and stored as a tuple.
        title: Episode title, or None when unknown.
        ext: File extension, normalised through :func:`safe_extension` on construction.
        absolute: Absolute episode number (anime), or None.
        air_date: Original air date (daily shows), or None.
        year: The series' first-air year, or None.
        quality: A quality label such as ``"1080p"``, or None.
        source_id: The source's id of the episode (feed guid, video id), or None.

    Raises:
        UnsafePathError: On construction, if a number is out of range, ``episodes`` is empty or
            too long, or ``ext`` is not an allowed extension.
    """

    series: str
    season: int
    episodes: tuple[int, ...]
    title: str | None
    ext: str
    absolute: int | None = None
    air_date: date | None = None
    year: int | None = None
    quality: str | None = None
    source_id: str | None = None

    def __post_init__(self) -> None:
        episodes = tuple(self.episodes)
        if not 1 <= len(episodes) <= MAX_EPISODES_PER_FILE:
            raise UnsafePathError(
                f"refused episode list of length {len(episodes)}: "
                f"need 1 to {MAX_EPISODES_PER_FILE} episodes"
            )
        _check_number("season number", self.season, MAX_SEASON)
        for number in episodes:
            _check_number("episode number", number, MAX_EPISODE)
        if self.absolute is not None:
            _check_number("absolute episode number", self.absolute, MAX_EPISODE)
        if self.air_date is not None and not isinstance(self.air_date, date):
            raise UnsafePathError(f"refused air date {_show(self.air_date)}: not a date")
        object.__setattr__(self, "episodes", episodes)
        object.__setattr__(self, "ext", safe_extension(self.ext))


@dataclass(frozen=True)
class _Segment:
    literal: str
    field: str | None
    spec: str


def _format_episodes(episodes: tuple[int, ...], spec: str, prefix: str) -> str:
    """Render episode numbers: ``02``, a range ``02-E04`` or a list ``02-E05-E07``.

    ``prefix`` is the letter written before the field in the template (``E`` in ``S01E02``),
    repeated before every further number.
    """
    numbers = sorted(set(episodes))
    contiguous = numbers[-1] - numbers[0] == len(numbers) - 1
    shown = [numbers[0], numbers[-1]] if contiguous and len(numbers) > 1 else numbers
    return f"-{prefix}".join(format(n, spec) for n in shown)


def _parse_template(
    template: str, fields: frozenset[str] = TEMPLATE_FIELDS, *, identifying: bool = True
) -> list[_Segment]:
    """Parse and validate a template; see :func:`validate_template`."""
    return list(_parse_cached(template, fields, identifying))


@functools.lru_cache(maxsize=128)
def _parse_cached(template: str, fields: frozenset[str], identifying: bool) -> tuple[_Segment, ...]:
    """The parse, once per template: renaming a library names every file with the same one."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise UnsafePathError(
            f"refused template of {len(template)} characters: limit is {MAX_TEMPLATE_LENGTH}"
        )
    bad = sorted({ch for ch in template if ch in "/\\" or _is_bad_char(ch)})
    if bad:
        raise UnsafePathError(
            f"refused template {_show(template)}: it names a single file, so it may not "
            f"contain {', '.join(repr(ch) for ch in bad)}"
        )
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UnsafePathError(f"refused template {_show(template)}: {exc}") from exc
    segments: list[_Segment] = []
    for literal, field, spec, conversion in parsed:
        if field is None:
            segments.append(_Segment(literal, None, ""))
            continue
        if field not in fields:
            allowed = ", ".join(sorted(fields))
            raise UnsafePathError(
                f"refused template field {{{_show(field)[1:-1]}}}: only plain field names are "
                f"allowed ({allowed}); no positional, attribute or index access"
            )
        if conversion is not None:
            raise UnsafePathError(
                f"refused template field {{{field}!{conversion}}}: conversions are not allowed"
            )
        spec = spec or ""
        if not _FORMAT_SPEC.fullmatch(spec):
            raise UnsafePathError(
                f"refused format spec {_show(spec)} for {{{field}}}: only fill, align, sign, "
                "zero padding and widths/precisions up to 99 with type d or s are allowed"
            )
        try:
            format(1 if field in _INT_FIELDS else "x", spec)
        except ValueError as exc:
            raise UnsafePathError(
                f"refused format spec {_show(spec)} for {{{field}}}: {exc}"
            ) from exc
        segments.append(_Segment(literal, field, spec))
    if identifying and not any(seg.field in _IDENTIFYING_FIELDS for seg in segments):
        raise UnsafePathError(
            f"refused template {_show(template)}: it must contain {{episode}}, {{absolute}} or "
            "{air_date}, otherwise different episodes would get the same file name"
        )
    return tuple(segments)


def validate_template(template: str) -> None:
    """Check that an episode file name template is safe to use.

    Templates use :meth:`str.format` syntax with the fields ``series``, ``season``,
    ``episode``, ``title``, ``absolute``, ``air_date`` (ISO ``YYYY-MM-DD``), ``air_date_dots``
    (``YYYY.MM.DD``), ``air_date_compact`` (``YYYYMMDD``), ``air_year``, ``year`` (the series'),
    ``quality`` (``1080p``) and ``source_id``. The extension is appended automatically and is
    not a field.

    Args:
        template: The template, e.g. :data:`DEFAULT_EPISODE_TEMPLATE`.

    Raises:
        UnsafePathError: If the template is malformed or longer than 500 characters; uses an
            unknown field, positional fields, attribute or index access
            (``"{series.__class__}"``, ``"{title[0]}"``), conversions (``!r``), nested or
            oversized format specs; contains ``/``, ``\\`` or control characters; or contains
            none of ``{episode}``, ``{absolute}`` and the air date fields.
    """
    _parse_template(template)


def validate_folder_template(template: str, fields: frozenset[str]) -> None:
    """Check a series or season folder template with the rules of :func:`validate_template`.

    Args:
        template: The template, e.g. ``"{series} ({year})"``.
        fields: :data:`SERIES_FOLDER_FIELDS` or :data:`SEASON_FOLDER_FIELDS`.

    Raises:
        UnsafePathError: As :func:`validate_template`, except that no episode identifier is
            needed (a folder holds many episodes).
    """
    _parse_template(template, fields, identifying=False)


def render_folder_name(
    template: str, fields: frozenset[str], values: dict[str, str | int | None]
) -> str:
    """Render a folder template into one safe path component.

    String values are sanitised before formatting; an empty field takes its separator (and
    brackets) with it, so ``"{series} ({year})"`` without a year is just the series.

    Raises:
        UnsafePathError: If the template is refused (see :func:`validate_folder_template`).
    """
    segments = _parse_template(template, fields, identifying=False)
    clean: dict[str, str | int | None] = {
        k: (_truncate(_clean(v), _SERIES_FIELD_BYTES) if isinstance(v, str) else v)
        for k, v in values.items()
    }
    return safe_component(_clean(_render(segments, clean, (1,))))


def _render(
    segments: list[_Segment], values: dict[str, str | int | None], episodes: tuple[int, ...]
) -> str:
    """Render parsed segments; empty fields take their separator (and brackets) with them."""
    text = ""
    pending_closer = ""
    for index, seg in enumerate(segments):
        literal = seg.literal
        if pending_closer:
            stripped = literal.lstrip(" ")
            if stripped.startswith(pending_closer):
                literal = stripped[1:]
            pending_closer = ""
        text += literal
        if seg.field is None:
            continue
        value = values.get(seg.field)
        if seg.field == "episode":
            last = literal[-1:]
            prefix = last if last.isascii() and last.isalpha() else ""
            rendered = _format_episodes(episodes, seg.spec, prefix)
        elif value is None or value == "":
            rendered = ""
        else:
            rendered = format(value, seg.spec)
        if rendered:
            text += rendered
            continue
        text = text.rstrip(" ")
        following = segments[index + 1].literal if index + 1 < len(segments) else ""
        closer = _OPENERS.get(text[-1:], "")
        if closer and following.lstrip(" ").startswith(closer):
            # "[{absolute}]" with no absolute: drop the brackets as well.
            pending_closer = closer
            text = text[:-1]
        text = text.rstrip(_SEPARATORS)
    return text.rstrip(_SEPARATORS)


def episode_file_name(naming: EpisodeNaming, template: str = DEFAULT_EPISODE_TEMPLATE) -> str:
    """Build the file name for an episode, extension included.

    Fields are sanitised before formatting (so metadata cannot inject template syntax), the
    rendered name is sanitised again as one component, and the whole name, extension
    included, is kept within 240 UTF-8 bytes by shortening the title first. Multi-episode
    files render as ``S01E02-E03`` (contiguous runs as a range, ``S01E02-E04``); a missing or
    blank title drops the field together with its separator (no trailing ``" - "``).

    Args:
        naming: What to name.
        template: A template accepted by :func:`validate_template`.

    Returns:
        A safe file name such as ``"Attack on Titan - S01E02 - That Day.mkv"``.

    Raises:
        UnsafePathError: If the template is refused, or if every episode identifier the
            template uses is missing for this episode (e.g. ``{air_date}`` without a date).
    """
    segments = _parse_template(template)
    used = {seg.field for seg in segments if seg.field}
    available = {"episode"}
    if naming.absolute is not None:
        available.add("absolute")
    if naming.air_date is not None:
        available |= _AIR_DATE_FIELDS
    if not used & available:
        raise UnsafePathError(
            f"refused to name episode {naming.episodes} of {_show(naming.series)}: template "
            f"{_show(template)} has no identifier (episode, absolute, air_date) for it"
        )
    air = naming.air_date
    title = _clean(naming.title or "")
    values: dict[str, str | int | None] = {
        "series": _truncate(_clean(naming.series), _SERIES_FIELD_BYTES) or "untitled",
        "season": naming.season,
        "absolute": naming.absolute,
        "air_date": None if air is None else f"{air.year:04d}-{air.month:02d}-{air.day:02d}",
        "air_date_dots": None if air is None else f"{air.year:04d}.{air.month:02d}.{air.day:02d}",
        "air_date_compact": None if air is None else f"{air.year:04d}{air.month:02d}{air.day:02d}",
        "air_year": None if air is None else f"{air.year:04d}",
        "year": naming.year,
        "quality": _truncate(_clean(naming.quality or ""), 40) if "quality" in used else None,
        "source_id": _truncate(_clean(naming.source_id or ""), 80) if "source_id" in used else None,
        "title": title,
    }
    # the stem leaves room for the longest extension plus every companion file's suffix
    budget = min(MAX_FILE_NAME_BYTES - len(naming.ext) - 1, MAX_STEM_BYTES)

    def render(title_text: str) -> str:
        values["title"] = title_text
        return _clean(_render(segments, values, naming.episodes))

    rendered = render(title)
    # Shorten the title (usually last) rather than cutting off the episode number.
    for _ in range(4):
        excess = len(rendered.encode("utf-8")) - budget
        if excess <= 0 or not title or "title" not in used:
            break
        title = _truncate(title, max(len(title.encode("utf-8")) - excess, 0))
        rendered = render(title)
    stem = safe_component(rendered, max_bytes=budget, fallback=_fallback_stem(naming))
    return f"{stem}.{naming.ext}"


def _fallback_stem(naming: EpisodeNaming) -> str:
    """A plain ``S01E02`` name used if a rendered template sanitises to nothing."""
    return f"S{naming.season:02d}E" + _format_episodes(naming.episodes, "02d", "E")


def episode_relative_path(
    folder: str, naming: EpisodeNaming, template: str = DEFAULT_EPISODE_TEMPLATE
) -> PurePosixPath:
    """Build ``<folder>/Season 01/<file>`` relative to the library root.

    Args:
        folder: The series folder name (usually from :func:`series_folder_name`); it is passed
            through :func:`safe_component` again.
        naming: What to name.
        template: A template accepted by :func:`validate_template`.

    Returns:
        A relative path of exactly three safe components.

    Raises:
        UnsafePathError: As :func:`episode_file_name`.
    """
    return PurePosixPath(
        safe_component(folder),
        season_folder_name(naming.season),
        episode_file_name(naming, template),
    )


def ensure_inside(
    root: os.PathLike[str] | str,
    relative: PurePosixPath | str,
) -> pathlib.Path:
    """Resolve ``relative`` against ``root`` and check that it stays strictly inside it.

    Both paths are resolved with :func:`os.path.realpath`, so ``..`` components and symlinks
    (including a symlink inside the root that points outside) are followed before the check.
    The check is only as good as the file system state at call time: a symlink created
    afterwards is not covered.

    Args:
        root: The library root. It does not have to exist.
        relative: A relative path below the root, e.g. from :func:`episode_relative_path`.

    Returns:
        The resolved absolute path, guaranteed to be below ``realpath(root)`` and not equal
        to it.

    Raises:
        UnsafePathError: If ``root`` is empty, ``relative`` is absolute, contains NUL, or
            resolves to the root itself or anywhere outside it.
    """
    root_text = os.fspath(root)
    rel_text = str(relative)
    if not root_text:
        raise UnsafePathError("refused empty library root")
    if "\x00" in rel_text or "\x00" in root_text:
        raise UnsafePathError(f"refused path {_show(rel_text)}: contains a NUL byte")
    if PurePosixPath(rel_text).is_absolute() or os.path.isabs(rel_text):
        raise UnsafePathError(f"refused path {_show(rel_text)}: absolute paths are not allowed")
    base = pathlib.Path(os.path.realpath(root_text))
    resolved = pathlib.Path(os.path.realpath(str(base / rel_text)))
    if resolved == base or not resolved.is_relative_to(base):
        raise UnsafePathError(
            f"refused path {_show(rel_text)}: resolves to {_show(str(resolved))}, "
            f"which is not inside the library root {_show(str(base))}"
        )
    return resolved
