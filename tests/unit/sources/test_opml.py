import pytest

from showkeeper.sources.opml import OpmlError, OpmlFeed, parse_opml
from tests.sources_docs import opml


def test_nested_outlines_and_duplicates() -> None:
    doc = opml(
        [
            ("A", "https://a.example/feed"),
            ("B", "https://b.example/rss"),
            ("A again", "https://a.example/feed"),
        ]
    )
    assert parse_opml(doc) == [
        OpmlFeed("https://a.example/feed", "A"),
        OpmlFeed("https://b.example/rss", "B"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml", "not valid XML"),
        (b"<rss version='2.0'/>", "not OPML (its root element is <rss>)"),
        (b"<opml version='2.0'><body><outline text='folder'/></body></opml>", "lists no feeds"),
        (b"<opml>" + b" " * (5 * 1024 * 1024) + b"</opml>", "larger than 5 MiB"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
            b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
            b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
            b'<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
            b'<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
            b'<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">]>'
            b'<opml><body><outline xmlUrl="&lol8;"/></body></opml>',
            "not valid XML",
        ),
    ],
)
def test_bad_files(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        parse_opml(data)
    assert info.value.status_code == 400
