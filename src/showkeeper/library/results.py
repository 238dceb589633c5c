"""What a scan reports, and what the missing-episodes query returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class ScanStats:
    """Counters of one scan. "folders" are directories; "series" are top-level folders."""

    series_total: int = 0  # series folders looked at
    series_read: int = 0  # ... of which at least one directory was read
    series_unchanged: int = 0  # ... found unchanged (only stat'ed)
    folders_read: int = 0  # directories listed
    folders_skipped: int = 0  # directories found unchanged, not listed
    files_seen: int = 0  # media files in the directories listed
    files_matched: int = 0  # ... that stand for an episode
    episodes_found: int = 0  # episodes newly on disk (or their file changed)
    episodes_gone: int = 0  # episodes whose file went away
    local_added: int = 0  # episodes found only on disk (at_source=False)
    series_created: int = 0  # series imported from tvshow.nfo / key files
    unmapped: int = 0  # series folders nobody could identify
    unparsed: int = 0  # files whose name says no episode, or none of this series
    issues: int = 0  # every issue reported by this scan


@dataclass(slots=True)
class ScanResult:
    scan_id: str
    series_key: str | None  # set for a targeted rescan
    stats: ScanStats = field(default_factory=ScanStats)
    duration_s: float = 0.0
    folder_missing: bool = False  # targeted rescan: the series folder is not on disk

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scan_id": self.scan_id,
            "series_key": self.series_key,
            "duration_s": round(self.duration_s, 3),
            "folder_missing": self.folder_missing,
        }
        out.update(asdict(self.stats))
        return out
