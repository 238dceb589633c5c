"""`showkeeper series ...` and `showkeeper source ...` through Typer's CliRunner, against
Python's real http.server serving the feeds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from showkeeper.cli import app
from tests.sources_docs import opml, podcast_item, podcast_rss

runner = CliRunner()


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("SHOWKEEPER_SCHEDULER_ENABLED", "false")

    def invoke(*args: str):
        return runner.invoke(app, ["--data-dir", str(data_dir), *args])

    return invoke


def ls(cli) -> dict[str, dict]:
    result = cli("series", "ls", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)  # one JSON document, nothing else on stdout
    return {row["key"]: row for row in rows}


def test_add_list_refresh(cli, http_server_dir: tuple[Path, str]) -> None:
    root, base = http_server_dir
    (root / "show.xml").write_bytes(podcast_rss([podcast_item(n, number=n) for n in (1, 2)]))

    added = cli("series", "add", f"{base}/show.xml")
    assert added.exit_code == 0, added.output
    assert (
        "added The Test Podcast as the-test-podcast (feed)" in added.output
        and "2 episodes" in added.output
    )
    assert "no metadata written (library_dir is not set" in added.output
    (key,) = ls(cli)
    assert key == "the-test-podcast"
    assert ls(cli)[key]["status"] == "completed" and ls(cli)[key]["kind"] == "feed"

    twice = cli("series", "add", f"{base}/show.xml")
    assert twice.exit_code == 1 and "already has this source URL" in twice.output
    assert "Traceback" not in twice.output

    unchanged = cli("source", "refresh")
    assert unchanged.exit_code == 0, unchanged.output
    assert "refreshed 1 series" in unchanged.output and "0 new episodes" in unchanged.output

    feed = root / "show.xml"
    feed.write_bytes(podcast_rss([podcast_item(n, number=n) for n in (1, 2, 3)]))
    # http.server's Last-Modified has one-second resolution: make the change visible
    later = feed.stat().st_mtime + 10
    os.utime(feed, (later, later))
    one = cli("source", "refresh", key)
    assert one.exit_code == 0, one.output
    assert "1 new episodes" in one.output
    assert ls(cli)[key]["episodes"] == 3
    table = cli("series", "ls")
    assert table.exit_code == 0 and "completed" in table.output and "feed" in table.output


def test_failed_add_is_recorded_and_retried(cli, http_server_dir: tuple[Path, str]) -> None:
    root, base = http_server_dir
    (root / "late.xml").write_bytes(b"<html><body>soon</body></html>")
    failed = cli("series", "add", f"{base}/late.xml", "--kind", "feed")
    assert failed.exit_code == 1
    assert "HTML page, not a feed" in failed.output and "recorded as failed" in failed.output
    ((key, row),) = ls(cli).items()
    assert row["status"] == "failed" and row["episodes"] == 0
    again = cli("series", "add", f"{base}/late.xml", "--kind", "feed")  # still failing
    assert again.exit_code == 1 and "recorded as failed" in again.output
    assert list(ls(cli)) == [key]  # the same series, not a second one

    (root / "late.xml").write_bytes(podcast_rss([podcast_item(1)]))
    assert key.startswith("127-0-0-1-")  # its title was never read: a key from the URL
    fixed = cli("series", "add", f"{base}/late.xml")  # the same command, once fixed
    assert fixed.exit_code == 0, fixed.output
    assert "added The Test Podcast as the-test-podcast" in fixed.output
    key = "the-test-podcast"  # its first load gave it the title's key; the URL's is gone
    assert list(ls(cli)) == [key]
    assert ls(cli)[key]["status"] == "completed" and ls(cli)[key]["episodes"] == 1
    refused = cli("series", "add", f"{base}/late.xml")  # loaded: a second add is refused
    assert refused.exit_code == 1 and "already has this source URL" in refused.output
    (root / "other.xml").write_bytes(b"<html></html>")
    cli("series", "add", f"{base}/other.xml", "--kind", "feed")
    (root / "other.xml").write_bytes(podcast_rss([podcast_item(1)]))
    other = next(k for k in ls(cli) if k != key)
    retried = cli("series", "retry", other)  # retry by key works too
    assert retried.exit_code == 0, retried.output
    port = base.rsplit(":", 1)[1]
    other = f"the-test-podcast-127-0-0-1-{port}"  # the title's key was taken: host added
    assert f"loaded The Test Podcast ({other})" in retried.output
    assert ls(cli)[other]["status"] == "completed"
    missing = cli("source", "refresh", "no-such-key")
    assert missing.exit_code == 2 and "no series 'no-such-key'" in missing.output


def test_add_with_kind_and_bad_option(cli, http_server_dir: tuple[Path, str]) -> None:
    root, base = http_server_dir
    (root / "Cartoon" / "Season 1").mkdir(parents=True)
    (root / "Cartoon" / "Season 1" / "Cartoon S01E01.mkv").write_bytes(b"\0" * 10)
    bad = cli("series", "add", f"{base}/Cartoon/", "--include", "(")
    assert bad.exit_code == 1 and "option include is not a valid regular expression" in bad.output
    assert ls(cli) == {}
    added = cli("series", "add", f"{base}/Cartoon/", "--kind", "httpdir")
    assert added.exit_code == 0, added.output
    assert "added Cartoon" in added.output and "(httpdir): 1 episodes" in added.output


def test_import_opml(cli, http_server_dir: tuple[Path, str], tmp_path: Path) -> None:
    root, base = http_server_dir
    (root / "a.xml").write_bytes(podcast_rss([podcast_item(1)], title="Alpha"))
    (root / "b.xml").write_bytes(b"not xml")
    subs = tmp_path / "subs.opml"
    subs.write_bytes(opml([("Alpha", f"{base}/a.xml"), ("Beta", f"{base}/b.xml")]))
    result = cli("source", "import-opml", str(subs))
    assert result.exit_code == 0, result.output
    assert "1 added, 0 already present, 1 failed, 0 invalid" in result.output
    statuses = sorted(row["status"] for row in ls(cli).values())
    assert statuses == ["completed", "failed"]
    not_opml = tmp_path / "x.opml"
    not_opml.write_bytes(b"<html/>")
    bad = cli("source", "import-opml", str(not_opml))
    assert bad.exit_code == 1 and "not OPML" in bad.output


def test_keys_come_from_titles(cli, http_server_dir: tuple[Path, str]) -> None:
    """A readable key from the title; the host, then a number, only when it is taken;
    --key sets one; a key never changes afterwards."""
    root, base = http_server_dir
    for name in ("a.xml", "b.xml", "c.xml", "d.xml"):
        (root / name).write_bytes(podcast_rss([podcast_item(1)], title="Tour Show!"))
    (root / "e.xml").write_bytes(podcast_rss([podcast_item(1)], title="../../etc"))
    port = base.rsplit(":", 1)[1]
    keys = []
    for name in ("a.xml", "b.xml", "c.xml"):
        added = cli("series", "add", f"{base}/{name}")
        assert added.exit_code == 0, added.output
        keys.append(next(k for k in ls(cli) if k not in keys))
    assert keys == ["tour-show", f"tour-show-127-0-0-1-{port}", "tour-show-2"]
    own = cli("series", "add", f"{base}/d.xml", "--key", "my-tour")
    assert own.exit_code == 0 and "as my-tour" in own.output
    taken = cli("series", "add", f"{base}/e.xml", "--key", "my-tour")
    assert taken.exit_code == 1 and "already has this key" in taken.output
    hostile = cli("series", "add", f"{base}/e.xml")
    assert hostile.exit_code == 0, hostile.output
    assert "as etc (feed)" in hostile.output
    (root / "a.xml").write_bytes(podcast_rss([podcast_item(1)], title="Renamed Show"))
    assert cli("source", "refresh").exit_code == 0
    assert sorted(ls(cli)) == sorted([*keys, "my-tour", "etc"])  # keys never change
