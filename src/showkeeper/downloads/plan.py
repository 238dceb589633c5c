"""What a worker needs to download one claimed item: candidates and a safe destination."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db import Database
from showkeeper.db.models import Episode, Series
from showkeeper.domain.candidates import Candidate
from showkeeper.domain.paths import UnsafePathError, ensure_inside, safe_extension
from showkeeper.errors import ShowkeeperError
from showkeeper.library.naming import scheme_for, target_path

DEFAULT_EXTENSION = "mp4"
_MIME_EXTENSIONS = {
    "video/mp4": "mp4",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/x-msvideo": "avi",
    "video/mp2t": "ts",
    "video/x-m4v": "m4v",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/mpeg": "mp3",
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
}


class PlanError(ShowkeeperError):
    """The item cannot be downloaded as it stands (no candidates, no library, unsafe name)."""


@dataclass(frozen=True, slots=True)
class Plan:
    episode_id: int
    series_key: str
    season: int
    episode: int
    title: str | None
    candidates: list[Candidate]
    dest: Path
    library: Path

    @property
    def label(self) -> str:
        """``<series key> S01E02``: names the episode in logs and failure lines."""
        return f"{self.series_key} S{self.season:02d}E{self.episode:02d}"

    def relative(self, path: Path) -> str:
        """``path`` relative to the library root, as Episode.file_path stores it."""
        real = Path(os.path.realpath(path))
        if real.is_relative_to(self.library):
            return real.relative_to(self.library).as_posix()
        return str(path)


def extension_for(candidate: Candidate) -> str:
    """The file extension to ask for: the URL's if it is a media one, else the MIME type's.

    HLS is remuxed to mp4; anything unknown is mp4 (the engine corrects it from the
    response's content type).
    """
    if candidate.kind == "hls":
        return DEFAULT_EXTENSION
    suffix = PurePosixPath(urlsplit(candidate.url).path).suffix
    for hint in (suffix, _MIME_EXTENSIONS.get((candidate.mime or "").split(";")[0].strip())):
        if hint:
            try:
                return safe_extension(hint)
            except UnsafePathError:
                continue
    return DEFAULT_EXTENSION


def parse_candidates(raw: Any) -> list[Candidate]:
    """Episode.candidates as Candidates; malformed entries are skipped."""
    out: list[Candidate] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            out.append(Candidate.from_dict(item))
        except (KeyError, TypeError, ValueError):
            continue
    return out


async def plan_for(db: Database, settings: Settings, episode_id: int) -> Plan:
    """Load the episode and its series and work out where the file goes.

    Raises:
        PlanError: the episode is gone, has no usable candidate, there is no library
            folder, or its name is unsafe.
    """
    async with db.session() as s:
        row = (
            await s.execute(
                select(Episode, Series)
                .join(Series, Series.id == Episode.series_id)
                .where(Episode.id == episode_id)
            )
        ).one_or_none()
        if row is None:
            raise PlanError(f"episode {episode_id} no longer exists")
        episode, series = row
        scheme = await scheme_for(s, series.id)
    label = f"{series.key} S{episode.season:02d}E{episode.episode:02d}"
    if settings.library_dir is None:
        raise PlanError("no library folder is set; finish the setup or set SHOWKEEPER_LIBRARY_DIR")
    candidates = parse_candidates(episode.candidates)
    if not candidates:
        raise PlanError(f"{label} has no download candidates; refresh its source")
    library = Path(os.path.realpath(settings.library_dir))
    try:
        # the series' folder as it is on disk: a new folder template applies at its rename
        relative = target_path(
            scheme, series, [episode], extension_for(candidates[0]), folder=series.folder
        )
        dest = ensure_inside(library, relative)
    except UnsafePathError as exc:
        raise PlanError(f"{label}: {exc}") from None
    return Plan(
        episode_id=episode.id,
        series_key=series.key,
        season=episode.season,
        episode=episode.episode,
        title=episode.title,
        candidates=candidates,
        dest=dest,
        library=library,
    )
