"""HTTP directory listings: Python's real http.server, and nginx/Apache autoindex pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy import select

from showkeeper.context import AppContext
from showkeeper.db.models import Episode, Series
from showkeeper.sources.service import add_series, refresh_series
from tests.sources_docs import apache_index, nginx_index

from .conftest import Site


async def listing(ctx: AppContext, key: str) -> list[tuple[int, int, list[str]]]:
    async with ctx.db.session() as s:
        series = await s.scalar(select(Series).where(Series.key == key))
        assert series is not None
        rows = await s.scalars(
            select(Episode)
            .where(Episode.series_id == series.id)
            .order_by(Episode.season, Episode.episode)
        )
        return [
            (e.season, e.episode, [unquote(c["url"].rsplit("/", 1)[1]) for c in e.candidates])
            for e in rows
        ]


def write(root: Path, rel: str, size: int = 100) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


async def test_python_http_server_directory(
    ctx: AppContext, http_server_dir: tuple[Path, str], media_files: dict[str, bytes]
) -> None:
    root, base = http_server_dir
    show = root / "Show Name (2020)"
    (show / "Season 1").mkdir(parents=True)
    (show / "Season 1" / "Show.Name.S01E01.1080p.mp4").write_bytes(media_files["ep1.mp4"])
    write(show, "Season 1/Show.Name.S01E01.720p.mkv")
    write(show, "Season 1/Show.Name.S01E02.mkv")
    write(show, "Season 1/Show.Name.S01E02.mkv.part")  # partial download: not media
    write(show, "Season 2/02 - The Return.mp4")  # number only: season from the folder
    write(show, "Specials/Show Name S00E01 Pilot.mkv")
    write(show, "Extras/Behind the scenes.mkv")  # not a season folder
    write(show, "Show.Name.S03E01.mkv")  # in the series folder itself
    write(show, "notes.txt")

    url = f"{base}/{quote(show.name)}"  # no trailing slash: the server redirects
    series = await add_series(ctx, url)

    assert series.source_kind == "httpdir"
    assert (series.name, series.year, series.folder) == ("Show Name", 2020, "Show Name (2020)")
    assert await listing(ctx, series.key) == [
        (0, 1, ["Show Name S00E01 Pilot.mkv"]),
        (1, 1, ["Show.Name.S01E01.1080p.mp4", "Show.Name.S01E01.720p.mkv"]),
        (1, 2, ["Show.Name.S01E02.mkv"]),
        (2, 2, ["02 - The Return.mp4"]),
        (3, 1, ["Show.Name.S03E01.mkv"]),
    ]
    async with ctx.db.session() as s:
        ep = await s.scalar(select(Episode).where(Episode.season == 1, Episode.episode == 1))
    assert ep is not None
    best = ep.candidates[0]
    assert unquote(best["url"]) == f"{base}/Show Name (2020)/Season 1/Show.Name.S01E01.1080p.mp4"
    assert (best["kind"], best["quality"], best["mime"]) == ("direct", 1080, "video/mp4")

    write(show, "Season 1/Show.Name.S01E03.mkv")
    summary = await refresh_series(ctx, series.key)
    assert summary.episodes_added == 1
    assert (1, 3, ["Show.Name.S01E03.mkv"]) in await listing(ctx, series.key)


async def test_nginx_autoindex(ctx: AppContext, site: Site) -> None:
    site.put(
        "/shows/Anime/",
        nginx_index("/shows/Anime/", ["Season 1", "Season 2"], [("cover.jpg", 5000)]),
        "text/html",
    )
    site.put(
        "/shows/Anime/Season 1/",
        nginx_index(
            "/shows/Anime/Season 1/",
            [],
            [
                ("[Group] Anime - 01 [1080p].mkv", 123456),
                ("[Group] Anime - 02 [1080p].mkv", 123457),
            ],
        ),
        "text/html",
    )
    site.put(
        "/shows/Anime/Season 2/",
        nginx_index("/shows/Anime/Season 2/", [], [("Anime S02E01.mkv", 999)]),
        "text/html",
    )
    series = await add_series(ctx, site.url("/shows/Anime/"))
    assert series.source_kind == "httpdir" and series.name == "Anime"
    assert await listing(ctx, series.key) == [
        (1, 1, ["[Group] Anime - 01 [1080p].mkv"]),
        (1, 2, ["[Group] Anime - 02 [1080p].mkv"]),
        (2, 1, ["Anime S02E01.mkv"]),
    ]
    async with ctx.db.session() as s:
        sizes = sorted(
            (await s.scalars(select(Episode.candidates))).all(), key=lambda c: c[0]["url"]
        )
    assert [c[0]["size"] for c in sizes] == [123456, 123457, 999]


async def test_apache_autoindex(ctx: AppContext, site: Site) -> None:
    site.put(
        "/shows/Drama (2019)/",
        apache_index(
            "/shows/Drama (2019)",
            ["Season 01"],
            [("Drama.2019.S02E01.mkv", "1.2M")],
        ),
        "text/html;charset=UTF-8",
    )
    site.put(
        "/shows/Drama (2019)/Season 01/",
        apache_index(
            "/shows/Drama (2019)/Season 01",
            [],
            [("Drama - 1x01 - Start.avi", "700M"), ("Drama - 1x02.avi", "701M")],
        ),
        "text/html",
    )
    series = await add_series(ctx, site.url("/shows/Drama%20(2019)/"), kind="httpdir")
    assert (series.name, series.year) == ("Drama", 2019)
    eps = await listing(ctx, series.key)
    assert [(s, e) for s, e, _ in eps] == [(1, 1), (1, 2), (2, 1)]
    async with ctx.db.session() as s:
        titles = (
            await s.scalars(select(Episode.title).order_by(Episode.season, Episode.episode))
        ).all()
    assert titles[0] == "Start"
