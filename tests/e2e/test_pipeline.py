"""The whole pipeline on real parts: a podcast feed on a local server -> add the series ->
missing episodes -> the queue -> the app's own download workers -> files in the library ->
a rescan; then the same through the CLI, `showkeeper fetch`, and a hostile feed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from showkeeper.config import Settings, load_settings
from showkeeper.context import open_context
from showkeeper.db.models import Episode, Series
from showkeeper.domain.paths import ALLOWED_EXTENSIONS
from tests.conftest import stray_files
from tests.e2e.podcast_site import FOLDER, HOSTILE_TITLES, SHOW, Site, serve, sha256
from tests.integration.downloads.queue_support import wait_until
from tests.integration.downloads.servers import (
    decode_errors,
    duration_of,
    fetch_argv,
    fetch_env,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with serve(tmp_path_factory.mktemp("e2e-media")) as served:
        yield served


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app runs its own download workers; a failure is final (no 30 s retry wait)."""
    return settings.model_copy(
        update={"download_workers_in_server": True, "download_max_attempts": 1}
    )


# -- checks ---------------------------------------------------------------------------------


def media_in(folder: Path) -> list[str]:
    """Names of the media files in ``folder`` (sidecars such as NFOs left out)."""
    return sorted(p.name for p in folder.iterdir() if p.suffix[1:] in ALLOWED_EXTENSIONS)


def check_episode_files(site: Site, library: Path) -> None:
    """Every episode is in <library>/<folder>/Season 01 under its name, with the served bytes
    (direct) or the playlist's duration (HLS); no other media file is there."""
    season = library / FOLDER / "Season 01"
    assert media_in(season) == sorted(e.file_name for e in site.episodes)
    for expected in site.episodes:
        path = season / expected.file_name
        if expected.hls:
            assert duration_of(path) == pytest.approx(site.hls_seconds, abs=0.25)
            assert decode_errors(path) == ""
        else:
            assert sha256(path) == sha256(expected.source), expected.file_name


def files_under(root: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _, names in os.walk(root)
        for name in names
    }


async def poll_json(api: Any, url: str, done: Any, *, timeout: float = 60) -> dict[str, Any]:
    """GET ``url`` until ``done(body)`` is true; returns the last body."""
    last: dict[str, Any] = {}

    async def check() -> bool:
        nonlocal last
        resp = await api.get(url)
        assert resp.status_code == 200, resp.text
        last = resp.json()
        return bool(done(last))

    try:
        await wait_until(check, timeout=timeout, every=0.1)
    except AssertionError:
        raise AssertionError(f"{url} never got there: {json.dumps(last)[:2000]}") from None
    return last


async def add_and_load(api: Any, url: str) -> dict[str, Any]:
    resp = await api.post("/api/series", json={"url": url})
    assert resp.status_code == 202, resp.text
    key = resp.json()["key"]
    return await poll_json(
        api,
        f"/api/series/{key}/loading-status",
        lambda b: b["status"] in ("completed", "failed"),
    )


async def run_queue(api: Any, expected: int) -> dict[str, Any]:
    """Wait until ``expected`` items are finished (completed or failed)."""

    def finished(body: dict[str, Any]) -> bool:
        counts = body["counts"]
        return counts["completed"] + counts["failed"] >= expected and not (
            counts["queued"] or counts["downloading"]
        )

    return await poll_json(api, "/api/queue/status", finished)


async def settled(library: Path) -> None:
    """Wait until no temporary file is left in ``library``: a sidecar writer reacting to
    download_complete may hold a ``.tmp`` for a moment; a left-over ``.part`` never goes."""

    async def clean() -> bool:
        return not stray_files(library)

    try:
        await wait_until(clean, timeout=10)
    except AssertionError:
        raise AssertionError(f"left in the library: {stray_files(library)}") from None


async def rescan(api: Any, ctx: Any) -> dict[str, Any]:
    """POST /api/series/rescan and wait for its end (scan_complete on the bus)."""
    with ctx.bus.subscribe(types={"scan_complete", "scan_failed"}) as events:
        resp = await api.post("/api/series/rescan", json={})
        assert resp.status_code == 202, resp.text
        event = await asyncio.wait_for(events.get(), timeout=30)
    assert event.type == "scan_complete", event.data
    assert event.data["scan_id"] == resp.json()["scan_id"]
    return event.data


# -- through the API, with the app's own workers ----------------------------------------------


async def test_feed_to_library_through_the_api(
    assert_no_stray_files: Any, api: Any, app: Any, site: Site, library_dir: Path
) -> None:
    ctx = app.state.ctx
    loaded = await add_and_load(api, site.feed_url)
    assert loaded["status"] == "completed", loaded
    assert (loaded["name"], loaded["folder"], loaded["episodes"]) == (SHOW, FOLDER, 4)
    key = loaded["key"]

    missing = (await api.get("/api/library/missing", params={"series_key": key})).json()
    assert [(m["season"], m["episode"], m["title"]) for m in missing["items"]] == [
        (1, e.episode, e.title) for e in site.episodes
    ]
    async with ctx.db.session() as s:  # the 404 enclosure is the first candidate tried
        second = await s.scalar(select(Episode).where(Episode.episode == 2))
    assert second is not None
    assert [c["url"] for c in second.candidates] == [
        site.threaded.url("/media/gone.mp4"),
        site.direct_url(2),
    ]

    added = await api.post("/api/queue/add", json={"series_key": key, "missing": True})
    assert added.status_code == 201, added.text
    assert added.json()["added"] == 4 and added.json()["skipped_no_candidates"] == 0
    status = await run_queue(api, 4)
    assert status["counts"]["completed"] == 4, status["failed"]
    assert 404 in site.threaded.hits("/media/gone.mp4")

    check_episode_files(site, library_dir)
    await settled(library_dir)

    async def downloaded() -> list[tuple[int, bool, str | None]]:
        body = (await api.get(f"/api/series/{key}")).json()
        return sorted((e["episode"], e["is_downloaded"], e["file_path"]) for e in body["episodes"])

    want = [(e.episode, True, f"{FOLDER}/Season 01/{e.file_name}") for e in site.episodes]
    assert await downloaded() == want

    scan = await rescan(api, ctx)
    assert scan["episodes_gone"] == 0 and scan["unparsed"] == 0, scan
    assert await downloaded() == want
    after = (await api.get("/api/library/missing")).json()
    assert after == {"total": 0, "items": []}
    again = await api.post("/api/queue/add", json={"series_key": key, "missing": True})
    assert again.json()["added"] == 0


