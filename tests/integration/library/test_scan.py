"""A foreign library with mixed naming, scanned into a real SQLite database."""

from datetime import date
from pathlib import Path

import pytest

from showkeeper.context import AppContext
from showkeeper.db.models import SystemSetting
from showkeeper.library.lock import LOCK_KEY, ScanLease, ScanRunningError
from showkeeper.library.service import (
    LibraryUnavailableError,
    library_issues,
    run_scan,
)
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series, episodes, on_disk, series_rows
from tests.unit.library.trees import make_tree

FOREIGN = [
    "Dark (2017)/Season 1/Dark - S01E01 - Secrets.mkv",
    "Dark (2017)/Season 1/02 - Lies.mkv",
    "Dark (2017)/Season 1/Dark S01E04.mkv",
    "Dark (2017)/Season 1/Making of.mkv",
    "Dark (2017)/S02/Dark.S02E01.1080p.WEB-DL.x264-GRP.mkv",
    "Dark (2017)/Specials/Dark - 01.mkv",
    "Dark (2017)/Season 1/Dark - S01E01 - Secrets.srt",
    "Daily News/Daily.News.2024.05.02.mkv",
    "Daily News/Daily.News.2024.06.01.mkv",
    "Anime/[Grp] Anime - 13 [1080p].mkv",
    "Anime/Season 1/Anime - 05.mkv",
    "Anime/Season 1/Anime S01E01E02.mkv",
    "Legacy Show (2019)/Season 01/Legacy Show S01E01.mp4",
    "NFO Show/NFO Show 1x01.avi",
    "Mystery Folder/Mystery S01E01.mkv",
    "stray S01E01.mkv",
]


async def seed_foreign(ctx: AppContext, library: Path) -> None:
    make_tree(library, FOREIGN, size=7)
    (library / "Legacy Show (2019)/key").write_text("legacy-show\n")
    (library / "Legacy Show (2019)/data").write_text(
        '{"key": "legacy-show", "name": "Legacy Show", "site": "https://old.example",'
        ' "folder": "Legacy Show (2019)", "episodeDict": {"1": [1, 2, 3]}}'
    )
    (library / "NFO Show/tvshow.nfo").write_text(
        '<tvshow><title>NFO Show</title><uniqueid type="tvdb" default="true">123</uniqueid>'
        "<year>2020</year></tvshow>"
    )
    await add_series(
        ctx.db, "dark", "Dark (2017)", [Ep(1, 1), Ep(1, 2), Ep(1, 3), Ep(2, 1), Ep(2, 2)]
    )
    await add_series(
        ctx.db,
        "news",
        "Daily News",
        [Ep(2024, 1, date(2024, 5, 1)), Ep(2024, 2, date(2024, 5, 2))],
    )
    await add_series(
        ctx.db,
        "anime",
        "Anime",
        [Ep(1, n, absolute=n) for n in range(1, 13)] + [Ep(2, 1, absolute=13)],
    )


