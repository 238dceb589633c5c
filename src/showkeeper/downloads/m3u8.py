"""HLS playlist parsing (RFC 8216), pure: master playlists, media playlists, variant choice.

Only what a VOD download needs: variants with bandwidth and resolution, segments with
durations, media sequence numbers, byte ranges, AES-128 keys and one EXT-X-MAP init section.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

__all__ = [
    "InitSection",
    "Key",
    "MediaPlaylist",
    "PlaylistError",
    "Segment",
    "Variant",
    "choose_variant",
    "is_master",
    "parse_attributes",
    "parse_master",
    "parse_media",
]

_ATTRIBUTE = re.compile(r'\s*([A-Z0-9-]+)=("[^"]*"|[^",]*)\s*(?:,|$)')
_SUPPORTED_KEY_METHODS = frozenset({"NONE", "AES-128"})


class PlaylistError(ValueError):
    """The playlist is malformed or uses something showkeeper cannot download."""


@dataclass(frozen=True)
class Variant:
    """One stream of a master playlist."""

    uri: str
    bandwidth: int
    width: int | None = None
    height: int | None = None
    codecs: str | None = None


@dataclass(frozen=True)
class Key:
    """An ``#EXT-X-KEY``: METHOD=AES-128 with the key's URI and an optional explicit IV."""

    method: str
    uri: str
    iv: bytes | None = None

    def iv_for(self, sequence: int) -> bytes:
        """The IV of a segment: the explicit one, else the media sequence number (RFC 8216)."""
        return self.iv if self.iv is not None else sequence.to_bytes(16, "big")


@dataclass(frozen=True)
class InitSection:
    """An ``#EXT-X-MAP`` (fMP4 init section), optionally a byte range of its URI."""

    uri: str
    byterange: tuple[int, int] | None = None  # (length, offset)


@dataclass(frozen=True)
class Segment:
    """One media segment; ``byterange`` is (length, offset) within ``uri`` when given."""

    index: int
    uri: str
    duration: float
    sequence: int
    key: Key | None = None
    byterange: tuple[int, int] | None = None


@dataclass(frozen=True)
class MediaPlaylist:
    """A parsed media playlist."""

    segments: tuple[Segment, ...]
    target_duration: float
    media_sequence: int
    endlist: bool
    init: InitSection | None = None

    @property
    def total_duration(self) -> float:
        """Sum of the segments' EXTINF durations."""
        return sum(s.duration for s in self.segments)

    def fingerprint(self) -> str:
        """Identity of the content: changes when segments, durations or keys change.

        Query strings are left out, so rotating signed URLs do not count as a change.
        """
        digest = hashlib.sha256()
        parts = [self.init.uri if self.init else "", str(self.media_sequence)]
        for seg in self.segments:
            key = f"{seg.key.method}:{_path_of(seg.key.uri)}" if seg.key else ""
            parts.append(f"{_path_of(seg.uri)}|{seg.duration:.3f}|{seg.byterange}|{key}")
        digest.update("\n".join(parts).encode("utf-8"))
        return digest.hexdigest()


def _path_of(url: str) -> str:
    split = urlsplit(url)
    return f"{split.netloc}{split.path}"


def parse_attributes(text: str) -> dict[str, str]:
    """Parse an attribute list (``BANDWIDTH=1280000,RESOLUTION=640x360,CODECS="a,b"``)."""
    attributes: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _ATTRIBUTE.match(text, position)
        if match is None:
            raise PlaylistError(f"malformed attribute list {text[:80]!r}")
        value = match.group(2)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        attributes[match.group(1)] = value
        position = match.end()
    return attributes


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    lines = [line for line in lines if line]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise PlaylistError("not an HLS playlist (no #EXTM3U header)")
    return lines


def is_master(text: str) -> bool:
    """True for a master (multivariant) playlist."""
    return "#EXT-X-STREAM-INF" in text


