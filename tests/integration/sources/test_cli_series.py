"""`showkeeper series show|edit|rm` and series references (key, folder, unique prefix), as
real subprocesses against a real SQLite file and Python's http.server serving the feeds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sources_docs import podcast_item, podcast_rss


@pytest.fixture
def sk(data_dir: Path, library_dir: Path, tmp_path: Path):
    """Run `showkeeper ARGS` in a new process: (exit code, stdout, stderr)."""
    env = {
        **os.environ,
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_LIBRARY_DIR": str(library_dir),
        "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "SHOWKEEPER_SCHEDULER_ENABLED": "false",
        "COLUMNS": "200",
    }

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, "-m", "showkeeper", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            input=stdin,
            timeout=120,
        )
        return done.returncode, done.stdout, done.stderr

    return run


def _add(sk, root: Path, base: str, name: str, numbers: tuple[int, ...] = (1, 2, 3)) -> str:
    (root / f"{name}.xml").write_bytes(podcast_rss([podcast_item(n, number=n) for n in numbers]))
    code, _, err = sk("series", "add", f"{base}/{name}.xml", "--key", name)
    assert code == 0, err
    return name


def test_show_edit_and_references(sk, http_server_dir: tuple[Path, str]) -> None:
    root, base = http_server_dir
    _add(sk, root, base, "tour-show")
    _add(sk, root, base, "tour-extra", (1,))

    code, out, err = sk("series", "show", "tour-show", "--json")
    assert code == 0, err
    shown = json.loads(out)  # one JSON document on stdout, nothing else
    assert shown["key"] == "tour-show"
    assert [(e["episode"], e["state"]) for e in shown["episodes"]] == [
        (1, "missing"),
        (2, "missing"),
        (3, "missing"),
    ]
    # a unique prefix of the key works; an ambiguous one lists the candidates and exits 2
    code, out, _ = sk("series", "show", "tour-s", "--json")
    assert code == 0 and json.loads(out)["key"] == "tour-show"
    code, out, err = sk("series", "show", "tour")
    assert code == 2 and "tour-extra" in err and "tour-show" in err and out == ""
    code, _, err = sk("series", "show", "nothing-like-it")
    assert code == 2 and "no series 'nothing-like-it'" in err

    # the human view: seasons and states
    code, out, _ = sk("series", "show", "tour-show")
    assert code == 0 and "Season 1" in out and "S01E02" in out and "missing" in out

    # edit validates as the API does, and applies filters at once
    code, _, err = sk("series", "edit", "tour-show", "--exclude", "(unclosed")
    assert code == 1 and "exclude is not a valid regular expression" in err
    code, _, err = sk("series", "edit", "tour-show")
    assert code == 2 and "nothing to change" in err
    code, out, err = sk("series", "edit", "tour-show", "--exclude", "Topic 2$", "--json")
    assert code == 0, err
    assert json.loads(out)["missing_count"] == 2
    code, out, _ = sk("series", "show", "tour-show", "--json")
    assert [e["state"] for e in json.loads(out)["episodes"]] == ["missing", "filtered", "missing"]
    code, out, _ = sk("series", "edit", "tour-show", "--unmonitored", "--exclude", "", "--json")
    edited = json.loads(out)
    assert edited["monitored"] is False and "exclude" not in edited["options"]
    assert edited["missing_count"] == 0

    code, out, _ = sk("series", "ls", "--json")
    listed = {row["key"]: row for row in json.loads(out)}
    assert listed["tour-show"]["monitored"] is False and listed["tour-extra"]["missing"] == 1

    code, out, _ = sk("missing", "--series", "tour-e", "--json")
    assert code == 0 and [m["series_key"] for m in json.loads(out)] == ["tour-extra"]


def test_rm_deletes_only_inside_the_library(
    sk, http_server_dir: tuple[Path, str], library_dir: Path, tmp_path: Path
) -> None:
    root, base = http_server_dir
    _add(sk, root, base, "doomed")
    code, out, _ = sk("series", "show", "doomed", "--json")
    folder = library_dir / json.loads(out)["folder"]
    (folder / "Season 01").mkdir(parents=True)
    (folder / "Season 01" / "x.mp4").write_bytes(b"video")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.mp4").write_bytes(b"precious")
    (folder / "link").symlink_to(outside, target_is_directory=True)

    # asked, and "no" keeps everything
    code, _, err = sk("series", "rm", "doomed", "--delete-files", stdin="n\n")
    assert code == 1 and "nothing removed" in err
    assert (folder / "Season 01" / "x.mp4").exists()

    code, out, err = sk("series", "rm", "doomed", "--delete-files", "--yes")
    assert code == 0, err
    assert "removed" in out and "and its folder" in out
    assert not folder.exists()
    assert (outside / "keep.mp4").read_bytes() == b"precious"  # the link's target is untouched
    code, out, _ = sk("series", "ls", "--json")
    assert json.loads(out) == []
    code, _, err = sk("series", "rm", "doomed", "--yes")
    assert code == 2 and "no series 'doomed'" in err
