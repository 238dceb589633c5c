"""Probe a candidate: is it alive, where does it redirect, what is it, and how to fetch it.

HEAD first; when HEAD fails or is refused, a ``GET`` with ``Range: bytes=0-0`` (which also
tells whether the server honours ranges). A 4xx/5xx or connection error fails the probe.
A candidate whose source gave its type and size (:func:`is_known_media`) is not probed: the
engine reads the same answers from its GET's headers (:func:`result_of`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy

from showkeeper.domain.candidates import Candidate
from showkeeper.domain.queue_rules import THROTTLE_STATUSES
from showkeeper.downloads.retry import is_transient
from showkeeper.downloads.transfer import Method, TransferError, http_status_error
from showkeeper.net import HttpClient, OutboundError, parse_retry_after

__all__ = [
    "HLS_TYPES",
    "ProbeResult",
    "classify",
    "extension_for_type",
    "is_known_media",
    "probe",
    "result_of",
]

HLS_TYPES = frozenset(
    {
        "application/vnd.apple.mpegurl",
        "application/x-mpegurl",
        "audio/mpegurl",
        "audio/x-mpegurl",
    }
)
_BINARY_TYPES = frozenset({"application/octet-stream", "binary/octet-stream", "application/mp4"})
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TYPE_EXTENSIONS = {
    "video/mp4": "mp4",
    "application/mp4": "mp4",
    "video/x-m4v": "m4v",
    "video/x-matroska": "mkv",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/x-msvideo": "avi",
    "video/mp2t": "ts",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/mpeg": "mp3",
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
}
_CONTENT_RANGE_TOTAL = re.compile(r"^\s*bytes\s+(?:\d+-\d+|\*)/(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ProbeResult:
    """What the probe learned about a candidate."""

    url: str
    """Final URL after redirects."""
    status: int
    content_type: str
    """Lower-case media type without parameters ('' when absent)."""
    length: int | None
    """Full size in bytes, when the server told."""
    accepts_ranges: bool
    etag: str | None
    last_modified: str | None
    method: Method

    def validator(self) -> str | None:
        """A strong validator for ``If-Range`` (a strong ETag, else Last-Modified)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified


def extension_for_type(content_type: str) -> str | None:
    """The file extension of a media type, when it names a known container."""
    return _TYPE_EXTENSIONS.get(content_type)


def _url_suffix(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).suffix.lower()


def classify(candidate: Candidate, final_url: str, content_type: str) -> Method:
    """Decide how to fetch: direct HTTP, HLS or yt-dlp.

    Raises:
        TransferError: If the content type is something showkeeper cannot download.
    """
    if (
        content_type in HLS_TYPES
        or _url_suffix(final_url) == ".m3u8"
        or (candidate.kind == "hls" and content_type in ("", "text/plain", *_BINARY_TYPES))
    ):
        return "hls"
    if candidate.kind == "page" or content_type in _PAGE_TYPES:
        return "ytdlp"
    major = content_type.partition("/")[0]
    if major in ("video", "audio") or content_type in _BINARY_TYPES:
        return "direct"
    if not content_type and candidate.kind == "direct":
        return "direct"
    raise TransferError(f"{final_url} serves {content_type or 'no content type'}, not media")


def _parse_length(headers: CIMultiDictProxy[str], status: int) -> int | None:
    if status == 206:
        match = _CONTENT_RANGE_TOTAL.match(headers.get("Content-Range", ""))
        return int(match.group(1)) if match else None
    value = headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def is_known_media(candidate: Candidate) -> bool:
    """Whether the source already said what ``candidate`` is: a direct candidate with a
    media type (audio, video or a binary type; not a playlist) and a size. Such a candidate
    needs no probe: its GET answers the same questions (:func:`result_of`)."""
    if candidate.kind != "direct" or not candidate.size or candidate.size <= 0:
        return False
    mime = (candidate.mime or "").partition(";")[0].strip().lower()
    if not mime:
        return False
    try:
        return classify(candidate, candidate.url, mime) == "direct"
    except TransferError:
        return False


def result_of(
    candidate: Candidate, url: str, status: int, headers: CIMultiDictProxy[str]
) -> ProbeResult:
    """What a response to a HEAD or a GET (``url`` after redirects) says about the candidate.

    Raises:
        TransferError: If its content type is not something showkeeper can download.
    """
    content_type = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    return ProbeResult(
        url=url,
        status=status,
        content_type=content_type,
        length=_parse_length(headers, status),
        accepts_ranges=status == 206 or headers.get("Accept-Ranges", "").lower() == "bytes",
        etag=headers.get("ETag"),
        last_modified=headers.get("Last-Modified"),
        method=classify(candidate, url, content_type),
    )


async def probe(client: HttpClient, candidate: Candidate) -> ProbeResult:
    """Probe ``candidate``: HEAD, falling back to a one-byte ranged GET.

    Args:
        client: The shared HTTP client.
        candidate: What to probe; its headers are sent.

    Returns:
        The final URL, status, type, size, range support and the method to use.

    Raises:
        TransferError: If the candidate answers 4xx/5xx, cannot be reached, or is not media.
    """
    headers = dict(candidate.headers)
    try:
        url, status, head_headers = await client.head(candidate.url, headers=headers)
        if 200 <= status < 300:
            return result_of(candidate, url, status, head_headers)
        if status in THROTTLE_STATUSES:  # asking again at once with GET would hammer it
            raise http_status_error(status, url, parse_retry_after(head_headers.get("Retry-After")))
    except OutboundError:
        pass  # some servers refuse or mishandle HEAD: ask with GET
    try:
        async with client.stream(candidate.url, headers={**headers, "Range": "bytes=0-0"}) as resp:
            await client.drain(resp)  # one byte (or a short error page): keep the connection
            if not 200 <= resp.status < 300:
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                raise http_status_error(resp.status, str(resp.url), retry_after)
            return result_of(candidate, str(resp.url), resp.status, resp.headers)
    except OutboundError as exc:
        raise TransferError(str(exc), transient=is_transient(exc)) from exc
