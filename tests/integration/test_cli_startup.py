"""The CLI starts light: heavy libraries load only in the commands that use them.

Speed itself is measured in bench/startup.py; this checks the structure that makes it fast
(and small: `get` of a feed loads no server module),
in a fresh interpreter each time (modules a test imported must not hide a regression).
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.downloads.servers import media_bytes

HEAVY = ("sqlalchemy", "alembic", "uvicorn", "fastapi", "yt_dlp", "apprise", "guessit", "aiohttp")

# main() ends the process itself (after the exit handlers): the report is an exit handler
PROBE = """
import atexit, json, sys
from showkeeper.cli import main
heavy = json.loads(sys.argv[2])
sys.argv = ["showkeeper", *json.loads(sys.argv[1])]
atexit.register(
    lambda: print(json.dumps({"loaded": sorted(m for m in heavy if m in sys.modules)}))
)
main()
"""


def loaded_by(
    args: list[str], heavy: tuple[str, ...], tmp_path: Path, **env: str
) -> dict[str, object]:
    """Run `showkeeper ARGS` in a fresh interpreter: its exit code and which of heavy loaded."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(heavy)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "SHOWKEEPER_DATA_DIR": str(tmp_path / "data"), **env},
    )
    assert out.stdout.strip(), out.stderr[-2000:]
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    result["code"] = out.returncode
    assert result["code"] == 0, out.stderr[-2000:]
    return result


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["queue", "--help"]])
def test_help_and_version_load_nothing_heavy(args: list[str], tmp_path: Path) -> None:
    result = loaded_by(args, (*HEAVY, "pydantic", "rich", "showkeeper.config"), tmp_path)
    assert result["code"] == 0
    if args == ["--version"]:
        assert result["loaded"] == []
    else:  # typer itself brings pydantic and rich (its help); our settings stay out
        assert not set(result["loaded"]) & {*HEAVY, "showkeeper.config"}


@pytest.fixture
def media_server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "clip.mp4").write_bytes(media_bytes(4096))  # real media: only that is filed

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetch_loads_the_engine_but_not_the_server_or_the_database(
    media_server: str, tmp_path: Path
) -> None:
    dest = tmp_path / "out.mp4"
    args = ["fetch", f"{media_server}/clip.mp4", "-o", str(dest)]
    # the SSRF guard refuses loopback unless it is allowed
    result = loaded_by(args, HEAVY, tmp_path, SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8")
    assert dest.read_bytes() == (tmp_path / "www" / "clip.mp4").read_bytes()
    assert result["loaded"] == ["aiohttp"]  # the one HTTP stack; no database, no server


# What only the server uses (the web framework and its pages, metrics, notifications, the
# calendar, password hashing), yt-dlp's extractors (a feed is no yt-dlp site: asked of a child
# interpreter) and Pillow (no artwork in this feed): none of it in a download command.
SERVER_ONLY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "prometheus_client",
    "apprise",
    "icalendar",
    "argon2",
    "asyncpg",
    "yt_dlp",
    "PIL",
    "showkeeper.web",
)


def test_get_of_a_feed_loads_no_server_module_and_no_alembic(
    media_server: str, tmp_path: Path
) -> None:
    (tmp_path / "www" / "feed.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Startup Show</title>'
        "<item><title>Pilot</title><guid>pilot</guid>"
        f'<enclosure url="{media_server}/clip.mp4" type="video/mp4" length="4096"/>'
        "</item></channel></rss>"
    )
    args = ["get", f"{media_server}/feed.xml", "--library", str(tmp_path / "library")]
    env = {"SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8"}
    first = loaded_by(args, (*SERVER_ONLY, "alembic"), tmp_path, **env)
    assert [p.name for p in (tmp_path / "library").rglob("*.mp4")] != []
    assert first["loaded"] == []  # a new database is migrated by a child process
    again = loaded_by(args, (*SERVER_ONLY, "alembic"), tmp_path, **env)
    assert again["loaded"] == []  # at the migrations' heads: nothing to migrate
