"""Naming schemes: the three templates that place an episode in the library, and their fields.

A scheme is a series folder template (or None: keep each series' folder as it is), a season
folder template ("" for no season folders; season 0 is always "Specials") and an episode file
template. Every template is checked by the rules of :mod:`showkeeper.domain.paths`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from showkeeper.domain.paths import (
    DEFAULT_EPISODE_TEMPLATE,
    SEASON_FOLDER_FIELDS,
    SERIES_FOLDER_FIELDS,
    EpisodeNaming,
    UnsafePathError,
    episode_file_name,
    render_folder_name,
    safe_component,
    validate_folder_template,
    validate_template,
)

DEFAULT_SEASON_TEMPLATE = "Season {season:02d}"
SPECIALS_FOLDER = "Specials"
KEYS = ("series_folder", "season_folder", "episode")


@dataclass(frozen=True, slots=True)
class NamingScheme:
    """Where an episode goes: ``<series folder>/<season folder>/<episode file>``."""

    series_folder: str | None = None
    season_folder: str = DEFAULT_SEASON_TEMPLATE
    episode: str = DEFAULT_EPISODE_TEMPLATE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SCHEME = NamingScheme()

FIELDS: list[dict[str, str]] = [
    {"name": "series", "in": "series_folder, episode", "example": "Attack on Titan"},
    {"name": "year", "in": "series_folder, episode", "example": "2013"},
    {"name": "source_id", "in": "series_folder, episode", "example": "yt-UC123 / a feed guid"},
    {"name": "season", "in": "season_folder, episode", "example": "1 ({season:02d} -> 01)"},
    {"name": "episode", "in": "episode", "example": "2 ({episode:02d} -> 02; S01E02-E03)"},
    {"name": "absolute", "in": "episode", "example": "26 ({absolute:03d} -> 026)"},
    {"name": "title", "in": "episode", "example": "That Day"},
    {"name": "air_date", "in": "episode", "example": "2024-03-05"},
    {"name": "air_date_dots", "in": "episode", "example": "2024.03.05"},
    {"name": "air_date_compact", "in": "episode", "example": "20240305"},
    {"name": "air_year", "in": "episode", "example": "2024"},
    {"name": "quality", "in": "episode", "example": "1080p (the best candidate's height)"},
]
"""The documented template fields (``GET /api/naming``)."""


def validate_scheme(values: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check the templates in ``values`` and return them cleaned.

    Args:
        values: ``series_folder`` (str or None), ``season_folder`` (str, "" for none),
            ``episode`` (str). With ``partial``, a None value means "use the global one".
        partial: A per-series override: only the given keys, None allowed.

    Raises:
        UnsafePathError: an unknown key, a wrong type, or a template the rules refuse; the
            message names the template.
    """
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise UnsafePathError(f"unknown naming key {unknown[0]!r}: use {', '.join(KEYS)}")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None and (partial or key == "series_folder"):
            out[key] = None
            continue
        if not isinstance(value, str):
            raise UnsafePathError(f"{key}: a template must be a string, got {type(value).__name__}")
        try:
            if key == "episode":
                validate_template(value)
            elif key == "season_folder":
                if value:
                    validate_folder_template(value, SEASON_FOLDER_FIELDS)
            else:
                validate_folder_template(value, SERIES_FOLDER_FIELDS)
                if not value.strip():
                    raise UnsafePathError("a series folder template may not be empty")
        except UnsafePathError as exc:
            raise UnsafePathError(f"{key}: {exc}") from None
        out[key] = value
    return out


def merge(base: NamingScheme, override: dict[str, Any]) -> NamingScheme:
    """``base`` with the override's non-None templates."""
    kept = {k: v for k, v in override.items() if k in KEYS and v is not None}
    return NamingScheme(**{**base.as_dict(), **kept})


def scheme_from(values: dict[str, Any]) -> NamingScheme:
    """A stored global scheme; invalid or missing keys fall back to the defaults."""
    try:
        clean = validate_scheme({k: v for k, v in values.items() if k in KEYS})
    except UnsafePathError:
        return DEFAULT_SCHEME
    return NamingScheme(**{**DEFAULT_SCHEME.as_dict(), **clean})


def series_folder(
    scheme: NamingScheme, *, current: str, name: str, year: int | None, source_id: str | None
) -> str:
    """The series' folder name under ``scheme`` (``current`` when it has no folder template)."""
    if scheme.series_folder is None:
        return safe_component(current)
    values: dict[str, str | int | None] = {"series": name, "year": year, "source_id": source_id}
    return render_folder_name(scheme.series_folder, SERIES_FOLDER_FIELDS, values)


@functools.lru_cache(maxsize=256)
def season_folder(scheme: NamingScheme, season: int) -> str | None:
    """The season folder name, or None when the scheme has no season folders."""
    if not scheme.season_folder:
        return None
    if season == 0:
        return SPECIALS_FOLDER
    return render_folder_name(scheme.season_folder, SEASON_FOLDER_FIELDS, {"season": season})


@functools.lru_cache(maxsize=256)
def _folder_component(folder: str) -> str:
    return safe_component(folder)


def episode_path(scheme: NamingScheme, folder: str, naming: EpisodeNaming) -> PurePosixPath:
    """``<folder>/<season folder>/<file>`` relative to the library root.

    Raises:
        UnsafePathError: as :func:`showkeeper.domain.paths.episode_file_name`.
    """
    name = episode_file_name(naming, scheme.episode)
    season = season_folder(scheme, naming.season)
    parts = [_folder_component(folder), *([season] if season else []), name]
    return PurePosixPath(*parts)