def _int(value: str | None, what: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise PlaylistError(f"bad {what} {value!r}") from None


def parse_master(text: str, base_url: str) -> list[Variant]:
    """The variants of a master playlist, URIs made absolute against ``base_url``.

    Raises:
        PlaylistError: If it is not a playlist or lists no variant.
    """
    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for line in _lines(text):
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = parse_attributes(line.partition(":")[2])
        elif line.startswith("#"):
            continue
        elif pending is not None:
            width = height = None
            resolution = pending.get("RESOLUTION", "")
            if "x" in resolution:
                w, _, h = resolution.lower().partition("x")
                width, height = _int(w, "resolution"), _int(h, "resolution")
            variants.append(
                Variant(
                    uri=urljoin(base_url, line),
                    bandwidth=_int(pending.get("BANDWIDTH", "0"), "bandwidth"),
                    width=width,
                    height=height,
                    codecs=pending.get("CODECS"),
                )
            )
            pending = None
    if not variants:
        raise PlaylistError("master playlist lists no variant streams")
    return variants


def choose_variant(variants: list[Variant], max_height: int) -> Variant:
    """The highest-bandwidth variant whose height is within ``max_height``.

    Variants without a RESOLUTION count as fitting. When none fits, the smallest is taken.
    """
    fitting = [v for v in variants if v.height is None or v.height <= max_height]
    if not fitting:
        return min(variants, key=lambda v: (v.height or 0, v.bandwidth))
    return max(fitting, key=lambda v: (v.bandwidth, v.height or 0))


def _parse_byterange(value: str, next_offset: int) -> tuple[int, int]:
    length_text, _, offset_text = value.partition("@")
    length = _int(length_text, "byte range")
    offset = _int(offset_text, "byte range") if offset_text else next_offset
    return length, offset


def _parse_key(value: str, base_url: str) -> Key | None:
    attributes = parse_attributes(value)
    method = attributes.get("METHOD", "")
    if method == "NONE":
        return None
    if method not in _SUPPORTED_KEY_METHODS:
        raise PlaylistError(f"encryption METHOD={method} is not supported (only AES-128)")
    if "URI" not in attributes:
        raise PlaylistError("#EXT-X-KEY with METHOD=AES-128 has no URI")
    iv: bytes | None = None
    if "IV" in attributes:
        raw = attributes["IV"]
        if not raw.lower().startswith("0x"):
            raise PlaylistError(f"bad key IV {raw!r}")
        try:
            iv = bytes.fromhex(raw[2:].rjust(32, "0"))
        except ValueError:
            raise PlaylistError(f"bad key IV {raw!r}") from None
        if len(iv) != 16:
            raise PlaylistError(f"bad key IV {raw!r} (must be 128 bits)")
    return Key(method=method, uri=urljoin(base_url, attributes["URI"]), iv=iv)


def parse_media(text: str, base_url: str) -> MediaPlaylist:
    """Parse a media playlist, URIs made absolute against ``base_url``.

    Raises:
        PlaylistError: If it is malformed, a master playlist, or uses an unsupported
            encryption method or several different EXT-X-MAP sections.
    """
    lines = _lines(text)
    if is_master(text):
        raise PlaylistError("expected a media playlist, got a master playlist")
    segments: list[Segment] = []
    target = 0.0
    media_sequence = 0
    endlist = False
    key: Key | None = None
    init: InitSection | None = None
    duration: float | None = None
    pending_range: str | None = None
    next_offset: dict[str, int] = {}
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXTINF":
            try:
                duration = float(value.split(",", 1)[0])
            except ValueError:
                raise PlaylistError(f"bad #EXTINF duration {value[:40]!r}") from None
        elif tag == "#EXT-X-TARGETDURATION":
            target = float(_int(value, "target duration"))
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            media_sequence = _int(value, "media sequence")
        elif tag == "#EXT-X-ENDLIST":
            endlist = True
        elif tag == "#EXT-X-KEY":
            key = _parse_key(value, base_url)
        elif tag == "#EXT-X-MAP":
            attributes = parse_attributes(value)
            if "URI" not in attributes:
                raise PlaylistError("#EXT-X-MAP has no URI")
            section_range = None
            if "BYTERANGE" in attributes:
                section_range = _parse_byterange(attributes["BYTERANGE"], 0)
            section = InitSection(urljoin(base_url, attributes["URI"]), section_range)
            if init is not None and section != init:
                raise PlaylistError("several different #EXT-X-MAP sections are not supported")
            init = section
        elif tag == "#EXT-X-BYTERANGE":
            pending_range = value
        elif line.startswith("#"):
            continue
        else:
            if duration is None:
                raise PlaylistError(f"segment {line[:80]!r} has no #EXTINF before it")
            uri = urljoin(base_url, line)
            byterange = None
            if pending_range is not None:
                byterange = _parse_byterange(pending_range, next_offset.get(uri, 0))
                next_offset[uri] = byterange[1] + byterange[0]
                pending_range = None
            sequence = media_sequence + len(segments)
            segments.append(Segment(len(segments), uri, duration, sequence, key, byterange))
            duration = None
    if not segments:
        raise PlaylistError("media playlist lists no segments")
    return MediaPlaylist(tuple(segments), target, media_sequence, endlist, init)
