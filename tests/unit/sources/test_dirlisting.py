"""Index pages of nginx, Apache and Python's http.server -> entries."""

from showkeeper.sources.dirlisting import (
    DirEntry,
    directory_name,
    directory_url,
    is_listing,
    parse_listing,
)
from tests.sources_docs import apache_index, nginx_index

PYTHON = b"""<!DOCTYPE HTML>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Directory listing for /shows/Show%20A/</title>
</head>
<body>
<h1>Directory listing for /shows/Show%20A/</h1>
<hr>
<ul>
<li><a href="Season%201/">Season 1/</a></li>
<li><a href="Show%20A%20S01E01.mkv">Show A S01E01.mkv</a></li>
<li><a href="link%40">link@</a></li>
</ul>
<hr>
</body>
</html>
"""


def test_python_http_server() -> None:
    assert is_listing(PYTHON)
    entries = parse_listing(PYTHON, "http://h:8000/shows/Show%20A/")
    assert entries == [
        DirEntry("Season 1", "http://h:8000/shows/Show%20A/Season%201/", True),
        DirEntry("Show A S01E01.mkv", "http://h:8000/shows/Show%20A/Show%20A%20S01E01.mkv", False),
        DirEntry("link@", "http://h:8000/shows/Show%20A/link%40", False),
    ]


def test_nginx_with_exact_sizes() -> None:
    page = nginx_index("/tv/X/", ["Season 2"], [("X S02E01 [720p].mkv", 1234567)])
    assert is_listing(page)
    entries = parse_listing(page, "https://files.example/tv/X")  # no slash: still a directory
    assert entries == [
        DirEntry("Season 2", "https://files.example/tv/X/Season%202/", True),
        DirEntry(
            "X S02E01 [720p].mkv",
            "https://files.example/tv/X/X%20S02E01%20%5B720p%5D.mkv",
            False,
            1234567,
        ),
    ]


def test_apache_skips_sort_links_and_parent() -> None:
    page = apache_index("/shows/Y", ["Specials"], [("Y.S01E01.mp4", "1.2M")])
    assert is_listing(page)
    entries = parse_listing(page, "http://h/shows/Y/")
    assert [(e.name, e.is_dir, e.size) for e in entries] == [
        ("Specials", True, None),
        ("Y.S01E01.mp4", False, None),
    ]


def test_links_elsewhere_are_ignored() -> None:
    page = b"""<html><head><title>Index of /a/</title></head><body><pre>
    <a href="http://other.example/a/x.mkv">x</a><a href="/b/y.mkv">y</a><a href="sub/deeper/z.mkv">z</a>
    <a href="#top">top</a><a href="mailto:a@b">m</a><a href="ok.mkv">ok</a><a href="ok.mkv?dl=1">again</a>
    </pre></body></html>"""
    assert [e.name for e in parse_listing(page, "http://h/a/")] == ["ok.mkv"]


def test_not_a_listing() -> None:
    assert not is_listing(
        b"<html><head><title>My blog</title></head><body><a href='x.mkv'>x</a></body></html>"
    )


def test_directory_helpers() -> None:
    assert directory_url("http://h/a/b?x=1") == "http://h/a/b/"
    assert directory_name("http://h/shows/Show%20(2020)/") == "Show (2020)"
    assert directory_name("http://h/") == ""
