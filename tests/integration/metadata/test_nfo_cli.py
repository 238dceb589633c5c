"""`showkeeper nfo`: write, repair, errors a user can read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from showkeeper.cli import app
from showkeeper.metadata.nfo import read_nfo
from tests.unit.library.trees import make_tree

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, library_dir: Path) -> Path:
    monkeypatch.setenv("SHOWKEEPER_LIBRARY_DIR", str(library_dir))
    return data_dir


def invoke(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def test_nfo_writes_and_repairs(cli_env: Path, library_dir: Path) -> None:
    make_tree(library_dir, ["Pier (2020)/Season 01/Pier S01E01.mkv"])
    (library_dir / "Pier (2020)/key").write_text("pier\n")
    assert invoke(cli_env, "scan").exit_code == 0

    first = invoke(cli_env, "nfo", "--series", "pier")
    assert first.exit_code == 0, first.output
    assert "1 series loaded" in " ".join(first.output.split())
    show = read_nfo(library_dir / "Pier (2020)/tvshow.nfo")
    assert show["uniqueids"] == {"showkeeper": "pier"}
    episode = library_dir / "Pier (2020)/Season 01/Pier S01E01.nfo"
    assert read_nfo(episode)["episode"] == 1

    nothing = invoke(cli_env, "nfo", "--repair")
    assert nothing.exit_code == 0 and "0 series loaded" in " ".join(nothing.output.split())
    episode.unlink()
    repaired = invoke(cli_env, "nfo", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "1 series loaded" in " ".join(repaired.output.split())
    assert read_nfo(episode)["episode"] == 1

    unknown = invoke(cli_env, "nfo", "--series", "nope")
    assert unknown.exit_code == 1
    assert "no series with key 'nope'" in unknown.output
