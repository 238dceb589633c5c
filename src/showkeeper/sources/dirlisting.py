"""HTTP directory index pages (nginx and Apache autoindex, Python http.server) -> entries.

Pure code. Every link of the page is read; an entry is a link that resolves to a direct
child of the listed directory (parent links, sort links and links elsewhere are dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

_LISTING_RE = re.compile(
    rb"<title>\s*(?:index of|directory listing for)\s|<h1>\s*(?:index of|directory listing for)\s",
    re.I,
)
# nginx writes "<a href=..>name</a>   01-Jan-2024 00:00   12345" (size "-" for folders).
_NGINX_TAIL_RE = re.compile(r"^\s+\S+\s+\S+\s+(\d+|-)\s*$")


@dataclass(frozen=True, slots=True)
class DirEntry:
    name: str
    url: str
    is_dir: bool
    size: int | None = None


def is_listing(body: bytes) -> bool:
    """True for a server-generated directory index page."""
    return _LISTING_RE.search(body[:8192]) is not None


def directory_url(url: str) -> str:
    """The URL with the trailing slash a directory's relative links are resolved against."""
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return parts._replace(path=path, query="", fragment="").geturl()


def directory_name(url: str) -> str:
    """The last path segment of a directory URL, decoded ("" for the server root)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


@dataclass(slots=True)
class _Link:
    href: str
    text: str = ""
    tail: str = ""


class _Links(HTMLParser):
    """Collects <a href> links with their text and the plain text right after them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[_Link] = []
        self._in_a = False
        self._in_tail = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_tail = False
        if tag == "a":
            href = dict(attrs).get("href")
            self._in_a = bool(href)
            if href:
                self.links.append(_Link(href))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._in_a:
            self._in_a = False
            self._in_tail = True
        else:
            self._in_tail = False

    def handle_data(self, data: str) -> None:
        if self._in_a:
            self.links[-1].text += data
        elif self._in_tail:
            self.links[-1].tail += data


def parse_listing(body: bytes, url: str) -> list[DirEntry]:
    """The files and folders a directory index page lists, in page order, each once."""
    base = directory_url(url)
    base_parts = urlsplit(base)
    parser = _Links()
    parser.feed(body.decode("utf-8", errors="replace"))
    parser.close()
    entries: list[DirEntry] = []
    seen: set[str] = set()
    for link in parser.links:
        href = link.href.strip()
        if not href or href.startswith(("?", "#", "mailto:", "javascript:")):
            continue
        target = urlsplit(urljoin(base, href))
        if (target.scheme, target.netloc) != (base_parts.scheme, base_parts.netloc):
            continue
        if not target.path.startswith(base_parts.path) or target.path == base_parts.path:
            continue
        rest = target.path[len(base_parts.path) :]
        is_dir = rest.endswith("/")
        name = unquote(rest.rstrip("/"))
        if not name or "/" in rest.rstrip("/") or name in (".", ".."):
            continue
        absolute = target._replace(query="", fragment="").geturl()
        if absolute in seen:
            continue
        seen.add(absolute)
        size = None
        tail = _NGINX_TAIL_RE.match(link.tail)
        if tail and tail.group(1).isdigit() and not is_dir:
            size = int(tail.group(1))
        entries.append(DirEntry(name=name, url=absolute, is_dir=is_dir, size=size))
    return entries
