"""Artwork bytes are checked before they are written; ownership decides what is replaced."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from showkeeper.domain.paths import UnsafePathError
from showkeeper.metadata.artwork import (
    ArtworkError,
    decide,
    digest,
    inspect_image,
    is_valid_file,
    prepare_image,
    season_poster_name,
    sniff,
    thumb_path,
    write_image,
)
from tests.metadata_site import jpeg, png

MB = 1024 * 1024


def webp(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(out, "WEBP")
    return out.getvalue()


def test_accepts_real_images() -> None:
    assert inspect_image(jpeg(400, 600), max_bytes=MB).width == 400
    assert inspect_image(png(), max_bytes=MB).format == "PNG"
    assert inspect_image(webp(), max_bytes=MB).format == "WEBP"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"<!DOCTYPE html><html><body>404</body></html>", "an HTML page"),
        (b'{"error": "nope"}', "JSON"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "XML or SVG"),
        (b"", "nothing"),
        (jpeg()[:500], "broken or truncated"),
        (png()[:100], "broken or truncated"),
        (jpeg(8, 8), "outside the sane range"),
        (b"\xff\xd8\xff" + b"\0" * 100, "broken or truncated"),
    ],
)
def test_refuses_what_is_not_a_sane_complete_image(data: bytes, why: str) -> None:
    with pytest.raises(ArtworkError, match=why):
        inspect_image(data, max_bytes=MB)


def test_size_cap() -> None:
    big = jpeg(2000, 2000)
    with pytest.raises(ArtworkError, match="larger than"):
        inspect_image(big, max_bytes=len(big) - 1)


def test_a_png_named_jpg_becomes_a_jpeg_and_logos_keep_alpha() -> None:
    as_jpeg = prepare_image(png(300, 200), "Show/poster.jpg", max_bytes=MB)
    assert sniff(as_jpeg) == "JPEG"
    same = jpeg()
    assert prepare_image(same, "poster.jpg", max_bytes=MB) is same  # untouched when it fits
    logo = prepare_image(webp(), "logo.png", max_bytes=MB)
    with Image.open(io.BytesIO(logo)) as img:
        assert img.format == "PNG" and img.mode == "RGBA"


def test_names() -> None:
    assert season_poster_name(1) == "season01-poster.jpg"
    assert season_poster_name(0) == "season-specials-poster.jpg"
    assert (
        thumb_path("Show/Season 01/Show - S01E01.mkv") == "Show/Season 01/Show - S01E01-thumb.jpg"
    )


def test_ownership_rules(tmp_path: Path) -> None:
    path = tmp_path / "poster.jpg"
    assert decide(path, None, max_bytes=MB, replace=False, refresh=False) == "write"
    ours = jpeg()
    path.write_bytes(ours)
    mine = digest(ours)
    assert decide(path, mine, max_bytes=MB, replace=False, refresh=False) == "keep"
    assert decide(path, mine, max_bytes=MB, replace=False, refresh=True) == "write"
    assert decide(path, None, max_bytes=MB, replace=False, refresh=True) == "foreign"
    assert decide(path, None, max_bytes=MB, replace=True, refresh=False) == "write"
    path.write_bytes(jpeg(300, 300))  # someone replaced ours with their own
    assert decide(path, mine, max_bytes=MB, replace=False, refresh=True) == "foreign"
    path.write_bytes(ours[: len(ours) // 2])  # ours, truncated
    assert not is_valid_file(path, max_bytes=MB)
    assert decide(path, mine, max_bytes=MB, replace=False, refresh=False) == "write"


def test_writes_stay_inside_the_library(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    written = write_image(root, "Show/poster.jpg", jpeg())
    assert written.read_bytes()[:3] == b"\xff\xd8\xff"
    assert not list(written.parent.glob("*.tmp"))
    with pytest.raises(UnsafePathError):
        write_image(root, "../outside.jpg", jpeg())
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError):
        write_image(root, "link/escaped.jpg", jpeg())
    assert not (tmp_path / "escaped.jpg").exists()
