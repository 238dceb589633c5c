"""Series options of the sources: validation on input, filters applied to listings."""

from __future__ import annotations

from typing import Any

from showkeeper.domain.filters import FILTER_KEYS, EpisodeFilter, FilterError, parse_filter
from showkeeper.errors import ShowkeeperError
from showkeeper.sources.base import RemoteEpisode

SEASON_MODES = ("playlist", "year")
PLAYLIST_ORDERS = ("auto", "listed", "reversed")


class InvalidOptionsError(ShowkeeperError):
    """A series option is invalid (bad regex, date, duration or mode)."""

    status_code = 400


def validate_options(options: dict[str, Any] | None) -> dict[str, Any]:
    """Check the source options in ``options`` and return them normalised.

    Keys this module does not know are kept as they are (other features own them).

    Raises:
        InvalidOptionsError: with the option's name and the problem.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise InvalidOptionsError("options must be a JSON object")
    try:
        rules = parse_filter(options)
    except FilterError as exc:
        raise InvalidOptionsError(str(exc)) from None
    out = {k: v for k, v in options.items() if k not in FILTER_KEYS or v not in (None, "")}
    if rules.not_before is not None:
        out["not_before"] = rules.not_before.isoformat()
    for name in ("min_duration_s", "max_duration_s"):
        value = getattr(rules, name)
        if value is not None:
            out[name] = value
    mode = options.get("season_mode")
    if mode is not None and mode not in SEASON_MODES:
        raise InvalidOptionsError(
            f"option season_mode must be one of {', '.join(SEASON_MODES)}, not {mode!r}"
        )
    order = options.get("playlist_order")
    if order is not None and order not in PLAYLIST_ORDERS:
        raise InvalidOptionsError(
            f"option playlist_order must be one of {', '.join(PLAYLIST_ORDERS)}, not {order!r}"
        )
    return out


def series_filter(options: dict[str, Any]) -> EpisodeFilter:
    """The series' filters. Raises InvalidOptionsError (stored before validation, or by hand)."""
    try:
        return parse_filter(options)
    except FilterError as exc:
        raise InvalidOptionsError(str(exc)) from None


def apply_filters(episodes: list[RemoteEpisode], options: dict[str, Any]) -> list[RemoteEpisode]:
    """The episodes the series' filters keep, in the same order."""
    rules = series_filter(options)
    if rules.is_empty:
        return episodes
    return [e for e in episodes if rules.accepts(e.title, e.air_date, e.duration_s)]
