"""Writing NFOs into a real library: ownership rules, repair, containment, scan round trip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select, update

from showkeeper.config import Settings, load_settings
from showkeeper.context import AppContext, open_context
from showkeeper.db.models import Episode, Series
from showkeeper.errors import NotFoundError
from showkeeper.library.service import library_issues, run_scan
from showkeeper.metadata.nfo import is_ours, read_nfo
from showkeeper.metadata.service import repair_nfos, write_series_nfos

from .seed import seed_series

SONARR_NFO = (
    b'<?xml version="1.0"?><tvshow><title>Mine</title><uniqueid type="tvdb">1</uniqueid></tvshow>'
)


def _nfos(root: Path) -> list[str]:
    return sorted(
        os.path.relpath(os.path.join(d, f), root)
        for d, _, files in os.walk(root)
        for f in files
        if f.endswith(".nfo")
    )


async def test_writes_tvshow_and_episode_nfos(ctx: AppContext, library_dir: Path) -> None:
    await seed_series(ctx.db, library_dir)
    result = await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    assert (result.written, result.skipped, result.errors) == (3, 0, 0)
    assert _nfos(library_dir) == [
        "Dark (2017)/Season 01/Dark - S01E01.nfo",
        "Dark (2017)/Season 01/Dark - S01E02.nfo",
        "Dark (2017)/tvshow.nfo",
    ]
    show = read_nfo(library_dir / "Dark (2017)/tvshow.nfo")
    assert show["uniqueids"] == {"showkeeper": "example-com-dark"}
    assert show["aired"] == "2017-12-01"  # premiered = first air date
    ep = read_nfo(library_dir / "Dark (2017)/Season 01/Dark - S01E02.nfo")
    assert (ep["title"], ep["season"], ep["episode"]) == ("Part 2", 1, 2)
    again = await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    assert (again.written, again.skipped) == (0, 3)  # unchanged content is not rewritten


async def test_foreign_nfo_kept_unless_overwrite(ctx: AppContext, library_dir: Path) -> None:
    await seed_series(ctx.db, library_dir)
    theirs = library_dir / "Dark (2017)/tvshow.nfo"
    theirs.write_bytes(SONARR_NFO)
    result = await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    assert (result.written, result.skipped) == (2, 1)
    assert theirs.read_bytes() == SONARR_NFO
    forced = await write_series_nfos(ctx.db, library_dir, "example-com-dark", overwrite=True)
    assert forced.written == 1 and is_ours(theirs.read_bytes())


async def test_ours_refreshed_when_series_changes(ctx: AppContext, library_dir: Path) -> None:
    await seed_series(ctx.db, library_dir)
    await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    async with ctx.db.write() as s:
        await s.execute(update(Series).values(name="Dark (Netflix)"))
    result = await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    assert result.written == 3  # showtitle is in every episode NFO too
    assert read_nfo(library_dir / "Dark (2017)/tvshow.nfo")["title"] == "Dark (Netflix)"


async def test_unknown_series_is_not_found(ctx: AppContext, library_dir: Path) -> None:
    with pytest.raises(NotFoundError, match="'nope' not found"):
        await write_series_nfos(ctx.db, library_dir, "nope")


async def test_repair_creates_missing_and_fixes_broken_ours(
    ctx: AppContext, library_dir: Path
) -> None:
    eps = await seed_series(ctx.db, library_dir)
    await seed_series(
        ctx.db, library_dir, key="other", folder="Other", name="Other", episodes=((2, 5),)
    )
    await write_series_nfos(ctx.db, library_dir, "example-com-dark")
    show = library_dir / "Dark (2017)/tvshow.nfo"
    show.write_bytes(show.read_bytes()[:-25])  # ours, cut short
    ep1 = library_dir / eps[(1, 1)][1].replace(".mp4", ".nfo")
    ep1.write_bytes(b"<episodedetails><title>broken by hand</title>")  # theirs, broken
    ep2 = library_dir / eps[(1, 2)][1].replace(".mp4", ".nfo")
    stale = ep2.read_bytes().replace(b"Part 2", b"Old title")  # ours, valid, stale
    ep2.write_bytes(stale)
    result = await repair_nfos(ctx.db, library_dir)
    assert (result.written, result.skipped, result.errors) == (3, 2, 0)  # 2 for Other + ours
    assert read_nfo(show)["title"] == "Dark"
    assert ep1.read_bytes() == b"<episodedetails><title>broken by hand</title>"
    assert ep2.read_bytes() == stale
    assert (library_dir / "Other/Season 02/Other - S02E05.nfo").is_file()


async def test_no_nfo_outside_the_library(
    ctx: AppContext, library_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (library_dir / "Linked").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "Season 01").mkdir()
    (elsewhere / "Season 01/Linked - S01E01.mp4").write_bytes(b"x")
    await seed_series(ctx.db, library_dir, key="linked", folder="Linked", on_disk=False)
    await seed_series(ctx.db, library_dir, key="up", folder="../up", name="Up", on_disk=False)
    (tmp_path / "up").mkdir()
    eps = await seed_series(ctx.db, library_dir, key="ok", folder="Ok", name="Ok")
    async with ctx.db.write() as s:
        await s.execute(
            update(Episode).where(Episode.id == eps[(1, 1)][0]).values(file_path="../../x.mp4")
        )
    (tmp_path / "x.mp4").write_bytes(b"x")
    before = _nfos(tmp_path)
    result = await repair_nfos(ctx.db, library_dir)
    assert result.errors >= 3 and result.messages
    assert _nfos(elsewhere) == [] and not (tmp_path / "up/tvshow.nfo").exists()
    assert [p for p in _nfos(tmp_path) if p not in before] == [
        "library/Ok/Season 01/Ok - S01E02.nfo",
        "library/Ok/tvshow.nfo",
    ]


def _fresh_settings(tmp_path: Path, library_dir: Path) -> Settings:
    data = tmp_path / "fresh-data"
    data.mkdir()
    return load_settings(
        env_file=None,
        data_dir=data,
        library_dir=library_dir,
        allowed_private_networks="127.0.0.0/8",
        scheduler_enabled=False,
        download_workers_in_server=False,
    )


async def test_scan_of_fresh_database_maps_folder_by_our_nfo(
    ctx: AppContext, library_dir: Path, tmp_path: Path
) -> None:
    # A folder name unrelated to the key: only the NFO can tell which series it is.
    await seed_series(
        ctx.db, library_dir, key="example-com-feeds-dark", folder="Dark (2017)", name="Dark"
    )
    await write_series_nfos(ctx.db, library_dir, "example-com-feeds-dark")
    async with open_context(_fresh_settings(tmp_path, library_dir)) as fresh:
        await run_scan(fresh)
        async with fresh.db.session() as s:
            series = (await s.scalars(select(Series))).all()
            downloaded = (
                await s.scalars(select(Episode.episode).where(Episode.is_downloaded.is_(True)))
            ).all()
        unparsed, _ = await library_issues(fresh.db, library_dir, unmapped=False)
    assert [(x.key, x.folder, x.name, x.year) for x in series] == [
        ("example-com-feeds-dark", "Dark (2017)", "Dark", 2017)
    ]
    assert sorted(downloaded) == [1, 2]
    assert unparsed == 0  # the NFO files beside the videos are not reported
