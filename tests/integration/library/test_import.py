"""Manual import: what the scan could not place gets suggestions and is placed by decisions,
from inside the library and from an allowed folder outside it (copy or move)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.db.models import Episode, LibraryIssue
from showkeeper.ffmpeg import ffmpeg_exe
from showkeeper.library.service import run_scan
from tests.integration.downloads.queue_support import wait_until
from tests.integration.downloads.servers import make_media
from tests.integration.library.helpers import Ep, add_series
from tests.integration.library.manage_support import tree


@pytest.fixture
def incoming(tmp_path: Path) -> Path:
    path = tmp_path / "incoming"
    path.mkdir()
    return path


@pytest.fixture
def settings(settings: Settings, incoming: Path) -> Settings:
    return settings.model_copy(update={"import_dirs": [incoming], "disk_reserve_gib": 0})


@pytest.fixture(scope="module")
def dated_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real MKV whose metadata says it was made on 2020-01-03."""
    folder = tmp_path_factory.mktemp("media")
    plain = make_media(folder / "plain.mp4", seconds=1)
    dated = folder / "dated.mkv"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(plain), "-c", "copy",
         "-metadata", "creation_time=2020-01-03T10:00:00Z", str(dated)],
        check=True,
    )  # fmt: skip
    yield dated


async def _episode(db: Any, season: int, number: int, key_id: int) -> Episode:
    async with db.session() as s:
        ep = await s.scalar(
            select(Episode).where(
                Episode.series_id == key_id, Episode.season == season, Episode.episode == number
            )
        )
        assert ep is not None
        return ep


async def test_suggest_then_import_inside_the_library(
    api: httpx.AsyncClient, app: Any, library_dir: Path, dated_media: Path
) -> None:
    ctx = app.state.ctx
    eps = [Ep(1, n, date(2020, 1, n + 1)) for n in (1, 2, 3)]
    show_id = await add_series(ctx.db, "show", "Show", eps)
    (library_dir / "Show").mkdir()
    shutil.copyfile(dated_media, library_dir / "Show" / "weird name part two.mkv")
    (library_dir / "Show" / "weird name part two.nfo").write_text("<episodedetails/>")
    (library_dir / "The Show").mkdir()
    (library_dir / "The Show" / "Show S01E01.mkv").write_bytes(b"one")
    await run_scan(ctx)

    listing = (await api.get("/api/library/import")).json()
    [folder] = listing["folders"]
    assert folder["name"] == "The Show"
    assert folder["suggestions"][0]["series_key"] == "show"
    [unplaced] = listing["files"]
    assert unplaced["relative_path"] == "Show/weird name part two.mkv"
    assert unplaced["file_date"] == "2020-01-03"  # from the file's own metadata
    assert [(s["season"], s["episode"]) for s in unplaced["suggestions"]] == [(1, 2)]

    resp = await api.post(
        "/api/library/import",
        json={
            "decisions": [
                {
                    "action": "import_file",
                    "path": "Show/weird name part two.mkv",
                    "series_key": "show",
                    "season": 1,
                    "episode": 2,
                },
                {"action": "map_folder", "path": "The Show", "series_key": "show"},
            ]
        },
    )
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert results[0]["status"] == "imported"
    assert results[1]["status"] == "merged" and results[1]["left"] == []
    assert tree(library_dir) == [
        "Show/Season 01/Show - S01E01 - Episode 1.mkv",
        "Show/Season 01/Show - S01E02 - Episode 2.mkv",
        "Show/Season 01/Show - S01E02 - Episode 2.nfo",
    ]
    second = await _episode(ctx.db, 1, 2, show_id)
    assert (
        second.is_downloaded and second.file_path == "Show/Season 01/Show - S01E02 - Episode 2.mkv"
    )
    assert second.size == dated_media.stat().st_size + len("<episodedetails/>")
    assert (await _episode(ctx.db, 1, 1, show_id)).is_downloaded
    async with ctx.db.session() as s:
        paths = list(await s.scalars(select(LibraryIssue.path)))
    assert "Show/weird name part two.mkv" not in paths
    # a file that already is an episode's is not taken for another one
    taken = await api.post(
        "/api/library/import",
        json={
            "decisions": [
                {
                    "action": "import_file",
                    "path": "Show/Season 01/Show - S01E01 - Episode 1.mkv",
                    "series_key": "show",
                    "season": 1,
                    "episode": 3,
                }
            ]
        },
    )
    assert taken.status_code == 400
    assert "already the file of another episode" in taken.json()["detail"]
    # a rescan agrees with what the import recorded
    await run_scan(ctx, force=True)
    assert (await _episode(ctx.db, 1, 2, show_id)).file_path == second.file_path


