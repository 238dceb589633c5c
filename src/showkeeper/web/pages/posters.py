"""Which series have a poster on disk: the card then shows the artwork route's image, else a
generated placeholder (initials on a colour derived from the key)."""

from __future__ import annotations

from pathlib import Path

from showkeeper.domain.paths import UnsafePathError, ensure_inside

POSTER_FILES = ("poster.jpg", "poster.png", "folder.jpg")


def poster_url(library_dir: Path | None, key: str, folder: str) -> str | None:
    """The artwork URL when the series folder holds a poster, else None."""
    if library_dir is None:
        return None
    try:
        base = ensure_inside(library_dir, folder)
    except UnsafePathError:
        return None
    if any((base / name).is_file() for name in POSTER_FILES):
        return f"/api/series/{key}/artwork/poster"
    return None
