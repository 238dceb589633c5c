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
    assert unknown.exit_code == 2  # not found: a usage error
    assert "nope" in unknown.output
    by_folder = invoke(cli_env, "nfo", "--series", "Pier (2020)")
    assert by_folder.exit_code == 0 and "1 series loaded" in " ".join(by_folder.output.split())


def test_series_add_writes_metadata_like_the_server(
    cli_env: Path, library_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from PIL import Image

    from tests.metadata_site import jpeg

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    served = tmp_path / "served"
    served.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (served / "cover.jpg").write_bytes(jpeg(500, 500))
    (served / "show.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>Pier</title>'
        f'<itunes:image href="{base}/cover.jpg"/><item><title>One</title><guid>p1</guid>'
        f'<enclosure url="{base}/1.mp4" type="video/mp4" length="9"/></item></channel></rss>'
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    try:
        added = invoke(cli_env, "series", "add", f"{base}/show.xml")
    finally:
        server.shutdown()
        server.server_close()
    assert added.exit_code == 0, added.output
    assert "metadata loaded (1 images written)" in added.output
    with Image.open(library_dir / "Pier/poster.jpg") as img:
        assert img.size == (500, 500)
    assert read_nfo(library_dir / "Pier/tvshow.nfo")["title"] == "Pier"
