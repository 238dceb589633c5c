"""The sources' own artwork: an HTTP directory's poster/fanart files, a channel page's image
and its videos' posters (read by yt-dlp's generic extractor)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from showkeeper.config import Settings
from tests.metadata_site import MetaSite, jpeg, png
from tests.sources_docs import nginx_index

from .conftest import running
from .test_loader import add, row


def opened(path: Path) -> tuple[str, int, int]:
    with Image.open(path) as img:
        img.load()
        return str(img.format), img.width, img.height


async def test_http_directory_artwork_files(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    root = "/shows/Harbour Lights (2019)/"
    site.put(
        root,
        nginx_index(
            root,
            ["Season 1"],
            [("poster.jpg", 1000), ("fanart.png", 1000), ("notes.txt", 10)],
        ),
        "text/html",
    )
    site.put(
        root + "Season 1/",
        nginx_index(root + "Season 1/", [], [("Harbour Lights S01E01.mp4", 1000)]),
        "text/html",
    )
    site.put(root + "poster.jpg", jpeg(400, 600), "image/jpeg")
    site.put(root + "fanart.png", png(960, 540, alpha=False), "image/png")
    async with running(settings) as (ctx, api):
        key, events = await add(ctx, api, site.url(root.replace(" ", "%20")))
        series = await row(ctx, key)
    assert series.source_kind == "httpdir" and events[-1]["status"] == "completed"
    folder = library_dir / series.folder
    assert opened(folder / "poster.jpg") == ("JPEG", 400, 600)
    assert opened(folder / "fanart.jpg") == ("JPEG", 960, 540)  # the PNG, as a real JPEG
    assert series.metadata_errors is None


CHANNEL = """<!DOCTYPE html><html><head><title>Pier Cam</title>
<meta property="og:image" content="{base}/art/channel.jpg">
<meta property="og:description" content="Waves, every day.">
</head><body>
<video src="/media/ep1.mp4" poster="/art/ep1.jpg" controls></video>
<video src="/media/ep2.mp4" poster="/art/ep2.jpg" controls></video>
</body></html>"""


async def test_channel_page_image_and_video_posters(
    settings: Settings, site: MetaSite, library_dir: Path
) -> None:
    site.put("/channel.html", CHANNEL.format(base=site.base).encode(), "text/html; charset=utf-8")
    site.put("/art/channel.jpg", jpeg(800, 800, (0, 120, 0)), "image/jpeg")
    for n in (1, 2):
        site.put(f"/media/ep{n}.mp4", b"\0" * 64, "video/mp4")
    video = library_dir / "Pier Cam/Season 01/Pier Cam - S01E01.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 1024)
    async with running(settings) as (ctx, api):
        key, events = await add(ctx, api, site.url("/channel.html"))
        series = await row(ctx, key)
    assert series.source_kind == "ytdlp" and series.folder == "Pier Cam"
    assert events[-1]["status"] == "completed", events[-1]
    folder = library_dir / "Pier Cam"
    assert opened(folder / "poster.jpg") == ("JPEG", 800, 800)
    assert opened(folder / "Season 01/Pier Cam - S01E01-thumb.jpg") == ("JPEG", 320, 180)
