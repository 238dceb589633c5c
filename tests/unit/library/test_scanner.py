import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from showkeeper.library.identify import FolderIdentity
from showkeeper.library.scanner import (
    FolderPlan,
    FolderScan,
    list_root,
    scan_folders,
)
from tests.unit.library.trees import age, make_tree


def scan_one(root: Path, name: str, **plan: object) -> FolderScan:
    mtime = (root / name).stat().st_mtime_ns
    return scan_folders(str(root), [FolderPlan(name, mtime, **plan)])[0]  # type: ignore[arg-type]


def numbers(scan: FolderScan) -> dict[str, tuple[int | None, tuple[int, ...]] | None]:
    return {f.path: (f.season, f.episodes) if f.understood else None for f in scan.files}


def test_mixed_naming_and_season_folders(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        [
            "Show (2010)/Season 01/Show - S01E01 - Pilot.mkv",
            "Show (2010)/Season 01/02 - Second.mkv",
            "Show (2010)/S02/Show.S02E03.720p.WEB.x264-GRP.mkv",
            "Show (2010)/Staffel 3/Folge 4.mp4",
            "Show (2010)/Specials/Show - 01.mkv",
            "Show (2010)/Show 4x05.avi",
            "Show (2010)/Season 01/Behind the scenes.mkv",
            "Show (2010)/Season 01/notes.txt",
            "Show (2010)/Season 01/Show - S01E09.mkv.part",
            "Show (2010)/Season 01/Show - S01E01.sample.mkv",
            "Show (2010)/Extras/Show - S01E99.mkv",
            "Show (2010)/.hidden/Show - S01E98.mkv",
            "Show (2010)/Season 01/Disc 1/Show - S01E03.mkv",
            "Podcast/Podcast #12 - Guest.mp3",
        ],
        size=3,
    )
    scan = scan_one(tmp_path, "Show (2010)")
    assert numbers(scan) == {
        "Show (2010)/Season 01/Show - S01E01 - Pilot.mkv": (1, (1,)),
        "Show (2010)/Season 01/02 - Second.mkv": (1, (2,)),
        "Show (2010)/S02/Show.S02E03.720p.WEB.x264-GRP.mkv": (2, (3,)),
        "Show (2010)/Staffel 3/Folge 4.mp4": (3, (4,)),
        "Show (2010)/Specials/Show - 01.mkv": (0, (1,)),
        "Show (2010)/Show 4x05.avi": (4, (5,)),
        "Show (2010)/Season 01/Behind the scenes.mkv": None,
        "Show (2010)/Season 01/Disc 1/Show - S01E03.mkv": (1, (3,)),
    }
    assert {f.size for f in scan.files} == {3}
    assert scan.complete and scan.issues == [] and scan.vanished == []
    assert (
        set(scan.read)
        == set(scan.dirs)
        == {
            "Show (2010)",
            "Show (2010)/Season 01",
            "Show (2010)/Season 01/Disc 1",
            "Show (2010)/S02",
            "Show (2010)/Staffel 3",
            "Show (2010)/Specials",
        }
    )
    podcast = scan_one(tmp_path, "Podcast")
    assert numbers(podcast) == {"Podcast/Podcast #12 - Guest.mp3": (None, (12,))}


def test_root_listing(tmp_path: Path) -> None:
    tmp_path = tmp_path / "library"  # tmp_path itself holds the test's cwd
    make_tree(
        tmp_path,
        ["B/x.mkv", "A/x.mkv", "Extras/x.mkv", ".trash/x.mkv", "@eaDir/x", "stray S01E01.mkv"],
    )
    (tmp_path / "readme.txt").write_text("hi")
    os.symlink(tmp_path, tmp_path / "Loop")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.mkv")
    os.mkfifo(tmp_path / "pipe.mkv")
    listing = list_root(str(tmp_path))
    # "Extras" is skipped inside a series folder, but at the root it is a series (a sitcom)
    assert [name for name, _ in listing.folders] == ["A", "B", "Extras"]
    assert {(i.kind, i.path) for i in listing.issues} == {
        ("stray", "stray S01E01.mkv"),
        ("symlink_loop", "Loop"),
        ("broken_link", "dangling.mkv"),
    }


