import pytest

from showkeeper.net import UnsafeURLError
from showkeeper.sources.keys import (
    KEY_RE,
    MAX_KEY_LENGTH,
    InvalidKeyError,
    check_key,
    host_slug,
    key_for_title,
    normalize_url,
    slug_from_title,
    slug_from_url,
    unique_folder,
    unique_key,
)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://feeds.example.com/show.xml", "feeds-example-com-show-xml"),
        ("https://www.example.com/podcasts/The_Show/", "example-com-podcasts-the-show"),
        ("http://127.0.0.1:8080/a/b.rss", "127-0-0-1-8080-a-b-rss"),
        ("https://example.com/feed?id=42", "example-com-feed-id-42"),
        ("https://example.com/Ünïcödé Shöw", "example-com-unicode-show"),
        ("https://example.com/", "example-com"),
    ],
)
def test_slug_from_url(url: str, slug: str) -> None:
    assert slug_from_url(url) == slug
    assert slug_from_url(url) == slug_from_url(url)  # deterministic


def test_long_slugs_are_cut_and_stay_distinct() -> None:
    a = slug_from_url("https://example.com/" + "a" * 300 + "/1")
    b = slug_from_url("https://example.com/" + "a" * 300 + "/2")
    assert len(a) <= 120 and len(b) <= 120 and a != b
    check_key(a)


def test_normalize_url() -> None:
    assert normalize_url("HTTPS://Example.COM:443/Feed.xml#top") == "https://example.com/Feed.xml"
    assert normalize_url(" http://example.com:80 ") == "http://example.com/"
    assert normalize_url("http://example.com:8080/a?b=1") == "http://example.com:8080/a?b=1"
    with pytest.raises(UnsafeURLError, match="only http:// and https://"):
        normalize_url("file:///etc/passwd")
    with pytest.raises(UnsafeURLError, match="user name or password"):
        normalize_url("https://user:pw@example.com/feed")


def test_unique_key_and_folder() -> None:
    assert unique_key("show", set()) == "show"
    assert unique_key("show", {"show", "show-2"}) == "show-3"
    assert unique_folder("Show (2020)", {"show (2020)"}) == "Show (2020) (2)"
    assert unique_folder("Show", {"Other"}) == "Show"


@pytest.mark.parametrize("key", ["Bad Key", "-x", "x-", "", "a" * 201, "ümlaut"])
def test_check_key_refuses(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        check_key(key)


def test_check_key_accepts() -> None:
    assert check_key("my-show-2") == "my-show-2"
    assert check_key("a") == "a"


def test_keys_from_titles() -> None:
    url = "https://www.feeds.example.com/show.xml"
    assert slug_from_title("The Tour Show!") == "the-tour-show"
    assert slug_from_title("Émission spéciale") == "emission-speciale"
    assert slug_from_title("../../etc") == "etc"
    assert slug_from_title("日本語") == ""
    assert host_slug(url) == "feeds-example-com"
    assert host_slug("http://127.0.0.1:8080/f") == "127-0-0-1-8080"
    assert key_for_title("Tour Show", url, set()) == "tour-show"
    assert key_for_title("Tour Show", url, {"tour-show"}) == "tour-show-feeds-example-com"
    taken = {"tour-show", "tour-show-feeds-example-com"}
    assert key_for_title("Tour Show", url, taken) == "tour-show-2"
    assert key_for_title("Tour Show", url, {*taken, "tour-show-2"}) == "tour-show-3"
    # nothing readable in the title: the URL's key
    assert key_for_title("日本語", url, set()) == "feeds-example-com-show-xml"
    long = key_for_title("word " * 100, url, set())
    assert len(long) <= MAX_KEY_LENGTH and KEY_RE.match(long)
    assert len(key_for_title("word " * 100, url, {long})) <= MAX_KEY_LENGTH