# -- through the CLI, in a fresh data dir ------------------------------------------------------


@pytest.mark.slow  # two foreground downloads and two `showkeeper fetch` processes
def test_feed_to_library_through_the_cli(
    assert_no_stray_files: Any,
    tmp_path: Path,
    site: Site,
    library_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from showkeeper.cli import app as cli

    data = tmp_path / "cli-data"
    monkeypatch.setenv("SHOWKEEPER_LIBRARY_DIR", str(library_dir))
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["--data-dir", str(data), *args])

    added = run("series", "add", site.feed_url)
    assert added.exit_code == 0, added.output
    match = re.search(
        r"added E2E Show as (\S+) \(feed\): 4 episodes", " ".join(added.output.split())
    )
    assert match, added.output
    key = match.group(1)

    result = run("download", "--series", key, "--missing")
    assert result.exit_code == 0, result.output
    assert "4 downloaded, 0 failed" in result.output
    check_episode_files(site, library_dir)

    async def episodes() -> list[tuple[int, bool]]:
        opened = open_context(load_settings(env_file=None, data_dir=data))
        async with opened as ctx, ctx.db.session() as s:
            rows = await s.execute(
                select(Episode.episode, Episode.is_downloaded)
                .join(Series, Series.id == Episode.series_id)
                .where(Series.key == key)
                .order_by(Episode.episode)
            )
            return [(n, done) for n, done in rows]

    assert asyncio.run(episodes()) == [(1, True), (2, True), (3, True), (4, True)]
    nothing = run("download", "--series", key, "--missing")
    assert nothing.exit_code == 0 and f"nothing to download for {key}" in nothing.output

    # `showkeeper fetch` in real processes: one direct file and the HLS stream, at once
    out = tmp_path / "fetched"
    out.mkdir()
    jobs = {
        "direct": (site.direct_url(3), out / "direct.mp4"),
        "hls": (site.hls_url, out / "stream.mp4"),
    }
    procs = {
        name: subprocess.Popen(
            fetch_argv(url, dest),
            env=fetch_env(tmp_path / f"fetch-{name}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, (url, dest) in jobs.items()
    }
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=90)
        assert proc.returncode == 0, f"{name}: {output}"
    assert sha256(out / "direct.mp4") == sha256(site.episodes[2].source)
    stream = library_dir / FOLDER / "Season 01" / site.episodes[3].file_name
    # the same stream, through the same engine: the same bytes as the queue's download
    assert sha256(out / "stream.mp4") == sha256(stream)
    assert sorted(p.name for p in out.iterdir()) == ["direct.mp4", "stream.mp4"]


# -- a hostile feed ---------------------------------------------------------------------------


async def test_a_hostile_feed_stays_inside_the_library(
    assert_no_stray_files: Any, api: Any, app: Any, site: Site, tmp_path: Path, library_dir: Path
) -> None:
    before = files_under(tmp_path)
    loaded = await add_and_load(api, site.hostile_url)
    assert loaded["status"] == "completed", loaded
    folder = loaded["folder"]
    assert folder == "Hostile Show (2024)"
    assert (library_dir / folder).resolve().parent == library_dir.resolve()

    key = loaded["key"]
    missing = (await api.get("/api/library/missing", params={"series_key": key})).json()
    assert [m["title"] for m in missing["items"]] == [*HOSTILE_TITLES, "Launcher"]  # as served

    added = await api.post("/api/queue/add", json={"series_key": key, "missing": True})
    assert added.json()["added"] == 4
    status = await run_queue(api, 4)
    assert status["counts"]["completed"] == 3, status
    assert [(f["episode"], f["title"]) for f in status["failed"]] == [(4, "Launcher")]
    error = status["failed"][0]["last_error"]
    assert "launcher.desktop" in error and "application/x-desktop" in error, error

    season = library_dir / folder / "Season 01"
    names = media_in(season)
    assert names == [
        "Hostile Show - S01E01 - etc-passwd.mp4",
        "Hostile Show - S01E02 - CON.mp4",  # a device name only as a whole name
        "Hostile Show - S01E03 - rf.mp4",
    ], names
    for n, name in enumerate(names, start=1):
        assert sha256(season / name) == sha256(site.episodes[n - 1].source)

    # nothing new outside the library (the data dir only holds the database and logs)
    new = {p for p in files_under(tmp_path) - before if not p.startswith(("library/", "data/"))}
    assert new == set()
    assert not (tmp_path.parent / "etc").exists() and not (library_dir.parent / "etc").exists()
    await settled(library_dir)
    everything = files_under(library_dir)
    odd = [p for p in everything if p.rsplit(".", 1)[-1] not in {*ALLOWED_EXTENSIONS, "nfo"}]
    assert odd == [], everything  # media and their NFO sidecars only: no .desktop
