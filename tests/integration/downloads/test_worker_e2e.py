"""End to end: a series served by a local media server downloads completely through the API
(the server's own workers) and through `showkeeper download --series KEY --missing`."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from showkeeper.cli import app as cli
from showkeeper.config import Settings, load_settings
from showkeeper.context import open_context
from showkeeper.db.models import Episode
from showkeeper.downloads.worker import WorkerPool
from tests.integration.downloads.queue_support import add_series, serve_directory, wait_until
from tests.integration.downloads.servers import decode_errors, make_media


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The server's own worker pool runs in these tests."""
    return settings.model_copy(update={"download_workers_in_server": True})


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """Three real MP4 episodes made with ffmpeg."""
    folder = tmp_path_factory.mktemp("media")
    first = make_media(folder / "e1.mp4", seconds=1)
    for n in (2, 3):
        shutil.copyfile(first, folder / f"e{n}.mp4")
    return folder


def check_library(library_dir: Path, media: Path, folder: str) -> None:
    # NFO metadata is written beside each video; this checks the videos
    files = sorted(p for p in (library_dir / folder / "Season 01").iterdir() if p.suffix != ".nfo")
    assert [f.name for f in files] == [
        f"{folder.split(' (')[0]} - S01E0{n} - Episode {n}.mp4" for n in (1, 2, 3)
    ]
    for n, path in enumerate(files, start=1):
        assert path.read_bytes() == (media / f"e{n}.mp4").read_bytes()
    assert decode_errors(files[0]) == ""


async def test_a_series_downloads_through_the_api(api, app, media, library_dir) -> None:
    ctx = app.state.ctx
    assert ctx.service(WorkerPool) is not None  # download_workers_in_server
    with serve_directory(media) as base:
        await add_series(
            ctx.db,
            "api-show",
            [(1, n, [{"url": f"{base}/e{n}.mp4"}]) for n in (1, 2, 3)],
            name="Api Show",
            year=2021,
        )
        resp = await api.post("/api/queue/add", json={"series_key": "api-show", "missing": True})
        assert resp.status_code == 201 and resp.json()["added"] == 3

        async def all_done() -> bool:
            status = (await api.get("/api/queue/status")).json()
            return status["counts"]["completed"] == 3

        await wait_until(all_done, timeout=60)
    check_library(library_dir, media, "Api Show (2021)")
    again = await api.post("/api/queue/add", json={"series_key": "api-show", "missing": True})
    assert again.json()["added"] == 0  # nothing is missing any more


def test_a_series_downloads_with_the_cli(settings, media, library_dir, monkeypatch) -> None:
    monkeypatch.setenv("SHOWKEEPER_LIBRARY_DIR", str(library_dir))
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--data-dir", str(settings.data_dir), *args])

    with serve_directory(media) as base:

        async def seed() -> None:
            async with open_context(
                load_settings(env_file=None, data_dir=settings.data_dir)
            ) as ctx:
                await add_series(
                    ctx.db,
                    "cli-show",
                    [(1, n, [{"url": f"{base}/e{n}.mp4"}]) for n in (1, 2, 3)],
                    name="Cli Show",
                )

        asyncio.run(seed())
        paused = run("queue", "pause")
        assert paused.exit_code == 0 and "queue is paused" in paused.output
        refused = run("download", "--series", "cli-show", "--missing")
        assert refused.exit_code == 1
        assert "the queue is paused; run `showkeeper queue resume` first" in refused.output
        assert run("queue", "resume").exit_code == 0
        result = run("download", "--series", "cli-show", "--missing")
    assert result.exit_code == 0, result.output
    assert "3 downloaded, 0 failed" in result.output
    check_library(library_dir, media, "Cli Show")
    # the foreground command writes the NFO metadata too, before it exits
    season = library_dir / "Cli Show" / "Season 01"
    assert sorted(p.stem for p in season.glob("*.nfo")) == sorted(
        p.stem for p in season.glob("*.mp4")
    )
    assert (library_dir / "Cli Show" / "tvshow.nfo").is_file()

    async def downloaded() -> list[bool]:
        opened = open_context(load_settings(env_file=None, data_dir=settings.data_dir))
        async with opened as ctx, ctx.db.session() as s:
            return list((await s.execute(select(Episode.is_downloaded))).scalars())

    assert asyncio.run(downloaded()) == [True, True, True]
    nothing = run("download", "--series", "cli-show", "--missing")
    assert nothing.exit_code == 0 and "nothing to download for cli-show" in nothing.output
