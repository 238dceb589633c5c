"""A user's package adds a source kind through the `showkeeper.sources` entry-point group."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from showkeeper.context import AppContext
from showkeeper.db.models import Episode
from showkeeper.sources.base import UnknownSourceKindError
from showkeeper.sources.registry import ENTRY_POINT_GROUP, get_source, kinds, source_classes
from showkeeper.sources.service import add_series

PLUGIN = """
from showkeeper.domain.candidates import Candidate
from showkeeper.sources.base import RemoteEpisode, SeriesInfo, Source


class DemoSource(Source):
    kind = "demo"
    label = "Demo"

    @classmethod
    def matches_url(cls, url):
        return "/demo/" in url

    async def probe(self, url):
        return SeriesInfo(key="demo", title="Demo Show", year=2021)

    async def episodes(self, series):
        return [
            RemoteEpisode(remote_id=f"d{n}", season=1, episode=n, title=f"Demo {n}",
                          candidates=(Candidate(url=f"{series.url}{n}.mp4"),))
            for n in (1, 2)
        ]
"""


@pytest.fixture
def demo_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution (a .dist-info on sys.path) declaring the entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sk_demo_plugin.py").write_text(PLUGIN)
    info = site / "sk_demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sk-demo-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(f"""
        [{ENTRY_POINT_GROUP}]
        demo = sk_demo_plugin:DemoSource
        """)
    )
    monkeypatch.syspath_prepend(str(site))
    source_classes.cache_clear()
    yield
    source_classes.cache_clear()


def test_builtins_are_registered_as_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"feed", "ytdlp", "httpdir"} <= names


async def test_plugin_source_is_found_and_used(demo_plugin: None, ctx: AppContext) -> None:
    assert "demo" in kinds()
    series = await add_series(ctx, "https://plugin.example/demo/")  # claimed by its URL
    assert (series.source_kind, series.name, series.folder) == (
        "demo",
        "Demo Show",
        "Demo Show (2021)",
    )
    async with ctx.db.session() as s:
        urls = list(await s.scalars(select(Episode.candidates)))
    assert [c[0]["url"] for c in urls] == [
        "https://plugin.example/demo/1.mp4",
        "https://plugin.example/demo/2.mp4",
    ]


async def test_unknown_kind(ctx: AppContext) -> None:
    from showkeeper.sources.fetching import source_env

    async with source_env(ctx.settings) as env:
        with pytest.raises(
            UnknownSourceKindError,
            match="unknown source kind 'nope'; known kinds: feed, httpdir, ytdlp",
        ):
            get_source("nope", env)