async def test_foreign_library_maps_every_parseable_file(
    ctx: AppContext, library_dir: Path
) -> None:
    await seed_foreign(ctx, library_dir)
    result = await run_scan(ctx)

    assert await on_disk(ctx.db) == {
        ("dark", 1, 1): "Dark (2017)/Season 1/Dark - S01E01 - Secrets.mkv",
        ("dark", 1, 2): "Dark (2017)/Season 1/02 - Lies.mkv",
        ("dark", 1, 4): "Dark (2017)/Season 1/Dark S01E04.mkv",
        ("dark", 2, 1): "Dark (2017)/S02/Dark.S02E01.1080p.WEB-DL.x264-GRP.mkv",
        ("dark", 0, 1): "Dark (2017)/Specials/Dark - 01.mkv",
        ("news", 2024, 2): "Daily News/Daily.News.2024.05.02.mkv",
        ("anime", 2, 1): "Anime/[Grp] Anime - 13 [1080p].mkv",
        ("anime", 1, 5): "Anime/Season 1/Anime - 05.mkv",
        ("anime", 1, 1): "Anime/Season 1/Anime S01E01E02.mkv",
        ("anime", 1, 2): "Anime/Season 1/Anime S01E01E02.mkv",
        ("legacy-show", 1, 1): "Legacy Show (2019)/Season 01/Legacy Show S01E01.mp4",
        ("tvdb-123", 1, 1): "NFO Show/NFO Show 1x01.avi",
    }
    eps = await episodes(ctx.db)
    assert eps[("dark", 1, 1)]["size"] == 7
    # files the source does not list are kept as local-only episodes
    assert not eps[("dark", 1, 4)]["at_source"] and not eps[("dark", 0, 1)]["at_source"]
    assert eps[("dark", 1, 1)]["at_source"]
    # the legacy data file's episodes are known; the ones not on disk are missing
    assert eps[("legacy-show", 1, 2)]["at_source"] and not eps[("legacy-show", 1, 2)]["downloaded"]

    series = await series_rows(ctx.db)
    legacy, nfo = series["legacy-show"], series["tvdb-123"]
    assert (legacy.folder, legacy.name, legacy.year, legacy.source_kind) == (
        "Legacy Show (2019)",
        "Legacy Show",
        2019,
        "local",
    )
    assert legacy.source_state == {"imported_from": "key", "legacy_site": "https://old.example"}
    assert (nfo.folder, nfo.name, nfo.year) == ("NFO Show", "NFO Show", 2020)
    assert (library_dir / "Legacy Show (2019)/key").exists()  # left in place

    total, unmapped = await library_issues(ctx.db, library_dir, unmapped=True)
    assert total == 1
    assert unmapped[0]["name"] == "Mystery Folder"
    assert unmapped[0]["path"] == str(library_dir / "Mystery Folder")
    _, problems = await library_issues(ctx.db, library_dir, unmapped=False)
    assert {(p["kind"], p["relative_path"]) for p in problems} == {
        ("unparsed", "Dark (2017)/Season 1/Making of.mkv"),
        ("unmatched", "Daily News/Daily.News.2024.06.01.mkv"),
        ("stray", "stray S01E01.mkv"),
    }
    stats = result.stats
    assert (stats.series_total, stats.series_created, stats.unmapped, stats.unparsed) == (
        6,
        2,
        1,
        2,
    )
    # Mystery Folder is not read (unmapped), the .srt is no media file, stray is outside
    assert stats.files_seen == 13 and stats.files_matched == 11
    assert stats.local_added == 3  # dark S01E04 and S00E01, tvdb-123 S01E01
    missing = {(m.series_key, m.season, m.episode) for m in await missing_episodes(ctx.db)}
    assert missing == {
        ("dark", 1, 3),
        ("dark", 2, 2),
        ("news", 2024, 1),
        ("legacy-show", 1, 2),
        ("legacy-show", 1, 3),
    } | {("anime", 1, n) for n in range(3, 13) if n != 5}


async def test_second_scan_finds_the_same(ctx: AppContext, library_dir: Path) -> None:
    await seed_foreign(ctx, library_dir)
    await run_scan(ctx)
    before = await episodes(ctx.db)
    again = await run_scan(ctx, force=True)
    assert await episodes(ctx.db) == before
    assert again.stats.series_created == 0 and again.stats.episodes_found == 0
    assert again.stats.episodes_gone == 0 and again.stats.unmapped == 1


async def test_unmapped_folder_is_read_once_a_series_claims_it(
    ctx: AppContext, library_dir: Path
) -> None:
    make_tree(library_dir, ["Mystery/Season 01/Mystery S01E01.mkv"])
    first = await run_scan(ctx)
    assert first.stats.unmapped == 1 and await on_disk(ctx.db) == {}
    await add_series(ctx.db, "mystery", "Mystery", [Ep(1, 1)])
    second = await run_scan(ctx)
    assert await on_disk(ctx.db) == {("mystery", 1, 1): "Mystery/Season 01/Mystery S01E01.mkv"}
    assert second.stats.unmapped == 0


