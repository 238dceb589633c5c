"""The ElementTree fast path reads what feedparser reads, and leaves it the rest."""

import pytest

from showkeeper.sources.feed_fast import read_fast
from showkeeper.sources.feed_parse import parse_feed
from tests.sources_docs import atom_feed, podcast_item, podcast_rss

URL = "https://podcast.example/feeds/show.xml"

MIXED = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Caf\xe9 &amp; Co</title><description><![CDATA[<p>Talk <b>about</b> things</p>]]></description>
<image><url>/art.png</url><title>x</title><link>/</link></image>
<item><title><![CDATA[Ep <i>one</i>]]></title><guid>https://podcast.example/e/1</guid><dc:date>2024-03-01T10:00:00Z</dc:date>
  <media:group><media:content url="/v/1-720.mp4" type="video/mp4" height="720" fileSize="7"/>
  <media:content url="/v/1-360.mp4" type="video/mp4" height="360"/></media:group></item>
<item><title>Ep two</title><guid isPermaLink="false">two</guid><link>https://podcast.example/page/2</link>
  <pubDate>Fri, 08 Mar 2024 10:00:00 +0100</pubDate><itunes:duration>5:00</itunes:duration>
  <enclosure url="https://cdn.example/2.m4a" type="audio/x-m4a" length="99"/>
  <enclosure url="https://cdn.example/2.mp3" type="audio/mpeg" length="98"/></item>
<item><title>Page only</title><link>https://video.example/watch/3</link></item>
<item><title>Nothing</title><guid>https://podcast.example/e/4</guid></item>
</channel></rss>"""

DOCS = {
    "podcast": podcast_rss(
        [
            podcast_item(1, number=1),
            podcast_item(2, season=2, number=5),
            podcast_item(3, kind="trailer"),
        ]
    ),
    "podcast-unnumbered": podcast_rss(
        [podcast_item(n, season=None, alternates=n % 2 == 0) for n in range(1, 7)]
    ),
    "atom": atom_feed([1, 2, 3, 4]),
    "mixed": MIXED,
}


@pytest.mark.parametrize("name", sorted(DOCS))
def test_fast_path_equals_feedparser(name: str) -> None:
    body = DOCS[name]
    assert read_fast(body) is not None
    fast = parse_feed(body, URL, "application/xml")
    slow = parse_feed(body, URL, "application/xml", fast=False)
    assert fast.info == slow.info
    assert fast.episodes == slow.episodes
    assert fast.episodes  # the documents do hold episodes


def test_mixed_document_details() -> None:
    parsed = parse_feed(MIXED, URL)
    assert parsed.info.title == "Café & Co" and parsed.info.overview == "Talk about things"
    assert parsed.info.images == ("https://podcast.example/art.png",)
    by_title = {e.title: e for e in parsed.episodes}
    assert set(by_title) == {"Ep one", "Ep two", "Page only"}
    assert [c.url for c in by_title["Ep one"].candidates] == [
        "https://podcast.example/v/1-720.mp4",
        "https://podcast.example/v/1-360.mp4",
    ]
    assert by_title["Ep two"].remote_id == "two" and by_title["Ep two"].duration_s == 300
    assert by_title["Ep two"].published is not None and by_title["Ep two"].published.hour == 9
    assert [c.size for c in by_title["Ep two"].candidates] == [99, 98]
    assert by_title["Page only"].candidates[0].kind == "page"


@pytest.mark.parametrize(
    "body",
    [
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>a&nbsp;b</title></channel></rss>",
        b"<?xml version='1.0'?><rss version='0.91'><channel><title>old</title></channel></rss>",
        b"<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>",
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' xml:base='http://x/'><title>b</title></feed>",
        b"<html><body>not a feed</body></html>",
        b"<rss version='2.0'><channel><title>broken</channel></rss>",
    ],
)
def test_unusual_documents_go_to_feedparser(body: bytes) -> None:
    assert read_fast(body) is None


def test_entity_document_still_parses_through_feedparser() -> None:
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>A&nbsp;B</title>"
        b"<item><title>x</title><guid>g</guid><enclosure url='http://h/x.mp3' type='audio/mpeg'/></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(body, URL)
    assert parsed.info.title == "A B"  # &nbsp; read, then spaces normalised
    assert [e.remote_id for e in parsed.episodes] == ["g"]
