"""The sources' own metadata, read from documents (no network)."""

from __future__ import annotations

from showkeeper.sources.feed_meta import feed_metadata
from showkeeper.sources.ytdlp_source import channel_metadata

RSS = b"""<?xml version="1.0"?><rss version="2.0"
 xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
 xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Show</title><description>&lt;p&gt;About &amp;amp; more&lt;/p&gt;</description>
<itunes:author>Someone</itunes:author>
<itunes:category text="Arts"><itunes:category text="Design"/></itunes:category>
<itunes:image href="/cover.jpg"/><image><url>https://cdn.example/alt.png</url></image>
<item><guid>a-1</guid><description>First plot</description><itunes:image href="ep1.jpg"/>
<enclosure url="https://cdn.example/1.mp3" type="audio/mpeg"/></item>
<item><enclosure url="https://cdn.example/2.mp3" type="audio/mpeg"/>
<media:thumbnail url="javascript:alert(1)"/><media:thumbnail url="https://cdn.example/2.jpg"/></item>
<item><guid>a-3</guid></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:media="http://search.yahoo.com/mrss/"><title>A</title><subtitle>Sub</subtitle>
<logo>https://a.example/logo.png</logo><author><name>Ann</name></author>
<category term="News"/><entry><id>tag:a,1</id><summary>Sum</summary>
<media:thumbnail url="https://a.example/1.jpg"/></entry></feed>"""


def test_rss_channel_and_items() -> None:
    meta = feed_metadata(RSS, "https://feeds.example/show/rss")
    assert meta.overview == "About & more"
    assert meta.author == "Someone"
    assert meta.categories == ("Arts", "Design")
    assert meta.posters == ("https://feeds.example/cover.jpg", "https://cdn.example/alt.png")
    assert meta.episodes["a-1"].overview == "First plot"
    assert meta.episodes["a-1"].image == "https://feeds.example/show/ep1.jpg"
    # no guid: keyed by the enclosure URL, as feed_parse keys the episode; unsafe URLs dropped
    assert meta.episodes["https://cdn.example/2.mp3"].image == "https://cdn.example/2.jpg"
    assert "a-3" not in meta.episodes  # nothing to say about it


def test_atom_and_broken_documents() -> None:
    meta = feed_metadata(ATOM, "https://a.example/feed")
    assert (meta.overview, meta.author, meta.categories) == ("Sub", "Ann", ("News",))
    assert meta.posters == ("https://a.example/logo.png",)
    assert meta.episodes["tag:a,1"].image == "https://a.example/1.jpg"
    assert feed_metadata(b"<rss><channel><title>x</channel>", "https://x.example/").posters == ()
    assert feed_metadata(b"not xml at all", "https://x.example/").episodes == {}


def test_youtube_like_channel_prefers_uncropped_avatar_and_banner() -> None:
    info = {
        "description": "Channel about boats",
        "channel": "Boats",
        "webpage_url": "https://video.example/@boats",
        "thumbnails": [
            {
                "id": "avatar",
                "url": "https://img.example/avatar-crop.jpg",
                "width": 176,
                "height": 176,
            },
            {"id": "avatar_uncropped", "url": "https://img.example/avatar.jpg"},
            {
                "id": "banner",
                "url": "https://img.example/banner-crop.jpg",
                "width": 1060,
                "height": 175,
            },
            {"id": "banner_uncropped", "url": "https://img.example/banner.jpg"},
            {"id": "x", "url": "file:///etc/passwd"},
        ],
        "entries": [
            {
                "_type": "url",
                "id": "vid1",
                "url": "https://video.example/watch?v=vid1",
                "description": "Launch day",
                "thumbnails": [
                    {"url": "https://img.example/v1-small.jpg", "width": 120, "height": 90},
                    {"url": "https://img.example/v1-big.jpg", "width": 1280, "height": 720},
                ],
            },
            {"_type": "url", "id": "vid2", "url": "https://video.example/watch?v=vid2"},
        ],
    }
    meta = channel_metadata(info)
    assert meta.posters[:2] == (
        "https://img.example/avatar.jpg",
        "https://img.example/avatar-crop.jpg",
    )
    assert meta.fanart[0] == "https://img.example/banner.jpg"
    assert meta.banners[0] == "https://img.example/banner.jpg"
    assert all(not u.startswith("file:") for u in meta.posters + meta.fanart)
    assert meta.overview == "Channel about boats" and meta.author == "Boats"
    assert meta.episodes["vid1"].image == "https://img.example/v1-big.jpg"
    assert meta.episodes["vid1"].overview == "Launch day"
    assert "vid2" not in meta.episodes
