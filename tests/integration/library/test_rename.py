"""Renaming what is on disk: real files in a temporary library, checked on disk and in the DB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from showkeeper.db.models import LibraryFolder, RenameBatch
from tests.integration.library.manage_support import (
    downloaded_series,
    folder_of,
    paths_of,
    set_episode,
    tree,
)

NEW = "Show/Season 01/Show - S01E0{n} - Episode {n}"
OLD = "Show/Season 01/Show - S01E0{n}"


def names(template: str, ns: range, suffixes: tuple[str, ...]) -> list[str]:
    return sorted(template.format(n=n) + sfx for n in ns for sfx in suffixes)


ALL = (".mkv", ".nfo", "-thumb.jpg")


async def test_rename_lists_moves_applies_and_undoes(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    await downloaded_series(db, library_dir, "show", "Show", 3)
    (library_dir / "Show" / "Season 01" / "Show - S01E01.en.srt").write_text("1")
    (library_dir / "Show" / "tvshow.nfo").write_text("<tvshow/>")

    plan = (await api.get("/api/series/show/rename")).json()
    assert plan["conflicts"] == [] and plan["last_rename"] is None
    moves = {(m["old"], m["new"], m["kind"]) for m in plan["moves"]}
    assert (OLD.format(n=1) + ".mkv", NEW.format(n=1) + ".mkv", "video") in moves
    assert (OLD.format(n=1) + "-thumb.jpg", NEW.format(n=1) + "-thumb.jpg", "companion") in moves
    assert (OLD.format(n=1) + ".en.srt", NEW.format(n=1) + ".en.srt", "companion") in moves
    assert len(moves) == 10
    assert tree(library_dir) == sorted(
        [*names(OLD, range(1, 4), ALL), OLD.format(n=1) + ".en.srt", "Show/tvshow.nfo"]
    )  # a listing moves nothing

    done = await api.post("/api/series/show/rename")
    assert done.status_code == 200, done.text
    batch_id = done.json()["batch_id"]
    assert done.json()["moved"] == 10
    assert tree(library_dir) == sorted(
        [*names(NEW, range(1, 4), ALL), NEW.format(n=1) + ".en.srt", "Show/tvshow.nfo"]
    )
    assert await paths_of(db, "show") == {n: NEW.format(n=n) + ".mkv" for n in (1, 2, 3)}
    assert (await api.get("/api/series/show/rename")).json()["moves"] == []  # nothing left to do

    undo = await api.post(f"/api/rename/{batch_id}/undo")
    assert undo.status_code == 200, undo.text
    assert tree(library_dir) == sorted(
        [*names(OLD, range(1, 4), ALL), OLD.format(n=1) + ".en.srt", "Show/tvshow.nfo"]
    )
    assert await paths_of(db, "show") == {n: OLD.format(n=n) + ".mkv" for n in (1, 2, 3)}
    again = await api.post(f"/api/rename/{batch_id}/undo")
    assert again.status_code == 409 and "it is undone" in again.json()["detail"]
    assert (await api.post("/api/rename/999/undo")).status_code == 404


async def test_undo_only_until_the_next_rename(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    await downloaded_series(db, library_dir, "show", "Show", 2, companions=False)
    first = (await api.post("/api/series/show/rename")).json()["batch_id"]
    await api.put("/api/series/show/naming", json={"episode": "{series} {episode:03d}"})
    second = (await api.post("/api/series/show/rename")).json()
    assert second["moved"] == 2
    refused = await api.post(f"/api/rename/{first}/undo")
    assert refused.status_code == 409 and "renamed since" in refused.json()["detail"]
    assert (await api.post(f"/api/rename/{second['batch_id']}/undo")).status_code == 200
    assert tree(library_dir) == names(NEW, range(1, 3), (".mkv",))


async def test_a_new_folder_template_moves_the_folder(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    await downloaded_series(db, library_dir, "show", "Show", 2)
    (library_dir / "Show" / "poster.jpg").write_bytes(b"p")
    async with db.write() as s:
        s.add(LibraryFolder(path="Show", series_folder="Show", mtime_ns=1))
    await api.put(
        "/api/naming",
        json={"series_folder": "{series} ({year}) [{source_id}]", "season_folder": "S{season:02d}"},
    )
    plan = (await api.get("/api/series/show/rename")).json()
    assert plan["folder"] == {"old": "Show", "new": "Show [show]"}
    done = await api.post("/api/series/show/rename")
    assert done.status_code == 200, done.text
    expected = sorted(
        ["Show [show]/poster.jpg"]
        + [f"Show [show]/S01/Show - S01E0{n} - Episode {n}{sfx}" for n in (1, 2) for sfx in ALL]
    )
    assert tree(library_dir) == expected
    assert await folder_of(db, "show") == "Show [show]"
    async with db.session() as s:  # the scanner reads the series again
        assert list(await s.scalars(select(LibraryFolder.path))) == []
    # only the folder template changes now: the files move with their folder, and the
    # episodes follow them in the database
    await api.put("/api/naming", json={"series_folder": "{series} - {source_id}"})
    moved = await api.post("/api/series/show/rename")
    assert moved.json()["moved"] == 1, moved.text  # one step: the folder
    assert {m["kind"] for m in moved.json()["moves"]} == {"folder", "video", "companion"}
    assert await paths_of(db, "show") == {
        n: f"Show - show/S01/Show - S01E0{n} - Episode {n}.mkv" for n in (1, 2)
    }
    await api.post(f"/api/rename/{moved.json()['batch_id']}/undo")
    assert await paths_of(db, "show") == {
        n: f"Show [show]/S01/Show - S01E0{n} - Episode {n}.mkv" for n in (1, 2)
    }
    await api.put("/api/naming", json={"series_folder": "{series} ({year}) [{source_id}]"})
    refused = await api.post(f"/api/rename/{done.json()['batch_id']}/undo")
    assert refused.status_code == 409  # a later rename of the series replaced it
    await api.put(
        "/api/naming", json={"series_folder": "{series}", "season_folder": "Season {season:02d}"}
    )
    back = await api.post("/api/series/show/rename")
    assert back.status_code == 200, back.text
    assert tree(library_dir)[0] == "Show/Season 01/Show - S01E01 - Episode 1-thumb.jpg"
    assert "Show/poster.jpg" in tree(library_dir)
    assert await folder_of(db, "show") == "Show"


async def test_conflicts_are_refused_and_nothing_moves(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    db = app.state.ctx.db
    disk = await downloaded_series(db, library_dir, "show", "Show", 3)
    before = tree(library_dir)
    # a rename onto an existing file
    taken = library_dir / (NEW.format(n=2) + ".mkv")
    taken.write_bytes(b"someone else's")
    resp = await api.post("/api/series/show/rename")
    assert resp.status_code == 409
    assert f"{NEW.format(n=2)}.mkv already exists" in resp.json()["detail"]
    assert tree(library_dir) == sorted([*before, NEW.format(n=2) + ".mkv"])
    taken.unlink()

    # two episodes that render to the same name
    await api.put("/api/series/show/naming", json={"episode": "{series} {air_year} {episode:d}"})
    await set_episode(db, disk.episode_ids[1], episode=1, season=2)
    await api.put(
        "/api/series/show/naming",
        json={"episode": "{series} {air_year} E{episode:d}", "season_folder": ""},
    )
    resp = await api.post("/api/series/show/rename")
    assert resp.status_code == 409
    assert "would both be named Show/Show 2020 E1.mkv" in resp.json()["detail"]
    assert tree(library_dir) == before
    await set_episode(db, disk.episode_ids[1], episode=2, season=1)

    # a file that vanished between listing and applying
    listed = (await api.get("/api/series/show/rename")).json()
    assert listed["conflicts"] == []
    (library_dir / disk.files[2]).unlink()
    resp = await api.post("/api/series/show/rename")
    assert resp.status_code == 409
    assert f"{disk.files[2]} (S01E03) is not on disk any more" in resp.json()["detail"]
    assert tree(library_dir) == [p for p in before if p != disk.files[2]]
    async with db.session() as s:
        assert list(await s.scalars(select(RenameBatch))) == []  # nothing journaled


async def test_a_move_that_fails_midway_is_put_back(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    """A target folder that cannot be created stops the rename; the moves done go back."""
    db = app.state.ctx.db
    await downloaded_series(db, library_dir, "show", "Show", 4, companions=False)
    await set_episode(
        db, (await _ids(db))[3], season=2, file_path="Show/Season 01/Show - S01E04.mkv"
    )
    before = tree(library_dir)
    (library_dir / "Show" / "Season 02").write_text("a file where a folder must go")
    resp = await api.post("/api/series/show/rename")
    assert resp.status_code == 409, resp.text
    assert "stopped and was put back" in resp.json()["detail"]
    assert tree(library_dir) == sorted([*before, "Show/Season 02"])
    assert await paths_of(db, "show") == {
        1: "Show/Season 01/Show - S01E01.mkv",
        2: "Show/Season 01/Show - S01E02.mkv",
        3: "Show/Season 01/Show - S01E03.mkv",
        4: "Show/Season 01/Show - S01E04.mkv",
    }
    async with db.session() as s:
        assert [b.status for b in await s.scalars(select(RenameBatch))] == ["failed"]


async def _ids(db: Any) -> list[int]:
    from showkeeper.db.models import Episode

    async with db.session() as s:
        return list(await s.scalars(select(Episode.id).order_by(Episode.episode)))


def test_cli_dry_run_and_rename(settings: Any, library_dir: Path, data_dir: Path) -> None:
    import asyncio

    from showkeeper.cli import app as cli
    from showkeeper.context import open_context

    async def seed() -> None:
        async with open_context(settings) as ctx:
            await downloaded_series(ctx.db, library_dir, "show", "Show", 2, companions=False)

    asyncio.run(seed())
    env = {"SHOWKEEPER_DATA_DIR": str(data_dir), "SHOWKEEPER_LIBRARY_DIR": str(library_dir)}
    runner = CliRunner()
    dry = runner.invoke(cli, ["rename", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Show - S01E01.mkv" in dry.output and "would move 2 files" in dry.output
    assert tree(library_dir) == names(OLD, range(1, 3), (".mkv",))
    done = runner.invoke(cli, ["rename", "--series", "show"], env=env)
    assert done.exit_code == 0, done.output
    assert "moved 2 files" in done.output and "/undo" in done.output
    assert tree(library_dir) == names(NEW, range(1, 3), (".mkv",))
    missing = runner.invoke(cli, ["rename", "--series", "nope"], env=env)
    assert missing.exit_code == 2 and "no series 'nope'" in missing.output


async def test_a_series_with_no_folder_on_disk_just_takes_the_new_name(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    from tests.integration.library.helpers import Ep, add_series

    db = app.state.ctx.db
    await add_series(db, "fresh", "Fresh", [Ep(1, 1)])
    await api.put("/api/series/fresh/naming", json={"series_folder": "{series} [{source_id}]"})
    plan = (await api.get("/api/series/fresh/rename")).json()
    assert plan["folder"] == {"old": "Fresh", "new": "Fresh [fresh]"} and plan["moves"] == []
    done = await api.post("/api/series/fresh/rename")
    assert done.status_code == 200, done.text
    assert done.json()["batch_id"] is None
    assert await folder_of(db, "fresh") == "Fresh [fresh]"
    assert tree(library_dir) == []


async def test_no_rename_while_a_scan_runs_or_an_episode_downloads(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    from showkeeper.db.models import QueueItem
    from showkeeper.library.lock import ScanLease

    db = app.state.ctx.db
    disk = await downloaded_series(db, library_dir, "show", "Show", 2, companions=False)
    before = tree(library_dir)
    lease = await ScanLease.acquire(db, "a-scan", series_key=None)
    busy = await api.post("/api/series/show/rename")
    assert busy.status_code == 409 and "a scan is already running" in busy.json()["detail"]
    await lease.release()
    async with db.write() as s:
        s.add(QueueItem(episode_id=disk.episode_ids[1], status="downloading"))
    refused = await api.post("/api/series/show/rename")
    assert refused.status_code == 409
    assert "S01E02 is downloading; rename when it has finished" in refused.json()["detail"]
    assert tree(library_dir) == before
