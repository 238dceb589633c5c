"""What a downloaded file is, from its first bytes: the one definition of "looks like media".

Servers lie about content types, and a yt-dlp page or a plugin may hand over anything: an HTML
error page, a `.desktop` launcher (UTF-8 or UTF-16), a PE or ELF executable. A file is media
only when it starts like a container showkeeper writes into the library; its extension is the
one of that container, never the server's word. (downloads/verify.py adds the second half of
the rule: ffprobe must find an audio or video stream with a duration.)
"""

from __future__ import annotations

HEAD_BYTES = 4096

_ISO_BRANDS = {b"M4A ": "m4a", b"M4B ": "m4a", b"M4P ": "m4a", b"M4V ": "m4v", b"qt  ": "mov"}
_EBML = b"\x1a\x45\xdf\xa3"
_TS_PACKET = 188


def container_of(head: bytes) -> str | None:
    """The extension (among those we write) of the container `head` starts like, or None."""
    if head[4:8] == b"ftyp":  # ISO base media: MP4, M4A, M4V, QuickTime
        return _ISO_BRANDS.get(head[8:12], "mp4")
    if head.startswith(_EBML):
        return "webm" if b"webm" in head[:64] else "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"OggS"):
        return "opus" if b"OpusHead" in head[:256] else "ogg"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) > 2 * _TS_PACKET and all(
        head[i] == 0x47 for i in range(0, min(len(head), 8 * _TS_PACKET), _TS_PACKET)
    ):
        return "ts"  # a sync byte at the start of every 188-byte packet
    if len(head) >= 4 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
            return "aac"
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 0x03 == 1 and 0 < head[2] >> 4 < 0x0F:
            return "mp3"  # an MPEG audio layer III frame header with a valid bitrate index
    return None


def describe(head: bytes) -> str:
    """What a file that is not media looks like, for the reason recorded on the item."""
    if not head:
        return "it is empty"
    if head.startswith(b"MZ"):
        return "it is a Windows executable"
    if head.startswith(b"\x7fELF"):
        return "it is an ELF executable"
    for magic, name in ((b"FLV", "FLV"), (b"\x30\x26\xb2\x75", "ASF/WMV"), (b"fLaC", "FLAC")):
        if head.startswith(magic):
            return f"it is {name}, not a container showkeeper writes"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_text(head):
        return "it is UTF-16 text"
    if b"\x00" not in head[:512] and _mostly_printable(head):
        return "it is text"
    return "it is not a known audio or video container"


def _utf16_text(head: bytes) -> bool:
    sample = head[: 512 - 512 % 2]
    zeros_odd = sum(1 for b in sample[1::2] if b == 0)
    zeros_even = sum(1 for b in sample[0::2] if b == 0)
    half = max(1, len(sample) // 2)
    return max(zeros_odd, zeros_even) > 0.8 * half


def _mostly_printable(head: bytes) -> bool:
    text = head[:HEAD_BYTES].decode("utf-8", errors="ignore")
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n\f")
    return bool(text) and printable >= 0.95 * len(text)
