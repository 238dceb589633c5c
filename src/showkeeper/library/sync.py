"""Reconciling folder scans with the database, a batch of series folders at a time.

Every write is a bulk statement (one executemany or ``IN (...)`` per kind of change), never a
query per file. Rules, per series folder that was (partly) read:

- a file that stands for episode(s) marks them downloaded with its path and size; episodes the
  database does not know are created as local-only (``at_source=False``);
- an episode whose file was in a directory that was read (or vanished) and is not there now is
  missing again; a local-only one is deleted;
- two files for one episode: the first keeps it, the other is reported as a duplicate;
- unparsed / unmatched / duplicate files are reported; a directory holding unmatched or
  duplicate files is read again on every scan (its mtime is recorded as -1), so a later source
  refresh can still match them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Boolean, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from showkeeper.db.models import Episode, LibraryFolder, LibraryIssue, Series, UTCDateTime
from showkeeper.library.bulk import executemany, insert_for
from showkeeper.library.identify import FolderIdentity, IdentityProblem
from showkeeper.library.match import EpisodeIndex, EpisodeNumber, KnownEpisode, resolve
from showkeeper.library.results import ScanStats
from showkeeper.library.scanner import FolderScan, Issue, ScannedFile
from showkeeper.library.state import UNMAPPED, SeriesRef

CHUNK = 500  # values per IN (...) clause
NO_IDENTITY = (
    "no series has this folder, and it has no tvshow.nfo with a uniqueid or key file: "
    "match it to a series"
)
_EPISODES: Table = Episode.__table__  # type: ignore[assignment]
_FOLDERS: Table = LibraryFolder.__table__  # type: ignore[assignment]
_ISSUES: Table = LibraryIssue.__table__  # type: ignore[assignment]
_SERIES: Table = Series.__table__  # type: ignore[assignment]


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


_PATH = attrgetter("path")


def _dirname(path: str) -> str:
    return path.rpartition("/")[0]


@dataclass(slots=True)
class _Writes:
    """The bulk statements of one batch, collected before any is run."""

    upserts: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    folders: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # series folders whose state is rewritten
    issues: list[dict[str, Any]] = field(default_factory=list)
    issue_folders: list[str] = field(default_factory=list)  # directories whose issues go
    issue_series: list[str] = field(default_factory=list)  # series folders whose issues go


class Reconciler:
    """Applies batches of :class:`FolderScan` for one scan. ``present`` = folders on disk."""

    def __init__(
        self,
        series: dict[str, SeriesRef],
        *,
        root: str,
        stats: ScanStats,
        now: datetime,
        present: Collection[str] | None = None,
    ) -> None:
        self.series = series
        self.root_prefix = root.rstrip("/") + "/"
        self.stats = stats
        self.now = now
        self.present = present

    async def apply(self, session: AsyncSession, scans: Sequence[FolderScan]) -> None:
        """Write one batch; run it inside a short write transaction."""
        unmapped = await self._identify(session, scans)
        mapped = [s for s in scans if s.name in self.series and s.name not in unmapped]
        known = await self._episodes(session, [self.series[s.name].id for s in mapped])
        w = _Writes()
        for scan in scans:
            w.replaced.append(scan.name)
            ref = self.series.get(scan.name)
            if ref is None or scan.name in unmapped:
                self._unmapped(scan, unmapped.get(scan.name), w)
            else:
                self._reconcile(scan, ref, EpisodeIndex(known.get(ref.id, ())), w)
        await self._flush(session, w)

    # ---------------------------------------------------------------- identification

    async def _identify(self, session: AsyncSession, scans: Sequence[FolderScan]) -> dict[str, str]:
        """Create or re-point series for identified folders; returns unmapped name -> reason."""
        unmapped: dict[str, str] = {}
        found: list[tuple[FolderScan, FolderIdentity]] = []
        for scan in scans:
            if scan.name in self.series:
                continue
            if isinstance(scan.identity, FolderIdentity):
                found.append((scan, scan.identity))
            elif isinstance(scan.identity, IdentityProblem):
                unmapped[scan.name] = scan.identity.reason
            else:
                unmapped[scan.name] = NO_IDENTITY
        if not found:
            return unmapped
        keys = [ident.key for _, ident in found]
        rows = await session.execute(
            select(Series.id, Series.key, Series.folder).where(Series.key.in_(keys))
        )
        existing = {key: SeriesRef(id_, key, folder) for id_, key, folder in rows}
        new: list[dict[str, Any]] = []
        claimed: dict[str, str] = {}
        for scan, ident in found:
            if ident.key in claimed:
                unmapped[scan.name] = (
                    f"{ident.origin} names series {ident.key}, like folder {claimed[ident.key]!r}"
                )
                continue
            claimed[ident.key] = scan.name
            ref = existing.get(ident.key)
            if ref is None:
                new.append(self._series_row(scan.name, ident))
            elif self.present is not None and ref.folder not in self.present:
                # the series' folder is gone from disk and this one names it: a rename
                await session.execute(
                    update(Series).where(Series.id == ref.id).values(folder=scan.name)
                )
                self.series.pop(ref.folder, None)
                self.series[scan.name] = SeriesRef(ref.id, ref.key, scan.name)
            else:
                unmapped[scan.name] = (
                    f"{ident.origin} names series {ident.key}, "
                    f"which already has folder {ref.folder!r}"
                )
        if new:
            await session.execute(insert_for(session, _SERIES).on_conflict_do_nothing(), new)
            rows = await session.execute(
                select(Series.id, Series.key, Series.folder).where(
                    Series.key.in_([r["key"] for r in new])
                )
            )
            for id_, key, folder in rows:
                if folder == claimed[key]:
                    self.series[folder] = SeriesRef(id_, key, folder)
                    self.stats.series_created += 1
            for row in new:
                if row["folder"] not in self.series:  # lost a race with another writer
                    unmapped[row["folder"]] = f"series {row['key']} could not be created"
            # the legacy episode dict is imported with the series, once
            created = {r["folder"] for r in new if r["folder"] in self.series}
            await self._legacy_episodes(session, [(s, i) for s, i in found if s.name in created])
        return unmapped

    def _series_row(self, folder: str, ident: FolderIdentity) -> dict[str, Any]:
        state: dict[str, Any] = {"imported_from": ident.origin}
        if ident.site:
            state["legacy_site"] = ident.site
        return {
            "key": ident.key,
            "folder": folder,
            "name": ident.name,
            "year": ident.year,
            "source_kind": "local",
            "monitored": True,
            "loading_status": "completed",
            "options": {},
            "source_state": state,
            "tmdb_id": ident.tmdb_id,
            "tmdb_match": "auto" if ident.tmdb_id else None,
            "created_at": self.now,
            "updated_at": self.now,
        }

    async def _legacy_episodes(
        self, session: AsyncSession, found: Sequence[tuple[FolderScan, FolderIdentity]]
    ) -> None:
        """A legacy data file's episode dict: episodes known at the (old) source."""
        rows = [
            self._episode_row(self.series[scan.name].id, s, e, at_source=True)
            for scan, ident in found
            if ident.episodes and scan.name in self.series
            for s, e in ident.episodes
        ]
        if rows:
            await session.execute(insert_for(session, _EPISODES).on_conflict_do_nothing(), rows)

    def _episode_row(
        self, series_id: int, season: int, episode: int, *, at_source: bool
    ) -> dict[str, Any]:
        return {
            "series_id": series_id,
            "season": season,
            "episode": episode,
            "candidates": [],
            "at_source": at_source,
            "monitored": True,
            "filtered": False,
            "is_downloaded": False,
            "file_path": None,
            "size": None,
            "created_at": self.now,
            "updated_at": self.now,
        }

    # ---------------------------------------------------------------- reconcile

    async def _episodes(
        self, session: AsyncSession, series_ids: Sequence[int]
    ) -> dict[int, list[KnownEpisode]]:
        out: dict[int, list[KnownEpisode]] = {}
        e = Episode
        for ids in _chunks(series_ids):
            rows = await session.execute(
                select(
                    e.series_id, e.id, e.season, e.episode, e.absolute_number, e.air_date,
                    e.file_path, e.is_downloaded, e.size, e.at_source, e.remote_id,
                ).where(e.series_id.in_(ids))
            )  # fmt: skip
            for sid, id_, season, number, absolute, aired, path, done, size, at_src, rid in rows:
                out.setdefault(sid, []).append(
                    KnownEpisode(
                        id_, season, number, absolute, aired, self._relative(path),
                        bool(done), size, not at_src and rid is None,
                    )
                )  # fmt: skip
        return out

    def _relative(self, path: str | None) -> str | None:
        if path and path.startswith(self.root_prefix):
            return path[len(self.root_prefix) :]
        return path

    def _reconcile(self, scan: FolderScan, ref: SeriesRef, index: EpisodeIndex, w: _Writes) -> None:
        # runs once per file of a 100k-file import: kept to plain loops and local names
        complete = scan.complete
        affected = set(scan.read) | set(scan.vanished)
        by_number = index.by_number
        claims: dict[EpisodeNumber, ScannedFile] = {}
        pending: set[str] = set()
        issues = list(scan.issues)
        matched = 0
        for f in sorted(scan.files, key=_PATH):
            season, episodes = f.season, f.episodes
            target: Sequence[EpisodeNumber] | str
            if season is not None and episodes:
                target = [(season, e) for e in episodes]
            elif not f.understood:
                issues.append(
                    Issue("unparsed", f.path, _dirname(f.path), "no episode number in the name")
                )
                continue
            else:
                target = resolve(f, index)
                if isinstance(target, str):
                    issues.append(Issue("unmatched", f.path, _dirname(f.path), target))
                    pending.add(_dirname(f.path))
                    continue
            taken: list[str] = []
            for number in target:
                other = claims.get(number)
                if other is None:
                    ep = by_number.get(number)
                    if (
                        ep is not None
                        and ep.is_downloaded
                        and ep.file_path
                        and ep.file_path != f.path
                        and not (complete or _dirname(ep.file_path) in affected)
                    ):
                        taken.append(f"{_label(number)} is {ep.file_path}")
                    else:
                        claims[number] = f
                else:
                    taken.append(f"{_label(number)} is {other.path}")
            if taken:
                issues.append(Issue("duplicate", f.path, _dirname(f.path), "; ".join(taken)))
                pending.add(_dirname(f.path))
            if len(taken) < len(target):
                matched += 1

        found = local = 0
        sid = ref.id
        for number, f in claims.items():
            ep = by_number.get(number)
            if ep is None:
                local += 1
            elif ep.is_downloaded and ep.file_path == f.path and ep.size == f.size:
                continue
            w.upserts.append(
                {"sid": sid, "s": number[0], "e": number[1], "path": f.path, "size": f.size}
            )
            found += 1
        gone = kept = 0
        for number, ep in by_number.items():
            if number in claims:
                continue
            if ep.file_path is None:
                # marked downloaded without a path: only a complete read can say it is not here
                lost = ep.is_downloaded and complete
            else:
                lost = complete or _dirname(ep.file_path) in affected
            if lost:
                (w.deleted if ep.removable else w.cleared).append(ep.id)
                gone += 1
            elif ep.is_downloaded:
                kept += 1
        stats = self.stats
        stats.files_matched += matched
        stats.episodes_found += found
        stats.local_added += local
        stats.episodes_gone += gone
        # downloaded episodes once this is written: a later scan compares it with the database
        self._record(scan, ref.id, pending, issues, w, linked=len(claims) + kept)

    def _record(
        self,
        scan: FolderScan,
        series_id: int | None,
        pending: set[str],
        issues: Iterable[Issue],
        w: _Writes,
        *,
        linked: int | None = None,
    ) -> None:
        for path, mtime in scan.dirs.items():
            row = {
                "path": path,
                "series_folder": scan.name,
                "series_id": series_id,
                "mtime_ns": -1 if path in pending else mtime,
                "linked": linked if path == scan.name else None,
                "scanned_at": self.now,
            }
            w.folders.append(row)
        if scan.complete:
            w.issue_series.append(scan.name)
        else:
            w.issue_folders.extend(scan.read)
            w.issue_folders.extend(scan.vanished)
            w.issue_folders.extend(scan.unreadable)
        w.issues.extend(self._issue_row(scan.name, issue) for issue in issues)

    def _unmapped(self, scan: FolderScan, reason: str | None, w: _Writes) -> None:
        # a folder whose identity files are wrong or contested is looked at again every scan
        retry = scan.identity is not None or scan.name not in scan.dirs
        mtime = -1 if retry else scan.dirs[scan.name]
        top = FolderScan(scan.name, dirs={scan.name: mtime}, read=[scan.name])
        issue = Issue(UNMAPPED, scan.name, scan.name, reason or NO_IDENTITY)
        self._record(top, None, set(), [*scan.issues, issue] if not scan.walked else [issue], w)

    def _issue_row(self, series_folder: str, issue: Issue) -> dict[str, Any]:
        return {
            "kind": issue.kind,
            "path": issue.path,
            "series_folder": series_folder,
            "folder": issue.folder,
            "detail": issue.detail,
            "found_at": self.now,
        }

    # ---------------------------------------------------------------- writes

    async def _flush(self, session: AsyncSession, w: _Writes) -> None:
        await self._write_episodes(session, w)
        for names in _chunks(w.replaced):
            await session.execute(
                delete(LibraryFolder).where(LibraryFolder.series_folder.in_(names))
            )
        if w.folders:
            await session.execute(_FOLDERS.insert(), w.folders)
        for names in _chunks(w.issue_series):
            await session.execute(delete(LibraryIssue).where(LibraryIssue.series_folder.in_(names)))
        for folders in _chunks(w.issue_folders):
            await session.execute(delete(LibraryIssue).where(LibraryIssue.folder.in_(folders)))
        if w.issues:
            await session.execute(_ISSUES.insert(), w.issues)

    async def _write_episodes(self, session: AsyncSession, w: _Writes) -> None:
        for ids in _chunks(w.deleted):
            await session.execute(delete(Episode).where(Episode.id.in_(ids)))
        for ids in _chunks(w.cleared):
            await session.execute(
                update(Episode)
                .where(Episode.id.in_(ids))
                .values(is_downloaded=False, file_path=None, size=None, updated_at=self.now)
            )
        if w.upserts:
            ins = insert_for(session, _EPISODES)
            stmt = ins.values(
                series_id=bindparam("sid"),
                season=bindparam("s"),
                episode=bindparam("e"),
                file_path=bindparam("path"),
                size=bindparam("size"),
                candidates=bindparam("c_candidates", [], type_=_EPISODES.c.candidates.type),
                at_source=bindparam("c_at_source", False, type_=Boolean()),
                monitored=bindparam("c_monitored", True, type_=Boolean()),
                filtered=bindparam("c_filtered", False, type_=Boolean()),
                is_downloaded=bindparam("c_downloaded", True, type_=Boolean()),
                created_at=bindparam("c_created", self.now, type_=UTCDateTime()),
                updated_at=bindparam("c_updated", self.now, type_=UTCDateTime()),
            ).on_conflict_do_update(
                index_elements=["series_id", "season", "episode"],
                set_={
                    "is_downloaded": ins.excluded.is_downloaded,
                    "file_path": ins.excluded.file_path,
                    "size": ins.excluded.size,
                    "updated_at": ins.excluded.updated_at,
                },
            )
            await executemany(session, stmt, w.upserts)

    async def forget(
        self, session: AsyncSession, vanished: dict[str, int | None], absent: Collection[int]
    ) -> None:
        """Series folders gone from disk, and series whose folder is not on disk.

        ``vanished``: recorded folder name -> the series it was; their files are gone.
        ``absent``: series whose folder is not on disk: all their files are gone.
        """
        by_series: dict[int, list[str]] = {}
        for name, sid in vanished.items():
            if sid is not None:
                by_series.setdefault(sid, []).append(name + "/")
        everything = set(absent)
        ids = sorted(everything | set(by_series))
        w = _Writes()
        for chunk in _chunks(ids):
            rows = await session.execute(
                select(
                    Episode.id, Episode.series_id, Episode.file_path, Episode.at_source,
                    Episode.remote_id,
                ).where(
                    Episode.series_id.in_(chunk),
                    (Episode.is_downloaded.is_(True)) | (Episode.file_path.is_not(None)),
                )
            )  # fmt: skip
            for id_, sid, path, at_source, remote_id in rows:
                rel = self._relative(path) or ""
                if sid in everything or rel.startswith(tuple(by_series.get(sid, ()))):
                    (w.cleared if at_source or remote_id else w.deleted).append(id_)
                    self.stats.episodes_gone += 1
        await self._write_episodes(session, w)
        names = list(vanished)
        for chunk in _chunks(names):
            await session.execute(
                delete(LibraryFolder).where(LibraryFolder.series_folder.in_(chunk))
            )
            await session.execute(delete(LibraryIssue).where(LibraryIssue.series_folder.in_(chunk)))

    async def replace_root_issues(self, session: AsyncSession, issues: Sequence[Issue]) -> None:
        """The issues of the library root itself (stray files, unreadable folders...)."""
        await session.execute(
            delete(LibraryIssue).where(LibraryIssue.series_folder == "", LibraryIssue.folder == "")
        )
        if issues:
            await session.execute(_ISSUES.insert(), [self._issue_row("", i) for i in issues])


def _label(number: EpisodeNumber) -> str:
    return f"S{number[0]:02d}E{number[1]:02d}"
