"""Is a downloaded file plausibly media? A check on its first bytes, before it is filed.

Servers lie about content types: an HTML error page, a script or a `.desktop` launcher
served as `application/octet-stream` or `video/mp4` must not land in the library under a
media name. Real containers are binary; these impostors are text.
"""

from __future__ import annotations

HEAD_BYTES = 4096

# Binary signatures of containers we accept, checked first so no media is refused.
_MAGIC_AT_0 = (
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
    b"RIFF",  # AVI, WAV
    b"OggS",
    b"fLaC",
    b"FLV",
    b"ID3",  # MP3 with tags
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"\x00\x00\x01\xb3",  # MPEG video
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF / WMV
)
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"styp", b"sidx")


def has_media_signature(head: bytes) -> bool:
    """True when the bytes start like a known audio/video container."""
    if head.startswith(_MAGIC_AT_0) or head[4:8] in _MP4_BOXES:
        return True
    if head[:1] == b"\x47" and (len(head) < 189 or head[188:189] == b"\x47"):
        return True  # MPEG transport stream: a sync byte every 188 bytes
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0  # MP3/AAC frame


def looks_like_text(head: bytes) -> bool:
    """True when the bytes read as text (HTML, JSON, scripts, launchers)."""
    if b"\x00" in head:
        return False
    sample = head[:HEAD_BYTES]
    # A multi-byte character may be cut at the end of the sample.
    text = sample.decode("utf-8", errors="ignore")
    if len(text.encode("utf-8")) < len(sample) - 3:
        return False  # not valid UTF-8: binary
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n\f")
    return printable >= 0.95 * max(1, len(text))


def is_plausible_media(head: bytes) -> bool:
    """Whether a file starting with `head` may be filed as media.

    Empty files and text are refused; anything binary is accepted (we cannot know
    every container, and a binary impostor cannot be launched by a media library).
    """
    if not head:
        return False
    return has_media_signature(head) or not looks_like_text(head)
