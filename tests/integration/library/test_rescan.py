"""Rescans: unchanged folders are not read again, targeted rescans, files that go away."""

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import update

from showkeeper.context import AppContext
from showkeeper.db.models import Episode
from showkeeper.library.results import ScanStats
from showkeeper.library.scanner import FolderScan, Issue
from showkeeper.library.service import library_issues, run_scan
from showkeeper.library.state import load_records, load_series_refs
from showkeeper.library.sync import Reconciler
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series, episodes, on_disk
from tests.unit.library.trees import age, make_tree

SEASONS = [Ep(s, e) for s in (1, 2) for e in (1, 2, 3)]


async def two_series(ctx: AppContext, library: Path) -> None:
    await add_series(ctx.db, "alpha", "Alpha", SEASONS)
    await add_series(ctx.db, "beta", "Beta", SEASONS)
    make_tree(
        library,
        [
            "Alpha/Season 01/Alpha S01E01.mkv",
            "Alpha/Season 02/Alpha S02E01.mkv",
            "Beta/Season 01/Beta S01E01.mkv",
            "Beta/Season 02/Beta S02E01.mkv",
            "Unknown/Unknown S01E01.mkv",
        ],
    )
    age(library)


async def test_unchanged_rescan_reads_no_folder(ctx: AppContext, library_dir: Path) -> None:
    await two_series(ctx, library_dir)
    first = await run_scan(ctx)
    assert first.stats.folders_read == 7  # 2 x 3 + the unmapped folder's top level
    before = await episodes(ctx.db)

    again = await run_scan(ctx)
    s = again.stats
    assert (s.folders_read, s.files_seen, s.series_read) == (0, 0, 0)
    assert (s.series_unchanged, s.folders_skipped, s.unmapped) == (3, 7, 1)
    assert await episodes(ctx.db) == before
    assert (await library_issues(ctx.db, library_dir, unmapped=True))[0] == 1

    # one new file: only its folder is read
    (library_dir / "Beta/Season 02/Beta S02E02.mkv").touch()
    changed = await run_scan(ctx)
    assert (changed.stats.folders_read, changed.stats.files_seen) == (1, 2)
    assert (await on_disk(ctx.db))[("beta", 2, 2)] == "Beta/Season 02/Beta S02E02.mkv"


async def test_targeted_rescan_touches_only_its_series(ctx: AppContext, library_dir: Path) -> None:
    await two_series(ctx, library_dir)
    await run_scan(ctx)
    (library_dir / "Alpha/Season 01/Alpha S01E02.mkv").touch()
    (library_dir / "Beta/Season 01/Beta S01E02.mkv").touch()
    (library_dir / "Unknown/tvshow.nfo").write_text(
        '<tvshow><uniqueid type="tvdb">9</uniqueid></tvshow>'
    )

    result = await run_scan(ctx, series_key="alpha")
    s = result.stats
    assert (s.series_total, s.folders_read, s.files_seen) == (1, 3, 3)  # every folder of alpha
    found = await on_disk(ctx.db)
    assert ("alpha", 1, 2) in found and ("beta", 1, 2) not in found
    assert (await library_issues(ctx.db, library_dir, unmapped=True))[0] == 1  # untouched

    await run_scan(ctx)
    found = await on_disk(ctx.db)
    assert ("beta", 1, 2) in found and ("tvdb-9", 1, 1) in found


async def test_files_gone_are_missing_again(ctx: AppContext, library_dir: Path) -> None:
    await two_series(ctx, library_dir)
    make_tree(library_dir, ["Alpha/Season 01/Alpha S01E09.mkv"])  # local only
    age(library_dir)
    await run_scan(ctx)
    assert (await episodes(ctx.db))[("alpha", 1, 9)]["at_source"] is False

    (library_dir / "Alpha/Season 01/Alpha S01E01.mkv").unlink()
    (library_dir / "Alpha/Season 01/Alpha S01E09.mkv").unlink()
    shutil.rmtree(library_dir / "Beta/Season 02")
    result = await run_scan(ctx)
    assert result.stats.episodes_gone == 3
    eps = await episodes(ctx.db)
    assert eps[("alpha", 1, 1)] | {"id": 0} == {
        "id": 0,
        "downloaded": False,
        "path": None,
        "size": None,
        "at_source": True,
    }
    assert ("alpha", 1, 9) not in eps  # a local-only episode goes with its file
    assert not eps[("beta", 2, 1)]["downloaded"]
    missing = {(m.series_key, m.season, m.episode) for m in await missing_episodes(ctx.db)}
    assert {("alpha", 1, 1), ("beta", 2, 1)} <= missing

    # a whole series folder removed
    shutil.rmtree(library_dir / "Beta")
    await run_scan(ctx)
    assert [k for k in await on_disk(ctx.db) if k[0] == "beta"] == []
    assert set(await on_disk(ctx.db)) == {("alpha", 2, 1)}


