"""The files that belong to an episode's video: its NFO, thumbnails and subtitles.

``Show - S01E02.mkv`` has ``Show - S01E02.nfo``, ``Show - S01E02-thumb.jpg`` (artwork),
``Show - S01E02.srt`` and ``Show - S01E02.en.srt``. Rename moves them with the video, retention
deletes them with it; this is the one list.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

FIXED_SUFFIXES = (".nfo", "-thumb.jpg", "-thumb.png", "-thumb.webp")
SUBTITLE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa", ".sub")
_MAX_LANGUAGE = 12


def _stem(video_name: str) -> str:
    stem, dot, _ext = video_name.rpartition(".")
    return stem if dot else video_name


def companion_suffixes(names: Iterable[str], video_name: str) -> list[str]:
    """The suffixes (after the video's stem) of the companions among ``names``.

    Args:
        names: The file names in the video's folder.
        video_name: The video's file name.

    Returns:
        e.g. ``[".nfo", "-thumb.jpg", ".en.srt"]``: the companion is ``stem + suffix``.
    """
    stem = _stem(video_name)
    found: list[str] = []
    for name in names:
        if not name.startswith(stem) or name == video_name:
            continue
        rest = name[len(stem) :]
        if rest in FIXED_SUFFIXES or rest in SUBTITLE_EXTENSIONS:
            found.append(rest)
        elif rest.startswith(".") and rest.endswith(SUBTITLE_EXTENSIONS):
            language = rest[1:].rpartition(".")[0]
            if 0 < len(language) <= _MAX_LANGUAGE and "." not in language:
                found.append(rest)
    return sorted(found)


def _stems(name: str) -> list[tuple[str, str]]:
    """Each (video stem, suffix) pair for which ``name`` would be a companion."""
    for suffix in FIXED_SUFFIXES:
        if name.endswith(suffix):
            return [(name[: -len(suffix)], suffix)]
    base, dot, ext = name.rpartition(".")
    if not dot or f".{ext}" not in SUBTITLE_EXTENSIONS:
        return []
    out = [(base, f".{ext}")]
    stem, dot, language = base.rpartition(".")
    if dot and 0 < len(language) <= _MAX_LANGUAGE:
        out.append((stem, f".{language}.{ext}"))
    return out


class FolderNames:
    """Companions per folder, each folder listed and indexed once (a rename reads a season
    folder once, not once per episode)."""

    def __init__(self) -> None:
        self._index: dict[str, dict[str, list[str]]] = {}

    def _folder(self, folder: str) -> dict[str, list[str]]:
        index = self._index.get(folder)
        if index is None:
            try:
                names = os.listdir(folder)
            except OSError:
                names = []
            index = {}
            for name in names:
                for stem, suffix in _stems(name):
                    index.setdefault(stem, []).append(suffix)
            self._index[folder] = index
        return index

    def companions(self, path: str) -> list[str]:
        """Suffixes of the companions of the video at absolute ``path`` (as
        :func:`companion_suffixes` finds them)."""
        folder, _, name = path.rpartition("/")
        return sorted(self._folder(folder).get(_stem(name), ()))


def with_suffix(path: str, suffix: str) -> str:
    """The companion of the video ``path`` with ``suffix`` (``.nfo``, ``-thumb.jpg``)."""
    folder, slash, name = path.rpartition("/")
    return f"{folder}{slash}{_stem(name)}{suffix}"