async def test_nfo_finds_a_renamed_folder_and_reports_a_contested_key(
    ctx: AppContext, library_dir: Path
) -> None:
    await add_series(ctx.db, "tvdb-42", "Old Name", [Ep(1, 1)])
    make_tree(library_dir, ["New Name/New Name S01E01.mkv", "Copy/Copy S01E01.mkv"])
    nfo = '<tvshow><uniqueid type="tvdb">42</uniqueid></tvshow>'
    (library_dir / "New Name/tvshow.nfo").write_text(nfo)
    await run_scan(ctx)
    assert (await series_rows(ctx.db))["tvdb-42"].folder == "New Name"
    assert await on_disk(ctx.db) == {("tvdb-42", 1, 1): "New Name/New Name S01E01.mkv"}

    (library_dir / "Copy/tvshow.nfo").write_text(nfo)
    await run_scan(ctx)
    _, unmapped = await library_issues(ctx.db, library_dir, unmapped=True)
    assert [(u["name"], u["detail"]) for u in unmapped] == [
        ("Copy", "tvshow.nfo names series tvdb-42, which already has folder 'New Name'")
    ]


async def test_duplicate_files_keep_the_first_and_report_the_rest(
    ctx: AppContext, library_dir: Path
) -> None:
    await add_series(ctx.db, "show", "Show", [Ep(1, 1), Ep(1, 2)])
    make_tree(library_dir, ["Show/Show S01E01.mkv", "Show/Show S01E01 (copy).mkv"])
    await run_scan(ctx)
    assert await on_disk(ctx.db) == {("show", 1, 1): "Show/Show S01E01 (copy).mkv"}
    _, problems = await library_issues(ctx.db, library_dir, unmapped=False)
    assert [(p["kind"], p["relative_path"], p["detail"]) for p in problems] == [
        ("duplicate", "Show/Show S01E01.mkv", "S01E01 is Show/Show S01E01 (copy).mkv")
    ]
    # the folder holding a duplicate is read on every scan: when the first copy goes, the
    # other takes over
    (library_dir / "Show/Show S01E01 (copy).mkv").unlink()
    await run_scan(ctx)
    assert await on_disk(ctx.db) == {("show", 1, 1): "Show/Show S01E01.mkv"}
    assert (await library_issues(ctx.db, library_dir, unmapped=False))[0] == 0


async def test_missing_or_unreadable_library_is_a_clear_error(
    ctx: AppContext, library_dir: Path, tmp_path: Path
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"library_dir": tmp_path / "gone"})
    with pytest.raises(LibraryUnavailableError, match="does not exist"):
        await run_scan(ctx)
    ctx.settings = ctx.settings.model_copy(update={"library_dir": None})
    with pytest.raises(LibraryUnavailableError, match="library_dir is not set"):
        await run_scan(ctx)
    ctx.settings = ctx.settings.model_copy(update={"library_dir": library_dir})
    assert (await run_scan(ctx)).stats.series_total == 0  # no lock was left behind


async def test_an_emptied_library_changes_nothing(ctx: AppContext, library_dir: Path) -> None:
    """An unmounted drive leaves an empty mount point: that must not mark everything missing."""
    await add_series(ctx.db, "show", "Show", [Ep(1, 1)])
    make_tree(library_dir, ["Show/Show S01E01.mkv"])
    await run_scan(ctx)
    (library_dir / "Show/Show S01E01.mkv").rename(library_dir.parent / "moved.mkv")
    (library_dir / "Show").rmdir()
    with pytest.raises(LibraryUnavailableError, match="is the drive mounted"):
        await run_scan(ctx)
    with pytest.raises(LibraryUnavailableError, match="is the drive mounted"):
        await run_scan(ctx, series_key="show")
    assert await on_disk(ctx.db) == {("show", 1, 1): "Show/Show S01E01.mkv"}


async def test_only_one_scan_at_a_time(ctx: AppContext) -> None:
    lease = await ScanLease.acquire(ctx.db, "someone-else", series_key=None)
    with pytest.raises(ScanRunningError, match="a scan is already running") as err:
        await run_scan(ctx)
    assert err.value.status_code == 409
    await lease.release()
    assert (await run_scan(ctx)).stats.series_total == 0
    # a lock left by a process that died expires
    async with ctx.db.write() as s:
        await s.merge(
            SystemSetting(
                key=LOCK_KEY,
                value={
                    "owner": "dead",
                    "started_at": "x",
                    "expires_at": "2000-01-01T00:00:00+00:00",
                },
            )
        )
    assert (await run_scan(ctx)).stats.series_total == 0