def test_symlink_loops_are_not_followed_and_links_elsewhere_are(tmp_path: Path) -> None:
    root = tmp_path / "library"
    elsewhere = tmp_path / "other-disk" / "Season 02"
    make_tree(root, ["Show/Season 01/Show S01E01.mkv"])
    make_tree(elsewhere.parent, ["Season 02/Show S02E01.mkv"])
    os.symlink("..", root / "Show/Season 01/loop")
    os.symlink(root, root / "Show/Season 01/library")
    os.symlink(elsewhere, root / "Show/Season 02")
    os.symlink(root / "missing.mkv", root / "Show/Season 01/Show S01E02.mkv")
    os.mkfifo(root / "Show/Season 01/Show S01E03.mkv")
    scan = scan_one(root, "Show")
    assert sorted(numbers(scan)) == [
        "Show/Season 01/Show S01E01.mkv",
        "Show/Season 02/Show S02E01.mkv",
    ]
    assert {(i.kind, i.path) for i in scan.issues} == {
        ("symlink_loop", "Show/Season 01/loop"),
        ("symlink_loop", "Show/Season 01/library"),
        ("broken_link", "Show/Season 01/Show S01E02.mkv"),
    }


def test_non_utf8_names_are_reported_not_fatal(tmp_path: Path) -> None:
    tmp_path = tmp_path / "library"  # tmp_path itself holds the test's cwd
    make_tree(tmp_path, ["Show/Season 01/Show S01E01.mkv"])
    season = os.fsencode(tmp_path / "Show" / "Season 01")
    with open(os.path.join(season, b"Show S01E02 \xff.mkv"), "wb"):
        pass
    os.mkdir(os.path.join(os.fsencode(tmp_path), b"Bad \xe9 Show"))
    scan = scan_one(tmp_path, "Show")
    assert list(numbers(scan)) == ["Show/Season 01/Show S01E01.mkv"]
    assert [(i.kind, i.path) for i in scan.issues] == [
        ("undecodable", "Show/Season 01/Show S01E02 \\xff.mkv")
    ]
    listing = list_root(str(tmp_path))
    assert [name for name, _ in listing.folders] == ["Show"]
    assert [(i.kind, i.path) for i in listing.issues] == [("undecodable", "Bad \\xe9 Show")]
    json.dumps([i.path for i in listing.issues + scan.issues]).encode("utf-8")  # storable


def test_too_deep(tmp_path: Path) -> None:
    make_tree(tmp_path, ["Show/a/b/c/d/S01E01.mkv", "Show/a/b/c/d/e/S01E02.mkv"])
    scan = scan_one(tmp_path, "Show")
    assert list(numbers(scan)) == ["Show/a/b/c/d/S01E01.mkv"]
    assert [(i.kind, i.path) for i in scan.issues] == [("too_deep", "Show/a/b/c/d/e")]


def test_unchanged_folders_are_not_read_again(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        ["Show/Season 01/S01E01.mkv", "Show/Season 02/S02E01.mkv", "Show/Season 02/x/S02E05.mkv"],
    )
    age(tmp_path)
    first = scan_one(tmp_path, "Show")
    assert len(first.read) == 4 and all(m > 0 for m in first.dirs.values())

    again = scan_one(tmp_path, "Show", recorded=first.dirs)
    assert again.read == [] and again.files == [] and not again.changed
    assert again.dirs == first.dirs and not again.complete

    (tmp_path / "Show/Season 02/S02E02.mkv").touch()
    changed = scan_one(tmp_path, "Show", recorded=first.dirs)
    assert changed.read == ["Show/Season 02"]
    assert sorted(numbers(changed)) == ["Show/Season 02/S02E01.mkv", "Show/Season 02/S02E02.mkv"]
    assert changed.dirs["Show/Season 02"] == -1  # changed just now: read again next time

    age(tmp_path)
    recorded = scan_one(tmp_path, "Show", recorded=changed.dirs).dirs
    shutil.rmtree(tmp_path / "Show/Season 01")
    age(tmp_path)
    gone = scan_one(tmp_path, "Show", recorded=recorded)
    assert gone.read == ["Show"] and gone.vanished == ["Show/Season 01"]
    assert set(gone.dirs) == {"Show", "Show/Season 02", "Show/Season 02/x"}

    forced = scan_one(tmp_path, "Show", recorded=gone.dirs, force=True)
    assert len(forced.read) == 3 and forced.complete and len(forced.files) == 3


