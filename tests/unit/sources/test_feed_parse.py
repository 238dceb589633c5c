"""Feed documents -> episodes, without a network."""

from datetime import date

import pytest

from showkeeper.sources.base import SourceError
from showkeeper.sources.feed_parse import looks_like_feed, parse_duration, parse_feed, plain_text
from tests.sources_docs import atom_feed, podcast_item, podcast_rss

URL = "https://podcast.example/feed/rss.xml"


def test_podcast_rss() -> None:
    doc = podcast_rss(
        [podcast_item(1, number=1), podcast_item(2, number=2), podcast_item(3, kind="bonus")]
    )
    parsed = parse_feed(doc, URL, "application/rss+xml")
    info = parsed.info
    assert (info.title, info.year, info.language) == ("The Test Podcast", 2024, "en-us")
    assert info.key == "podcast-example-feed-rss-xml"
    assert info.images == ("http://podcast.example/cover.jpg",)
    assert [(e.season, e.episode, e.remote_id) for e in parsed.episodes] == [
        (1, 1, "urn:ep:1"),
        (1, 2, "urn:ep:2"),
        (0, None, "urn:ep:3"),  # bonus: a special, numbered by the service
    ]
    first = parsed.episodes[0]
    assert first.air_date == date(2024, 1, 8) and first.duration_s == 1800
    # relative URLs are resolved against the feed's URL
    assert [(c.url, c.quality) for c in first.candidates] == [
        ("https://podcast.example/feed/video/ep1-1080.mp4", 1080),
        ("https://podcast.example/feed/video/ep1-720.mp4", 720),
        ("https://podcast.example/feed/video/ep1-480.mp4", 480),
        ("https://podcast.example/feed/audio/ep1.mp3", None),
    ]


def test_atom_lists_oldest_first_without_numbers() -> None:
    parsed = parse_feed(atom_feed([1, 2, 3]), "https://atom.example/feed.atom")
    assert [(e.remote_id, e.episode) for e in parsed.episodes] == [
        ("tag:atom.example,2024:1", None),
        ("tag:atom.example,2024:2", None),
        ("tag:atom.example,2024:3", None),
    ]
    assert parsed.episodes[0].candidates[0].url == "https://atom.example/media/chapter1.mp4"


def test_items_without_media_fall_back_to_their_page_and_hls_is_recognised() -> None:
    doc = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>Page only</title><link>https://video.example/watch/1</link><guid>p1</guid></item>
    <item><title>Stream</title><guid>s1</guid><enclosure url="https://cdn.example/s1/master.m3u8" type="application/x-mpegURL"/></item>
    <item><title>Pdf</title><guid>x1</guid><enclosure url="https://cdn.example/notes.pdf" type="application/pdf"/></item>
    </channel></rss>"""
    parsed = parse_feed(doc, URL)
    kinds = {e.title: [(c.kind, c.url) for c in e.candidates] for e in parsed.episodes}
    assert kinds == {
        "Page only": [("page", "https://video.example/watch/1")],
        "Stream": [("hls", "https://cdn.example/s1/master.m3u8")],
    }
    # undated items: a feed lists newest first, so they are numbered bottom-up
    assert [e.title for e in parsed.episodes] == ["Stream", "Page only"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"<!DOCTYPE html><html><body>hi</body></html>",
            "text/html",
            "returned an HTML page, not a feed",
        ),
        (
            b"<?xml version='1.0'?><rss><channel><title>x</title><item><title>a</item></channel>",
            "",
            "not well-formed XML (mismatched tag at line 1",
        ),
        (b'{"items": []}', "application/json", "is not a feed: it sent application/json"),
        (
            b"<?xml version='1.0'?><note><to>x</to></note>",
            "application/xml",
            "is not a feed (no RSS or Atom document found)",
        ),
    ],
)
def test_unusable_documents(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_feed(body, URL, content_type)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1:02:03", 3723),
        ("62:03", 3723),
        ("3723", 3723),
        ("3723.6", 3723),
        ("", None),
        ("soon", None),
        (None, None),
        ("0", None),
    ],
)
def test_parse_duration(value: str | None, seconds: int | None) -> None:
    assert parse_duration(value) == seconds


def test_helpers() -> None:
    assert plain_text("<p>Hello &amp; <b>bye</b></p>\n\n") == "Hello & bye"
    assert plain_text("") is None
    assert looks_like_feed(b'<?xml version="1.0"?><rss version="2.0">')
    assert not looks_like_feed(b"<!doctype html><html><rss>")
