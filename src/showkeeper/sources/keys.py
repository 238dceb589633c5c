"""Series keys from titles (or source URLs), and the URL form used to recognise a series twice."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection

from yarl import URL

from showkeeper.net import UnsafeURLError, check_url

MAX_KEY_LENGTH = 120
KEY_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,198}[a-z0-9])?$")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_NOISE_HOST_PREFIXES = ("www.",)


class InvalidKeyError(ValueError):
    """A user-supplied key is not a slug."""


def normalize_url(url: str) -> str:
    """The stored form of a source URL: checked (http/https only), no fragment,
    lower-case scheme and host, no default port.

    Raises:
        UnsafeURLError: the URL cannot be fetched by showkeeper (scheme, host, userinfo).
    """
    parsed = check_url(url.strip())
    host = (parsed.raw_host or "").lower()
    port = parsed.explicit_port
    if port == {"http": 80, "https": 443}.get(parsed.scheme.lower()):
        port = None
    built = URL.build(
        scheme=parsed.scheme.lower(),
        host=host,
        port=port,
        path=parsed.raw_path or "/",
        query_string=parsed.raw_query_string,
        encoded=True,
    )
    return str(built)


def slugify(text: str) -> str:
    """ASCII lower-case words joined by dashes ("" when nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def slug_from_url(url: str) -> str:
    """A deterministic key for a source URL: a slug of host (and port) + path.

    ``https://feeds.example.com/show.xml`` -> ``feeds-example-com-show-xml``. Long slugs are
    cut and end with a short hash of the whole URL so they stay distinct.
    """
    parsed = URL(url)
    host = (parsed.raw_host or "").lower()
    for prefix in _NOISE_HOST_PREFIXES:
        host = host.removeprefix(prefix)
    parts = [host]
    if parsed.explicit_port is not None:
        parts.append(str(parsed.explicit_port))
    parts.append(parsed.path)
    if parsed.raw_query_string:
        parts.append(parsed.query_string)
    return _cut(slugify(" ".join(parts)) or "series", url)


def _cut(slug: str, whole: str) -> str:
    """``slug`` within MAX_KEY_LENGTH: a long one is cut and ends with a hash of ``whole``."""
    if len(slug) <= MAX_KEY_LENGTH:
        return slug
    digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
    return slug[: MAX_KEY_LENGTH - 9].rstrip("-") + "-" + digest


def slug_from_title(title: str) -> str:
    """A readable key from a series title: ``"The Tour Show!"`` -> ``the-tour-show``.

    "" when the title has no ASCII letter or digit left (the caller falls back to the URL).
    """
    return _cut(slugify(title), title)


def host_slug(url: str) -> str:
    """The source's host as a key part: ``https://www.feeds.example.com/x`` ->
    ``feeds-example-com`` (the port is kept when not the default one)."""
    parsed = URL(url)
    host = (parsed.raw_host or "").lower()
    for prefix in _NOISE_HOST_PREFIXES:
        host = host.removeprefix(prefix)
    port = parsed.explicit_port
    return slugify(f"{host} {port}" if port is not None else host)


def key_for_title(title: str, url: str, taken: Collection[str]) -> str:
    """The key of a new series named ``title`` from ``url``: the title's slug; when that is
    taken, the slug with the source's host added; when that is taken too, a number.

    A title without a usable slug falls back to :func:`slug_from_url`.
    """
    base = slug_from_title(title)
    if not base:
        return unique_key(slug_from_url(url), taken)
    if base not in taken:
        return base
    host = host_slug(url)
    with_host = _cut(f"{base}-{host}", f"{title} {url}") if host else base
    if with_host not in taken:
        return with_host
    return unique_key(base, taken)


def unique_key(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def unique_folder(base: str, taken: Collection[str]) -> str:
    """``base``, or ``base (2)``, ``base (3)``... whichever is not taken (case-insensitive)."""
    lowered = {t.lower() for t in taken}
    if base.lower() not in lowered:
        return base
    n = 2
    while f"{base} ({n})".lower() in lowered:
        n += 1
    return f"{base} ({n})"


def check_key(key: str) -> str:
    """Validate a user-chosen key. Raises InvalidKeyError."""
    if not KEY_RE.match(key):
        raise InvalidKeyError(
            f"key {key!r} is not valid: use 1-200 lower-case letters, digits and dashes, "
            "starting and ending with a letter or digit"
        )
    return key


__all__ = [
    "KEY_RE",
    "InvalidKeyError",
    "UnsafeURLError",
    "check_key",
    "host_slug",
    "key_for_title",
    "normalize_url",
    "slug_from_title",
    "slug_from_url",
    "slugify",
    "unique_folder",
    "unique_key",
]