async def test_a_database_change_behind_the_scanners_back_is_repaired(
    ctx: AppContext, library_dir: Path
) -> None:
    await two_series(ctx, library_dir)
    await run_scan(ctx)
    async with ctx.db.write() as s:
        await s.execute(
            update(Episode).values(is_downloaded=False, file_path=None, size=None)
        )  # e.g. episodes re-created by a source
    result = await run_scan(ctx)
    assert result.stats.series_read == 2 and result.stats.episodes_found == 4
    assert len(await on_disk(ctx.db)) == 4


async def test_unmatched_files_are_matched_once_the_source_knows_them(
    ctx: AppContext, library_dir: Path
) -> None:
    await add_series(ctx.db, "news", "News", [Ep(2024, 1, date(2024, 5, 1))])
    make_tree(library_dir, ["News/News 2024-05-01.mp3", "News/News 2024-05-08.mp3"])
    age(library_dir)
    await run_scan(ctx)
    assert list(await on_disk(ctx.db)) == [("news", 2024, 1)]
    async with ctx.db.write() as s:  # a source refresh adds the next episode
        s.add(Episode(series_id=1, season=2024, episode=2, air_date=date(2024, 5, 8)))
    result = await run_scan(ctx)
    assert result.stats.folders_read == 1  # the folder had an unmatched file: read again
    assert (await on_disk(ctx.db))[("news", 2024, 2)] == "News/News 2024-05-08.mp3"
    assert (await library_issues(ctx.db, library_dir, unmapped=False))[0] == 0


async def test_targeted_rescan_of_a_series_whose_folder_is_gone(
    ctx: AppContext, library_dir: Path
) -> None:
    await two_series(ctx, library_dir)
    await run_scan(ctx)
    shutil.rmtree(library_dir / "Alpha")
    result = await run_scan(ctx, series_key="alpha")
    assert result.folder_missing and result.stats.episodes_gone == 2
    assert {k[0] for k in await on_disk(ctx.db)} == {"beta"}


async def test_files_behind_an_unreadable_folder_are_kept(
    ctx: AppContext, library_dir: Path
) -> None:
    """What the scanner reports when a season folder cannot be listed (tests/unit/library/
    test_scanner.py reads a real unreadable folder as an unprivileged user): its files are
    unknown, so they stay downloaded, and the folder is read again next time."""
    await two_series(ctx, library_dir)
    await run_scan(ctx)
    async with ctx.db.session() as s:
        series = await load_series_refs(s)
        records = (await load_records(s, ["Alpha"]))["Alpha"].dirs
    scan = FolderScan(
        "Alpha",
        dirs={"Alpha": records["Alpha"], "Alpha/Season 01": -1, "Alpha/Season 02": -1},
        read=["Alpha", "Alpha/Season 02"],
        unreadable=["Alpha/Season 01"],
        files=[],  # Season 02's file went away meanwhile
        issues=[Issue("unreadable", "Alpha/Season 01", "Alpha/Season 01", "Permission denied")],
        complete=False,
    )
    stats = ScanStats()
    async with ctx.db.write() as s:
        rec = Reconciler(series, root=str(library_dir), stats=stats, now=datetime.now(UTC))
        await rec.apply(s, [scan])
    assert stats.episodes_gone == 1
    assert {k for k in await on_disk(ctx.db) if k[0] == "alpha"} == {("alpha", 1, 1)}
    _, problems = await library_issues(ctx.db, library_dir, unmapped=False)
    assert [(p["kind"], p["relative_path"]) for p in problems] == [
        ("unreadable", "Alpha/Season 01")
    ]
    async with ctx.db.session() as s:
        assert (await load_records(s, ["Alpha"]))["Alpha"].dirs["Alpha/Season 01"] == -1
