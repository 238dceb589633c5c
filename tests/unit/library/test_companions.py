"""Companions of a video: the one list rename and retention use."""

from __future__ import annotations

from pathlib import Path

from showkeeper.library.companions import FolderNames, companion_suffixes, with_suffix

NAMES = [
    "Show - S01E02.mkv",
    "Show - S01E02.nfo",
    "Show - S01E02-thumb.jpg",
    "Show - S01E02.srt",
    "Show - S01E02.en.srt",
    "Show - S01E02.pt-BR.vtt",
    "Show - S01E02.two.dots.srt",
    "Show - S01E02.txt",
    "Show - S01E02 - Extra.nfo",
    "Show - S01E03.nfo",
    "Show - S01E02.mkv.part",
]


def test_companion_suffixes() -> None:
    assert companion_suffixes(NAMES, "Show - S01E02.mkv") == [
        "-thumb.jpg",
        ".en.srt",
        ".nfo",
        ".pt-BR.vtt",
        ".srt",
    ]


def test_the_folder_index_finds_the_same(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / name).write_text("x")
    names = FolderNames()
    video = str(tmp_path / "Show - S01E02.mkv")
    assert names.companions(video) == companion_suffixes(NAMES, "Show - S01E02.mkv")
    assert names.companions(str(tmp_path / "Show - S01E03.mkv")) == [".nfo"]
    assert names.companions(str(tmp_path / "gone" / "x.mkv")) == []
    assert with_suffix(video, ".nfo") == str(tmp_path / "Show - S01E02.nfo")
