"""OPML export of every feed source (API and CLI), and that importing it restores them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from showkeeper.cli import app
from tests.sources_docs import opml, podcast_item, podcast_rss

from .conftest import Site
from .test_api import wait_done

runner = CliRunner()
HOSTILE = 'Tricky <script>alert(1)</script> & "quotes"'


def outlines(doc: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(doc)
    assert root.tag == "opml"
    return [(o.get("title") or "", o.get("xmlUrl") or "") for o in root.iter("outline")]


async def test_export_then_import_restores_the_feeds(api: httpx.AsyncClient, site: Site) -> None:
    site.put("/one.xml", podcast_rss([podcast_item(1)], title="One"))
    site.put("/two.xml", podcast_rss([podcast_item(1)], title=HOSTILE))
    doc = opml([("One", site.url("/one.xml")), ("Two", site.url("/two.xml"))])
    report = (await api.post("/api/sources/import-opml", content=doc)).json()
    names = {}
    for added in report["added"]:
        done = await wait_done(api, added["key"])
        assert done["status"] == "completed"
        names[done["source_url"]] = done["name"]  # as the feed parser cleaned it

    resp = await api.get("/api/sources/opml")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/x-opml")
    exported = outlines(resp.content)
    assert sorted(exported) == sorted((name, url) for url, name in names.items())
    assert names[site.url("/one.xml")] == "One" and "&" in names[site.url("/two.xml")]
    assert b"<script>" not in resp.content  # escaped, as any XML value

    for added in report["added"]:
        assert (await api.delete(f"/api/series/{added['key']}")).status_code == 200
    assert outlines((await api.get("/api/sources/opml")).content) == []

    again = (await api.post("/api/sources/import-opml", content=resp.content)).json()
    assert again["invalid"] == [] and len(again["added"]) == 2
    for added in again["added"]:
        assert (await wait_done(api, added["key"]))["status"] == "completed"
    assert sorted(outlines((await api.get("/api/sources/opml")).content)) == sorted(exported)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("SHOWKEEPER_SCHEDULER_ENABLED", "false")

    def invoke(data_dir: Path, *args: str):
        return runner.invoke(app, ["--data-dir", str(data_dir), *args])

    return invoke


def sources(cli, data_dir: Path) -> set[tuple[str, str]]:
    result = cli(data_dir, "series", "ls", "--json")
    assert result.exit_code == 0, result.output
    return {(row["kind"], row["url"]) for row in json.loads(result.stdout)}


def test_cli_round_trip(cli, http_server_dir: tuple[Path, str], tmp_path: Path) -> None:
    root, base = http_server_dir
    (root / "a.xml").write_bytes(podcast_rss([podcast_item(1)], title="Alpha"))
    (root / "b.xml").write_bytes(podcast_rss([podcast_item(1)], title=HOSTILE))
    first, second = tmp_path / "first", tmp_path / "second"
    for name in ("a.xml", "b.xml"):
        added = cli(first, "series", "add", f"{base}/{name}")
        assert added.exit_code == 0, added.output
    out = tmp_path / "feeds.opml"
    exported = cli(first, "source", "export-opml", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert "2 feeds written" in exported.output
    titles = sorted(t for t, _ in outlines(out.read_bytes()))
    assert titles[0] == "Alpha" and titles[1].startswith("Tricky")

    imported = cli(second, "source", "import-opml", str(out))
    assert imported.exit_code == 0, imported.output
    assert "2 added" in imported.output
    assert sources(cli, second) == sources(cli, first)
    assert {kind for kind, _ in sources(cli, second)} == {"feed"}

    to_stdout = cli(second, "source", "export-opml", "-o", "-")
    assert to_stdout.exit_code == 0 and to_stdout.output.startswith("<?xml")
    nowhere = cli(second, "source", "export-opml", "-o", str(tmp_path / "no" / "such.opml"))
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output
    assert "Traceback" not in nowhere.output