def test_racy_mtimes_are_not_trusted(tmp_path: Path) -> None:
    make_tree(tmp_path, ["Show/S01E01.mkv"])
    mtime = (tmp_path / "Show").stat().st_mtime_ns
    plan = FolderPlan("Show", mtime)
    assert scan_folders(str(tmp_path), [plan], now_ns=mtime + 10**9)[0].dirs == {"Show": -1}
    assert scan_folders(str(tmp_path), [plan], now_ns=mtime + 3 * 10**9)[0].dirs == {"Show": mtime}


def test_unidentified_folder_reads_only_its_top_level(tmp_path: Path) -> None:
    make_tree(tmp_path, ["Show/Season 01/S01E01.mkv", "Known/S01E01.mkv"])
    (tmp_path / "Known/key").write_text("known\n")
    unknown = scan_one(tmp_path, "Show", identify=True)
    assert unknown.identity is None and not unknown.walked
    assert unknown.read == ["Show"] and unknown.files == []
    known = scan_one(tmp_path, "Known", identify=True)
    assert isinstance(known.identity, FolderIdentity) and known.identity.key == "known"
    assert known.walked and len(known.files) == 1


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir every user can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="showkeeper-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for dirpath, _dirs, _files in os.walk(path):
            os.chmod(dirpath, 0o755)
        shutil.rmtree(path)


def _scan_as(uid: int | None, root: Path, plan: FolderPlan) -> dict[str, object]:
    """Scan in a forked child that dropped to ``uid`` (root reads everything: chmod 000 does
    not stop it, so the unreadable-folder path needs an unprivileged process)."""
    if uid is None:
        scan = scan_folders(str(root), [plan])[0]
        return {"read": scan.read, "unreadable": scan.unreadable, "issues": [
            [i.kind, i.path, i.detail] for i in scan.issues], "files": [f.path for f in scan.files],
            "dirs": scan.dirs}  # fmt: skip
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            scan = scan_folders(str(root), [plan])[0]
            out = {
                "read": scan.read,
                "unreadable": scan.unreadable,
                "issues": [[i.kind, i.path, i.detail] for i in scan.issues],
                "files": [f.path for f in scan.files],
                "dirs": scan.dirs,
            }
            os.write(wfd, json.dumps(out).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    result: dict[str, object] = json.loads(data)
    return result


def test_unreadable_folder_is_reported_and_its_recorded_state_kept(shared_tmp: Path) -> None:
    make_tree(
        shared_tmp,
        ["Show/Season 01/S01E01.mkv", "Show/Season 02/S02E01.mkv", "Show/Season 02/x/S02E02.mkv"],
    )
    age(shared_tmp)
    recorded = scan_folders(
        str(shared_tmp), [FolderPlan("Show", (shared_tmp / "Show").stat().st_mtime_ns)]
    )[0].dirs
    (shared_tmp / "Show/Season 02").chmod(0o000)
    plan = FolderPlan("Show", (shared_tmp / "Show").stat().st_mtime_ns, recorded, force=True)
    out = _scan_as(65534 if os.geteuid() == 0 else None, shared_tmp, plan)
    assert out["unreadable"] == ["Show/Season 02"]
    assert out["files"] == ["Show/Season 01/S01E01.mkv"]
    assert out["issues"] == [["unreadable", "Show/Season 02", "Permission denied"]]
    # what the unreadable folder held is unknown: kept (to be read next time), not vanished
    assert out["dirs"] == {
        "Show": recorded["Show"],
        "Show/Season 01": recorded["Show/Season 01"],
        "Show/Season 02": -1,
        "Show/Season 02/x": -1,
    }
