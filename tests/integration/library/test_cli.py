import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from showkeeper.cli import app
from tests.unit.library.trees import make_tree

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, library_dir: Path) -> Path:
    monkeypatch.setenv("SHOWKEEPER_LIBRARY_DIR", str(library_dir))
    return data_dir


def invoke(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def test_scan_and_missing(cli_env: Path, library_dir: Path) -> None:
    make_tree(
        library_dir,
        ["Show/Season 01/Show S01E01.mkv", "Show/Season 01/Trailer.mkv", "Show/Show S01E02.mkv"],
    )
    (library_dir / "Show/key").write_text("show\n")
    (library_dir / "Show/data").write_text('{"episodeDict": {"1": [1, 2, 3]}}')
    make_tree(library_dir, ["Unknown Show/x S01E01.mkv"])

    result = invoke(cli_env, "scan")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "scanned 2 series folders" in out
    assert "series imported 1" in out and "unmapped folders 1" in out
    assert "Unknown Show" in out and "Show/Season 01/Trailer.mkv" in out

    missing = invoke(cli_env, "missing", "--json")
    assert missing.exit_code == 0, missing.output
    items = json.loads(missing.output)
    assert [(m["series_key"], m["season"], m["episode"]) for m in items] == [("show", 1, 3)]
    table = invoke(cli_env, "missing", "--series", "show")
    assert (
        table.exit_code == 0 and "S01E03" in table.output and "1 missing episodes" in table.output
    )

    targeted = invoke(cli_env, "scan", "--series", "show", "--full")
    assert targeted.exit_code == 0, targeted.output
    assert "scanned 1 series folders" in " ".join(targeted.output.split())


def test_scan_errors_are_one_line(cli_env: Path, library_dir: Path) -> None:
    unknown = invoke(cli_env, "scan", "--series", "nope")
    assert unknown.exit_code == 2 and "no series 'nope'" in unknown.output
    library_dir.rmdir()
    gone = invoke(cli_env, "scan")
    assert gone.exit_code == 1
    assert "does not exist" in gone.output and "Traceback" not in gone.output
    assert invoke(cli_env, "missing", "--series", "nope").exit_code == 2