async def test_a_folder_becomes_the_series_folder(
    api: httpx.AsyncClient, app: Any, library_dir: Path
) -> None:
    ctx = app.state.ctx
    other_id = await add_series(ctx.db, "other", "Other", [Ep(1, 1), Ep(1, 2)])
    (library_dir / "Other Archive" / "Season 1").mkdir(parents=True)
    (library_dir / "Other Archive" / "Season 1" / "Other - S01E02.mkv").write_bytes(b"2")
    await run_scan(ctx)
    resp = await api.post(
        "/api/library/import",
        json={
            "decisions": [{"action": "map_folder", "path": "Other Archive", "series_key": "other"}]
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"][0]["status"] == "mapped"

    async def linked() -> bool:
        return (await _episode(ctx.db, 1, 2, other_id)).is_downloaded

    await wait_until(linked, timeout=30)
    assert tree(library_dir) == ["Other Archive/Season 1/Other - S01E02.mkv"]  # nothing moved
    assert (await api.get("/api/library/import")).json()["folders"] == []


async def test_import_from_an_allowed_folder_outside_the_library(
    api: httpx.AsyncClient, app: Any, library_dir: Path, incoming: Path, tmp_path: Path
) -> None:
    ctx = app.state.ctx
    show_id = await add_series(ctx.db, "show", "Show", [Ep(1, n) for n in (1, 2, 3, 4)])
    (incoming / "first.mkv").write_bytes(b"1" * 10)
    (incoming / "first-thumb.jpg").write_bytes(b"t")
    (incoming / "second.mkv").write_bytes(b"2" * 10)
    copy = {"action": "import_file", "path": str(incoming / "first.mkv"), "series_key": "show",
            "season": 1, "episode": 1, "mode": "copy"}  # fmt: skip
    move = {**copy, "path": str(incoming / "second.mkv"), "episode": 2, "mode": "move"}
    resp = await api.post("/api/library/import", json={"decisions": [copy, move]})
    assert resp.status_code == 200, resp.text
    assert tree(incoming) == ["first-thumb.jpg", "first.mkv"]  # copied, not moved
    assert tree(library_dir) == [
        "Show/Season 01/Show - S01E01 - Episode 1-thumb.jpg",
        "Show/Season 01/Show - S01E01 - Episode 1.mkv",
        "Show/Season 01/Show - S01E02 - Episode 2.mkv",
    ]
    assert (await _episode(ctx.db, 1, 2, show_id)).size == 10

    # bad decisions: each named, nothing applied
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "third.mkv").write_bytes(b"3")
    (incoming / "S01E03.mkv").write_bytes(b"3")
    (incoming / "odd.mkv").write_bytes(b"4")
    bad = [
        {**copy, "path": str(elsewhere / "third.mkv"), "episode": 3},
        {**copy, "path": str(incoming / ".." / "elsewhere" / "third.mkv"), "episode": 3},
        {**copy, "path": str(incoming / "gone.mkv"), "episode": 3},
        {**copy, "path": str(incoming / "first.mkv"), "episode": 1},  # already on disk
        {**copy, "path": str(incoming / "odd.mkv"), "episode": 4, "rename": False},
        {**copy, "path": str(incoming / "S01E03.mkv"), "episode": 3},  # fine on its own
        {**copy, "path": str(incoming / "odd.mkv"), "episode": 3},  # the same target as above
        {**copy, "path": "../outside.mkv", "episode": 4},
    ]
    refused = await api.post("/api/library/import", json={"decisions": bad})
    assert refused.status_code == 400
    detail = refused.json()["detail"]
    assert detail.startswith("refused, nothing was imported: decision 1: ")
    assert f"{elsewhere / 'third.mkv'} is outside the folders imports may read" in detail
    assert (
        "decision 2: " in detail and "decision 3: " in detail and "gone.mkv is not a file" in detail
    )
    assert "decision 4: " in detail and "already on disk" in detail
    assert "decision 5: " in detail and "would not read 'odd.mkv' as S01E04" in detail
    assert "decision 6: " not in detail
    assert "decision 7: " in detail and "another decision imports a file to" in detail
    assert "decision 8: " in detail and "not inside the library root" in detail
    assert len(tree(library_dir)) == 3 and len(tree(incoming)) == 4


async def test_copy_checks_the_free_space_first(
    api: httpx.AsyncClient, app: Any, library_dir: Path, incoming: Path
) -> None:
    ctx = app.state.ctx
    await add_series(ctx.db, "show", "Show", [Ep(1, 1)])
    (incoming / "first.mkv").write_bytes(b"1" * 10)
    ctx.settings = ctx.settings.model_copy(update={"disk_reserve_gib": 100000})
    resp = await api.post(
        "/api/library/import",
        json={"decisions": [{"action": "import_file", "path": str(incoming / "first.mkv"),
                             "series_key": "show", "season": 1, "episode": 1, "mode": "copy"}]},
    )  # fmt: skip
    assert resp.status_code == 400
    assert "not enough free space: 10 bytes to copy" in resp.json()["detail"]
    assert tree(library_dir) == [] and tree(incoming) == ["first.mkv"]
