"""Artwork files in the names Kodi and Jellyfin read, checked before anything is written.

Remote images are hostile until proven otherwise: :func:`prepare_image` accepts bytes only
when they are under the size cap, start with the magic bytes of an image type we read
(JPEG, PNG, WebP, GIF), open in Pillow completely (a truncated file fails here) and have
sane dimensions. The result is re-encoded only when the type differs from the file name's
(a PNG offered as ``poster.jpg`` becomes a JPEG; a logo keeps its transparency as PNG).
Writes are atomic and go through ``ensure_inside``, like the NFOs.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from showkeeper.domain.paths import ensure_inside
from showkeeper.errors import ShowkeeperError

Kind = Literal["poster", "fanart", "logo", "banner"]
KINDS: Final[tuple[Kind, ...]] = ("poster", "fanart", "logo", "banner")
FILE_NAMES: Final[dict[Kind, str]] = {
    "poster": "poster.jpg",
    "fanart": "fanart.jpg",
    "logo": "logo.png",
    "banner": "banner.jpg",
}
MIN_SIDE: Final = 16
MAX_SIDE: Final = 16384
MAX_PIXELS: Final = 100_000_000
_MAGIC: Final = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
_FORMATS: Final = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}


class ArtworkError(ShowkeeperError):
    """Bytes that are not an image we write: not an image, too large, truncated, absurd size."""

    status_code = 422


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str
    width: int
    height: int


def season_poster_name(season: int) -> str:
    """``season01-poster.jpg``; specials are ``season-specials-poster.jpg`` (Kodi's name)."""
    return "season-specials-poster.jpg" if season == 0 else f"season{season:02d}-poster.jpg"


def thumb_path(episode_file: str) -> str:
    """``Show/Season 01/Show - S01E01.mkv`` -> ``Show/Season 01/Show - S01E01-thumb.jpg``."""
    path = PurePosixPath(episode_file)
    return str(path.with_name(f"{path.stem}-thumb.jpg"))


def sniff(data: bytes) -> str | None:
    """The image type the magic bytes announce (JPEG, PNG, GIF, WEBP), or None."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe(data: bytes) -> str:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    if head.startswith((b"<?xml", b"<svg")):
        return "XML or SVG"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return "data that is not an image" if data else "nothing"


def inspect_image(data: bytes, *, max_bytes: int) -> ImageInfo:
    """Check that ``data`` is a complete image of sane size; Pillow decodes all of it.

    Raises:
        ArtworkError: too large, not an image type we read, broken or truncated, or with
            dimensions outside 16..16384 px per side.
    """
    if len(data) > max_bytes:
        raise ArtworkError(f"image is larger than the {max_bytes // (1024 * 1024)} MiB limit")
    kind = sniff(data)
    if kind is None:
        raise ArtworkError(f"not an image: the server sent {_describe(data)}")
    # Pillow loads when an image is checked, not with the module: a process that downloads
    # episodes imports this module (episode thumbnails) but may never see an image.
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as img:
                width, height = img.size
                if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
                    raise ArtworkError(f"image is {width}x{height} px, outside the sane range")
                if width * height > MAX_PIXELS:
                    raise ArtworkError(f"image is {width}x{height} px, too many pixels")
                img.load()  # decodes everything: a truncated file raises here
    except ArtworkError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise ArtworkError(f"the {kind} image is broken or truncated ({exc})") from None
    except Image.DecompressionBombError as exc:
        raise ArtworkError(f"image refused: {exc}") from None
    return ImageInfo(kind, width, height)


def prepare_image(data: bytes, target: str, *, max_bytes: int) -> bytes:
    """Bytes to write as ``target`` (a ``.jpg`` or ``.png`` name): checked, re-encoded when
    the type differs from the name's.

    Raises:
        ArtworkError: see :func:`inspect_image`.
    """
    info = inspect_image(data, max_bytes=max_bytes)
    wanted = _FORMATS.get(PurePosixPath(target).suffix.lower(), "JPEG")
    if info.format == wanted:
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.load()
        out = io.BytesIO()
        if wanted == "JPEG":
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (0, 0, 0))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            flat.save(out, "JPEG", quality=90)
        else:
            img.convert("RGBA").save(out, "PNG", optimize=False)
    return out.getvalue()


def is_valid_file(path: Path, *, max_bytes: int) -> bool:
    """True when ``path`` holds a complete, sane image (False when missing or broken)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
        inspect_image(data, max_bytes=max_bytes)
    except (OSError, ArtworkError):
        return False
    return True


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


Decision = Literal["write", "keep", "foreign"]


def decide(
    path: Path, recorded: str | None, *, max_bytes: int, replace: bool, refresh: bool
) -> Decision:
    """Whether to write an artwork file at ``path``.

    ``recorded`` is the sha256 we stored when we last wrote it (None: not ours). Missing ->
    write. Ours and broken -> write. Ours, intact and ``refresh`` (a new match) -> write.
    Another tool's (or ours, changed since by someone) -> kept unless ``replace``.
    """
    if not path.exists():
        return "write"
    current = file_digest(path)
    ours = recorded is not None and current == recorded
    if replace:
        return "write"
    if ours:
        if refresh or not is_valid_file(path, max_bytes=max_bytes):
            return "write"
        return "keep"
    if recorded is not None and not is_valid_file(path, max_bytes=max_bytes):
        return "write"  # ours once, damaged since (truncated by a crash or a copy)
    return "foreign"


def write_image(root: Path, rel: str, data: bytes) -> Path:
    """Write checked bytes at ``root/rel`` atomically (``ensure_inside`` first).

    A temporary file renamed over the target: readers see the old image or the new one. It is
    not fsynced (unlike NFOs and config): a crash may leave a truncated image, which repair
    finds (Pillow cannot decode it) and writes again, and the loader stays fast on slow disks.
    """
    path = ensure_inside(root, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
